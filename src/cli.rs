//! Command dispatch for the `basisset` binary.

use std::process::ExitCode;

use clap::Parser;

use crate::app;
use crate::config::{Cli, Command, GlobalArgs, LogFormat, SchemaKind, ServeArgs};
use crate::error::{AppError, AppResult};

pub fn main() -> ExitCode {
    let cli = parse_args(std::env::args_os().collect());
    init_logging(&cli.global);
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let problem = e.problem();
            tracing::error!(code = %problem.code, "{}", problem.detail);
            for issue in &problem.errors {
                tracing::error!(field = %issue.field, code = %issue.code, "{}", issue.message);
            }
            if let AppError::Internal(detail) = &e {
                eprintln!("error: {detail}");
            } else {
                eprintln!("error: {}", problem.detail);
            }
            ExitCode::FAILURE
        }
    }
}

/// Parse the command line; without a subcommand, `serve` is implied.
pub fn parse_args(args: Vec<std::ffi::OsString>) -> Cli {
    let cli = Cli::parse_from(args.clone());
    if cli.command.is_some() {
        return cli;
    }
    let mut with_serve = args;
    with_serve.push("serve".into());
    Cli::parse_from(with_serve)
}

fn init_logging(global: &GlobalArgs) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_new(&global.log).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match global.log_format {
        LogFormat::Json => builder.json().flatten_event(true).init(),
        LogFormat::Text => builder.init(),
    }
}

fn run(cli: Cli) -> AppResult<()> {
    let global = cli.global;
    match cli.command.expect("parse_args always sets a command") {
        Command::Serve(args) => serve(&global, *args),
        Command::Migrate => {
            let db = app::connect(&global)?;
            let (_, prepared) = app::build_state(db.clone(), ServeArgs::defaults())?;
            tracing::info!(
                database = %db.target().redacted(),
                migrations = ?prepared.migrations_applied,
                catalogue_versions = ?prepared.catalogue_versions_written,
                reference_rows = prepared.reference_rows_written,
                "database is up to date"
            );
            Ok(())
        }
        Command::Schema { which } => {
            match which {
                SchemaKind::Graphql => print!("{}", crate::graphql::sdl()),
                SchemaKind::Openapi => println!("{}", crate::http::openapi::document()),
            }
            Ok(())
        }
        other => Err(AppError::bad_request(
            "NOT_AVAILABLE",
            format!("command {other:?} is not available in this build"),
        )),
    }
}

fn serve(global: &GlobalArgs, args: ServeArgs) -> AppResult<()> {
    let db = app::connect(global)?;
    tracing::info!(database = %db.target().redacted(), "using database");
    let (state, prepared) = app::build_state(db, args)?;
    tracing::info!(
        migrations = ?prepared.migrations_applied,
        catalogue_versions_written = ?prepared.catalogue_versions_written,
        reference_rows_written = prepared.reference_rows_written,
        catalogue = %state.catalogue.current().version,
        indicators = state.catalogue.current().indicators.len(),
        municipalities = state.reference.list(None, None).map(|m| m.len()).unwrap_or(0),
        "database migrated and reference data loaded"
    );
    actix_web::rt::System::new()
        .block_on(crate::http::serve(state))
        .map_err(|e| AppError::internal(format!("server: {e}")))
}
