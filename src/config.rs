//! Command line and environment configuration (clap). Every option can also be given as an
//! environment variable; `basisset --help` and `basisset <command> --help` list them all.

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug, Clone)]
#[command(
    name = "basisset",
    version,
    about = "Basisset: wijkteam organisations post figures on a shared set of indicators; the \
             Associatie Wijkteams and the public query cross-municipal views.",
    long_about = None,
    after_help = "Without a command, `serve` runs. Environment variables are shown next to each option."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Args, Debug, Clone)]
pub struct GlobalArgs {
    /// Database: `postgres://user@host:5432/db` for PostgreSQL, or a SQLite file
    /// (`sqlite://basisset.db`, `sqlite:basisset.db` or a plain path).
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://basisset.db",
        global = true
    )]
    pub database_url: String,
    /// Maximum number of pooled database connections.
    #[arg(long, env = "BASISSET_POOL_SIZE", default_value_t = 10, global = true)]
    pub pool_size: u32,
    /// Seconds to wait for a free database connection before answering 503.
    #[arg(
        long,
        env = "BASISSET_POOL_TIMEOUT_SECS",
        default_value_t = 5,
        global = true
    )]
    pub pool_timeout_secs: u64,
    /// Log format: human-readable text or one JSON object per line.
    #[arg(long, env = "BASISSET_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
    /// Log filter (tracing EnvFilter syntax), e.g. `info` or `basisset=debug,actix_web=info`.
    #[arg(long, env = "BASISSET_LOG", default_value = "info", global = true)]
    pub log: String,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand, Debug, Clone)]
pub enum Command {
    /// Run the HTTP service (the default).
    Serve(Box<ServeArgs>),
    /// Apply pending database migrations and load the catalogue and reference data, then exit.
    Migrate,
    /// Manage API clients (OAuth2 client credentials).
    #[command(subcommand)]
    Client(ClientCommand),
    /// Manage wijkteam organisations in the registry.
    #[command(subcommand)]
    Organisation(OrganisationCommand),
    /// Manage people's accounts (the portal): invite, list, reset, deactivate.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage JWT signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Fill an empty database with a synthetic national data set (demo and benchmarks).
    SeedDemo(DemoArgs),
    /// Print the GraphQL schema (SDL) or the OpenAPI document generated from the code.
    Schema {
        #[arg(value_enum)]
        which: SchemaKind,
    },
    /// Run the performance benchmarks (see BENCHMARKS.md).
    Bench(BenchArgs),
    /// The roll-ups views read (counted figures summed per organisation, indicator and period).
    #[command(subcommand)]
    Rollup(RollupCommand),
}

#[derive(Subcommand, Debug, Clone)]
pub enum RollupCommand {
    /// Recompute every roll-up from the counted figures (in one transaction; views stay
    /// consistent meanwhile) and print the number of rows.
    Rebuild,
    /// Compare the roll-ups with a recomputation from the figures; exits non-zero and lists the
    /// differences if there are any.
    Check,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaKind {
    Graphql,
    Openapi,
}

#[derive(Parser, Debug, Clone)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "BASISSET_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,
    /// Number of HTTP worker threads (default: number of CPU cores).
    #[arg(long, env = "BASISSET_WORKERS")]
    pub workers: Option<usize>,
    /// Seconds to let in-flight requests finish after SIGTERM/SIGINT.
    #[arg(long, env = "BASISSET_SHUTDOWN_TIMEOUT_SECS", default_value_t = 30)]
    pub shutdown_timeout_secs: u64,
    /// Seed the synthetic demo data set once if the database holds no organisations yet.
    #[arg(long, env = "BASISSET_DEMO")]
    pub demo: bool,
    #[command(flatten)]
    pub auth: AuthArgs,
    #[command(flatten)]
    pub views: ViewArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
    #[command(flatten)]
    pub web: WebArgs,
    #[command(flatten)]
    pub accounts: AccountArgs,
    #[command(flatten)]
    pub ops: OpsArgs,
}

/// Operations: what monitoring may read.
#[derive(Args, Debug, Clone)]
pub struct OpsArgs {
    /// Bearer token for `GET /metrics` (Prometheus). With it, every scrape must send
    /// `Authorization: Bearer <token>`, from any address. Without it, /metrics answers only
    /// loopback peers that came through no proxy (no X-Forwarded-For, Forwarded or X-Real-IP
    /// header), and 403 to anyone else.
    #[arg(long, env = "BASISSET_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
}

