//! Command dispatch for the `basisset` binary.

use std::process::ExitCode;

use clap::Parser;

use crate::app;
use crate::auth::{Caller, Role, clients, keys::KeyFile};
use crate::config::{
    Cli, ClientCommand, Command, GlobalArgs, KeysCommand, LogFormat, OrganisationCommand,
    RollupCommand, SchemaKind, ServeArgs, UserCommand,
};
use crate::error::{AppError, AppResult};
use crate::registry::organisations::{self, NewOrganisation, ServedMunicipalityInput};

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
            let (_, _, prepared) = app::prepare_database(&db)?;
            tracing::info!(
                database = %db.target().redacted(),
                migrations = ?prepared.migrations_applied,
                catalogue_versions = ?prepared.catalogue_versions_written,
                reference_rows = prepared.reference_rows_written,
                "database is up to date"
            );
            Ok(())
        }
        Command::Schema { which } => match which {
            SchemaKind::Graphql => print_text(&crate::graphql::sdl()),
            SchemaKind::Openapi => print_text(&format!("{}\n", crate::http::openapi::document())),
        },
        Command::Client(cmd) => client_command(&global, cmd),
        Command::Organisation(cmd) => organisation_command(&global, cmd),
        Command::User(cmd) => user_command(&global, cmd),
        Command::Keys(cmd) => keys_command(cmd),
        Command::Bench(args) => crate::bench::run(&global, &args),
        Command::Rollup(cmd) => {
            let db = app::connect(&global)?;
            app::prepare_database(&db)?;
            let mut conn = db.get()?;
            match cmd {
                RollupCommand::Rebuild => {
                    let started = std::time::Instant::now();
                    let rows = crate::rollups::rebuild(&mut conn)?;
                    tracing::info!(rows, elapsed = ?started.elapsed(), "roll-ups rebuilt");
                    print_json(&serde_json::json!({ "rows": rows }))
                }
                RollupCommand::Check => {
                    let differences = crate::rollups::check(&mut conn)?;
                    let rows = crate::rollups::count(&mut conn)?;
                    print_json(&serde_json::json!({ "rows": rows, "differences": differences }))?;
                    if differences.is_empty() {
                        Ok(())
                    } else {
                        Err(AppError::internal(format!(
                            "{} roll-up(s) differ from the figures",
                            differences.len()
                        )))
                    }
                }
            }
        }
        Command::SeedDemo(args) => {
            let db = app::connect(&global)?;
            let (catalogue, reference, _) = app::prepare_database(&db)?;
            let mut conn = db.get()?;
            let opts = crate::demo::DemoOptions::new(
                args.organisations,
                args.from_year,
                args.to_year,
                args.seed,
            );
            let started = std::time::Instant::now();
            let report = crate::demo::seed(&mut conn, &catalogue, &reference, &opts)?;
            tracing::info!(?report, elapsed = ?started.elapsed(), "demo data set written");
            print_json(&report)
        }
    }
}

/// Print one JSON document on stdout (logs go to stderr). A closed pipe (`| head`) ends the
/// output quietly: the reader has what it wanted.
fn print_json<T: serde::Serialize>(value: &T) -> AppResult<()> {
    let text =
        serde_json::to_string_pretty(value).map_err(|e| AppError::internal(e.to_string()))?;
    print_text(&format!("{text}\n"))
}

/// Write to stdout; a closed pipe is not an error.
fn print_text(text: &str) -> AppResult<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(AppError::internal(format!("writing to stdout: {e}")))
        }
        _ => Ok(()),
    }
}

fn client_command(global: &GlobalArgs, cmd: ClientCommand) -> AppResult<()> {
    let db = app::connect(global)?;
    app::prepare_database(&db)?;
    let mut conn = db.get()?;
    let system = Caller::System;
    match cmd {
        ClientCommand::Create {
            role,
            name,
            organisation,
        } => {
            let role: Role = role
                .parse()
                .map_err(|e: String| AppError::validation("--role", "invalid_value", e))?;
            let created = clients::create(
                &mut conn,
                &system,
                clients::NewClient {
                    name,
                    role,
                    organisation_id: organisation,
                },
            )?;
            print_json(&created)
        }
        ClientCommand::List => print_json(&clients::list(&mut conn, &system)?),
        ClientCommand::Rotate { client_id } => {
            print_json(&clients::rotate(&mut conn, &system, &client_id)?)
        }
        ClientCommand::Revoke { client_id } => {
            print_json(&clients::revoke(&mut conn, &system, &client_id)?)
        }
    }
}

/// An invitation as printed: the link whole when the site's URL is known.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct PrintedInvitation {
    #[serde(flatten)]
    invitation: crate::users::Invitation,
    link: Option<String>,
}