/// People's accounts and sessions (the portal).
#[derive(Args, Debug, Clone)]
pub struct AccountArgs {
    /// Minutes a session may go unused before it ends.
    #[arg(long, env = "BASISSET_SESSION_IDLE_MINUTES", default_value_t = 30)]
    pub session_idle_minutes: i64,
    /// Hours after sign-in a session ends, however much it is used.
    #[arg(long, env = "BASISSET_SESSION_ABSOLUTE_HOURS", default_value_t = 12)]
    pub session_absolute_hours: i64,
    /// Send the session cookie only over HTTPS (`Secure`, and the `__Host-` name). Browsers
    /// treat http://localhost and http://127.0.0.1 as secure, so this stays on for local use;
    /// turn it off only to serve plain HTTP on another host name.
    #[arg(
        long,
        env = "BASISSET_COOKIE_SECURE",
        default_value_t = true,
        action = clap::ArgAction::Set
    )]
    pub cookie_secure: bool,
    /// Hours an invitation or reset link stays valid.
    #[arg(long, env = "BASISSET_INVITATION_HOURS", default_value_t = 72)]
    pub invitation_hours: i64,
}

/// How the service meets browsers and other origins.
#[derive(Args, Debug, Clone)]
pub struct WebArgs {
    /// Origins (e.g. `https://dashboard.example.nl`) allowed to call with a token from a browser
    /// (CORS), comma separated. Requests without credentials are allowed from any origin.
    #[arg(long, env = "BASISSET_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,
    /// The service's public URL, as clients reach it (OAuth metadata `issuer` and endpoints).
    /// Default: `http://` + the bind address.
    #[arg(long, env = "BASISSET_PUBLIC_URL")]
    pub public_url: Option<String>,
}

impl ServeArgs {
    /// The defaults, as `basisset serve` without flags would have them (environment ignored).
    pub fn defaults() -> Self {
        let matches = <Self as clap::CommandFactory>::command()
            .mut_args(|a| a.env(None::<&str>))
            .get_matches_from(["serve"]);
        <Self as clap::FromArgMatches>::from_arg_matches(&matches).expect("defaults parse")
    }
}

#[derive(Args, Debug, Clone)]
pub struct AuthArgs {
    /// File holding the JWT signing keys (JSON). Created with a new Ed25519 key on first start
    /// when missing and no keys are given inline.
    #[arg(
        long,
        env = "BASISSET_JWT_KEYS_FILE",
        default_value = "basisset-jwt-keys.json"
    )]
    pub jwt_keys_file: String,
    /// The signing keys as inline JSON (same format as the keys file); takes precedence over the file.
    #[arg(long, env = "BASISSET_JWT_KEYS", hide_env_values = true)]
    pub jwt_keys: Option<String>,
    /// `iss` claim issued and required.
    #[arg(long, env = "BASISSET_JWT_ISSUER", default_value = "basisset")]
    pub jwt_issuer: String,
    /// `aud` claim issued and required.
    #[arg(long, env = "BASISSET_JWT_AUDIENCE", default_value = "basisset-api")]
    pub jwt_audience: String,
    /// Lifetime of access tokens in seconds.
    #[arg(long, env = "BASISSET_TOKEN_TTL_SECS", default_value_t = 900)]
    pub token_ttl_secs: u64,
    /// Failed token requests per client id and client address (the pair) answered without
    /// delay. After the pair's f-th failure (f at least this) its next attempt waits
    /// 2^(f - this) seconds, at most --auth-failure-window-secs (429 with Retry-After).
    #[arg(long, env = "BASISSET_AUTH_MAX_FAILURES", default_value_t = 5)]
    pub auth_max_failures: u32,
    /// Seconds after its last failure that a pair's failures are forgotten; also the longest
    /// delay and the window of --auth-address-max-failures.
    #[arg(long, env = "BASISSET_AUTH_FAILURE_WINDOW_SECS", default_value_t = 900)]
    pub auth_failure_window_secs: u64,
    /// Failed token requests per client address, over all client ids, in a window that starts
    /// with the first failure; beyond it every token request from the address gets 429 until
    /// the window ends. High enough for many clients behind one NAT.
    #[arg(
        long,
        env = "BASISSET_AUTH_ADDRESS_MAX_FAILURES",
        default_value_t = 300
    )]
    pub auth_address_max_failures: u32,
    /// Reverse proxies (addresses or networks, comma separated, e.g. 10.0.0.5,fd00::/8) whose
    /// X-Forwarded-For is believed for the client address of the token throttle. Without any,
    /// X-Forwarded-For is ignored and the TCP peer is the client.
    #[arg(
        long,
        env = "BASISSET_TRUSTED_PROXIES",
        default_value = "",
        hide_default_value = true
    )]
    pub trusted_proxies: crate::net::TrustedProxies,
}

#[derive(Args, Debug, Clone)]
pub struct ViewArgs {
    /// Disclosure control, k: the least number of organisations whose figures a caller may not
    /// see individually behind a value shown to teams and the public (threshold rule).
    #[arg(long, env = "BASISSET_MIN_ORGANISATIONS", default_value_t = 3)]
    pub min_organisations: usize,
    /// Disclosure control, p (percent): the p% rule for primary suppression, and the protection
    /// interval every hidden figure keeps against the attacker's linear program.
    #[arg(long, env = "BASISSET_DISCLOSURE_P", default_value_t = 10.0)]
    pub disclosure_p_percent: f64,
    /// Quartiles and percentile ranks over figures the caller may not see individually are shown
    /// only from at least this many of them (never min and max).
    #[arg(
        long,
        env = "BASISSET_MIN_DISTRIBUTION_ORGANISATIONS",
        default_value_t = 10
    )]
    pub min_distribution_organisations: usize,
    /// Survey aggregates with fewer respondents are flagged unreliable (and withheld from the public).
    #[arg(long, env = "BASISSET_MIN_RESPONDENTS", default_value_t = 30)]
    pub min_respondents: i64,
    /// Computed views kept (0 disables the cache). An entry is used only while the registry and
    /// the figures of its indicator and years are unchanged, so cached views are never stale; a
    /// submission invalidates only its own indicators and year. When the cache is full the
    /// least recently used tenth is dropped.
    #[arg(long, env = "BASISSET_VIEW_CACHE_ENTRIES", default_value_t = 10_000)]
    pub view_cache_entries: usize,
    /// PostgreSQL: seconds between safety checks of the data versions. Instances learn of
    /// changes at once by LISTEN/NOTIFY; this check only covers a lost notification.
    #[arg(long, env = "BASISSET_VERSION_CHECK_SECONDS", default_value_t = 5)]
    pub version_check_seconds: u64,
}

#[derive(Args, Debug, Clone)]
pub struct LimitArgs {
    /// Maximum request body in bytes for REST endpoints (submissions as JSON or CSV).
    #[arg(long, env = "BASISSET_MAX_BODY_BYTES", default_value_t = 16 * 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Maximum request body in bytes for POST /graphql.
    #[arg(long, env = "BASISSET_GRAPHQL_MAX_BODY_BYTES", default_value_t = 16 * 1024 * 1024)]
    pub graphql_max_body_bytes: usize,
    /// Maximum size in bytes of a GraphQL document (the query text, without variables).
    #[arg(long, env = "BASISSET_GRAPHQL_MAX_QUERY_BYTES", default_value_t = 64 * 1024)]
    pub graphql_max_query_bytes: usize,
    /// Maximum number of lexical tokens in a GraphQL document, counted before it is parsed.
    #[arg(long, env = "BASISSET_GRAPHQL_MAX_TOKENS", default_value_t = 10_000)]
    pub graphql_max_tokens: usize,
    /// Maximum number of fields a GraphQL document selects, fragments expanded.
    #[arg(long, env = "BASISSET_GRAPHQL_MAX_FIELDS", default_value_t = 1_000)]
    pub graphql_max_fields: usize,
    /// Maximum GraphQL query depth.
    #[arg(long, env = "BASISSET_GRAPHQL_MAX_DEPTH", default_value_t = 20)]
    pub graphql_max_depth: usize,
    /// Maximum GraphQL query complexity (each field counts 1 unless stated otherwise).
    #[arg(long, env = "BASISSET_GRAPHQL_MAX_COMPLEXITY", default_value_t = 2000)]
    pub graphql_max_complexity: usize,
    /// Maximum number of aliased fields in one GraphQL document.
    #[arg(long, env = "BASISSET_GRAPHQL_MAX_ALIASES", default_value_t = 30)]
    pub graphql_max_aliases: usize,
    /// Milliseconds after which a GraphQL execution is abandoned (504).
    #[arg(long, env = "BASISSET_REQUEST_TIMEOUT_MS", default_value_t = 30_000)]
    pub request_timeout_ms: u64,
}

#[derive(Subcommand, Debug, Clone)]
pub enum ClientCommand {
    /// Create an API client and print `{"client_id","client_secret",...}` as one JSON object.
    Create {
        /// Role: admin, associatie or team.
        #[arg(long)]
        role: String,
        /// Human name of the client, e.g. "registratiesysteem buurtteam Noord".
        #[arg(long)]
        name: String,
        /// Organisation id (required for role team).
        #[arg(long)]
        organisation: Option<i64>,
    },
    /// List API clients as JSON.
    List,
    /// Make a new secret for a client (printed once); tokens issued before stop working.
    Rotate { client_id: String },
    /// Revoke a client; its tokens stop working at once.
    Revoke { client_id: String },
}