fn printed(invitation: crate::users::Invitation, public_url: Option<String>) -> PrintedInvitation {
    let link = public_url.map(|u| format!("{}{}", u.trim_end_matches('/'), invitation.path));
    PrintedInvitation { invitation, link }
}

fn user_command(global: &GlobalArgs, cmd: UserCommand) -> AppResult<()> {
    use crate::users;
    let db = app::connect(global)?;
    app::prepare_database(&db)?;
    let mut conn = db.get()?;
    let system = Caller::System;
    match cmd {
        UserCommand::Invite {
            email,
            role,
            organisation,
            coordinator,
            public_url,
            hours,
        } => {
            let role: Role = role
                .parse()
                .map_err(|e: String| AppError::validation("--role", "invalid_value", e))?;
            let input = users::NewUser {
                email,
                role,
                organisation_id: organisation,
                coordinator,
            };
            let invitation = crate::db::transaction(&mut conn, |conn| {
                users::invite(conn, &system, input, chrono::TimeDelta::hours(hours.max(1)))
            })?;
            print_json(&printed(invitation, public_url))
        }
        UserCommand::List => print_json(&users::list(&mut conn, &system)?),
        UserCommand::Reset {
            id,
            public_url,
            hours,
        } => {
            let invitation = crate::db::transaction(&mut conn, |conn| {
                users::reset(conn, &system, id, chrono::TimeDelta::hours(hours.max(1)))
            })?;
            print_json(&printed(invitation, public_url))
        }
        UserCommand::Deactivate { id } => print_json(&crate::db::transaction(&mut conn, |conn| {
            users::set_active(conn, &system, id, false)
        })?),
        UserCommand::Activate { id } => print_json(&crate::db::transaction(&mut conn, |conn| {
            users::set_active(conn, &system, id, true)
        })?),
    }
}

fn organisation_command(global: &GlobalArgs, cmd: OrganisationCommand) -> AppResult<()> {
    let db = app::connect(global)?;
    let (_, reference, _) = app::prepare_database(&db)?;
    let mut conn = db.get()?;
    match cmd {
        OrganisationCommand::Create {
            name,
            team_type,
            form,
            municipalities,
            kvk,
            self_registration,
            provides_help,
        } => {
            let input = NewOrganisation {
                name,
                kvk,
                team_type: team_type
                    .parse()
                    .map_err(|e: String| AppError::validation("--team-type", "invalid_value", e))?,
                org_form: form
                    .parse()
                    .map_err(|e: String| AppError::validation("--form", "invalid_value", e))?,
                self_registration,
                provides_help_declared: provides_help,
                municipalities: municipalities
                    .into_iter()
                    .map(|code| ServedMunicipalityInput {
                        code,
                        valid_from: None,
                        valid_to: None,
                    })
                    .collect(),
                primary_municipality: None,
            };
            print_json(&organisations::create(
                &mut conn,
                &reference,
                &Caller::System,
                input,
            )?)
        }
        OrganisationCommand::List => print_json(&organisations::list(
            &mut conn,
            &reference,
            &Default::default(),
        )?),
    }
}

fn keys_command(cmd: KeysCommand) -> AppResult<()> {
    match cmd {
        KeysCommand::Rotate { file } => {
            let path = std::path::Path::new(&file);
            let mut keys = KeyFile::read(path)?;
            let kid = keys.rotate()?;
            keys.write(path, false)?;
            tracing::info!(%kid, path = %path.display(), "new active signing key; restart the service to use it");
            print_json(&serde_json::json!({ "active": kid, "keys": keys.keys.len() }))
        }
        KeysCommand::Prune { file } => {
            let path = std::path::Path::new(&file);
            let mut keys = KeyFile::read(path)?;
            let removed = keys.prune();
            keys.write(path, false)?;
            print_json(&serde_json::json!({ "active": keys.active, "removed": removed }))
        }
    }
}

fn serve(global: &GlobalArgs, args: ServeArgs) -> AppResult<()> {
    let db = app::connect(global)?;
    tracing::info!(database = %db.target().redacted(), "using database");
    let demo = args.demo;
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
    if demo {
        let mut conn = state.db.get()?;
        let empty =
            crate::registry::organisations::list(&mut conn, &state.reference, &Default::default())?
                .is_empty();
        if empty {
            let started = std::time::Instant::now();
            let report = crate::demo::seed(
                &mut conn,
                &state.catalogue,
                &state.reference,
                &crate::demo::DemoOptions::new(400, 2017, None, 2022),
            )?;
            tracing::info!(?report, elapsed = ?started.elapsed(), "seeded the demo data set");
        } else {
            tracing::info!("--demo: the database has organisations already; not seeding");
        }
    }
    actix_web::rt::System::new()
        .block_on(crate::server::serve(state))
        .map_err(|e| AppError::internal(format!("server: {e}")))
}