#[derive(Subcommand, Debug, Clone)]
pub enum OrganisationCommand {
    /// Create an organisation and print it as JSON.
    Create {
        #[arg(long)]
        name: String,
        /// wmo, jeugd or integraal.
        #[arg(long)]
        team_type: String,
        /// stichting, cooperatie, bv, gemeentelijk, netwerk or hoofdaannemer.
        #[arg(long)]
        form: String,
        /// CBS municipality codes served, comma separated (e.g. GM0363,GM0362).
        #[arg(long, value_delimiter = ',')]
        municipalities: Vec<String>,
        /// KvK number (8 digits).
        #[arg(long)]
        kvk: Option<String>,
        /// Residents can register themselves (zelfmelders).
        #[arg(long)]
        self_registration: bool,
        /// Declare that the team provides help itself (until figures show it).
        #[arg(long)]
        provides_help: Option<bool>,
    },
    /// List organisations as JSON.
    List,
}

#[derive(Subcommand, Debug, Clone)]
pub enum UserCommand {
    /// Invite a person: creates the account and prints a one-time link (JSON) to pass on.
    Invite {
        /// Work e-mail address the person signs in with.
        #[arg(long)]
        email: String,
        /// Role: admin, associatie or team.
        #[arg(long)]
        role: String,
        /// Organisation id (required for role team).
        #[arg(long)]
        organisation: Option<i64>,
        /// Team accounts: may manage the accounts of its own organisation's team.
        #[arg(long)]
        coordinator: bool,
        /// The site's URL as people reach it, to print the whole link.
        #[arg(long, env = "BASISSET_PUBLIC_URL")]
        public_url: Option<String>,
        /// Hours the link stays valid.
        #[arg(long, env = "BASISSET_INVITATION_HOURS", default_value_t = 72)]
        hours: i64,
    },
    /// List accounts as JSON.
    List,
    /// Issue a new one-time link for an account (forgotten password or lost phone): prints it.
    Reset {
        /// Account id (see `user list`).
        id: i64,
        #[arg(long, env = "BASISSET_PUBLIC_URL")]
        public_url: Option<String>,
        #[arg(long, env = "BASISSET_INVITATION_HOURS", default_value_t = 72)]
        hours: i64,
    },
    /// Deactivate an account: its sessions and unused links end at once.
    Deactivate { id: i64 },
    /// Reactivate a deactivated account.
    Activate { id: i64 },
}

#[derive(Subcommand, Debug, Clone)]
pub enum KeysCommand {
    /// Add a new signing key to the keys file and make it the active one (old keys keep verifying).
    Rotate {
        #[arg(
            long,
            env = "BASISSET_JWT_KEYS_FILE",
            default_value = "basisset-jwt-keys.json"
        )]
        file: String,
    },
    /// Remove keys that are no longer active from the keys file.
    Prune {
        #[arg(
            long,
            env = "BASISSET_JWT_KEYS_FILE",
            default_value = "basisset-jwt-keys.json"
        )]
        file: String,
    },
}

#[derive(Args, Debug, Clone)]
pub struct DemoArgs {
    /// Number of organisations to create.
    #[arg(long, default_value_t = 400)]
    pub organisations: usize,
    /// First year of figures.
    #[arg(long, default_value_t = 2017)]
    pub from_year: i32,
    /// Last year of figures (default: last complete year).
    #[arg(long)]
    pub to_year: Option<i32>,
    /// Seed of the pseudo-random generator (same seed, same data).
    #[arg(long, default_value_t = 2022)]
    pub seed: u64,
}

#[derive(Args, Debug, Clone)]
pub struct BenchArgs {
    /// Which benchmark: ingest (issue: submissions), views (aggregates), workloads, peer
    /// (against PostGraphile + pg-aggregates, needs --peer-url), or all (peer only with
    /// --peer-url).
    #[arg(value_enum, default_value_t = BenchKind::All)]
    pub which: BenchKind,
    /// Seconds of sustained load per throughput measurement.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Concurrent HTTP clients for throughput measurements.
    #[arg(long, default_value_t = 8)]
    pub clients: usize,
    /// Figures per submission in the ingest benchmark.
    #[arg(long, default_value_t = 10_000)]
    pub figures: usize,
    /// Number of organisations in the demo data set used by the view benchmark.
    #[arg(long, default_value_t = 400)]
    pub organisations: usize,
    /// Sequential requests per query for the latency medians.
    #[arg(long, default_value_t = 300)]
    pub rounds: usize,
    /// GraphQL endpoint of the peer for `bench peer`: PostGraphile 5 with pg-aggregates over
    /// the same database, started with `bench/peer/run.sh --database-url ... --port 5678`
    /// (e.g. http://127.0.0.1:5678/graphql; plain HTTP on this machine only).
    #[arg(long, value_name = "URL")]
    pub peer_url: Option<String>,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum BenchKind {
    Ingest,
    Views,
    /// Cache-miss, cache-hit and deadline workloads (needs the view benchmark's data set).
    Workloads,
    /// The same grouped aggregate against PostGraphile + pg-aggregates (needs --peer-url and
    /// the view benchmark's data set).
    Peer,
    All,
}
