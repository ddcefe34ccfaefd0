//! The `imgedge` binary: parses the command line, sets up tracing and hands over to the
//! library. Every role of the service is a subcommand of this one binary.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use imgedge::config::{
    ApiArgs, DatabaseArgs, DevArgs, EdgeArgs, EngineArgs, S3Args, TransformerArgs, parse_secret,
};
use imgedge::error::PublicError as _;
use imgedge::settings::LOCAL_S3_ADDR;
use imgedge::startup::{self, Connections};
use imgedge::{api, db, shutdown, telemetry, tools};
use imgedge_engine::Engine;
use imgedge_url::UrlSecret;

#[derive(Debug, Parser)]
#[command(
    name = "imgedge",
    version,
    about = "On-demand image service built around a CDN"
)]
struct Cli {
    /// Log JSON lines instead of text.
    #[arg(long, global = true, env = "IMGEDGE_LOG_JSON")]
    log_json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the metadata API.
    Api(Box<ApiArgs>),
    /// Run the transformer origin: renders a variant on a CDN miss, returns it, stores it.
    Transformer(Box<TransformerArgs>),
    /// Run the local edge: the CDN in front of S3, the transformer, the API and the web client.
    Edge(Box<EdgeArgs>),
    /// Run the whole stack in one process (edge, API, transformer, embedded S3).
    #[cfg(feature = "embedded-s3")]
    Dev(Box<DevArgs>),
    /// Apply the database migrations and exit.
    Migrate(DatabaseArgs),
    /// Remove S3 objects that have no database row (left by a crash between steps).
    Reconcile {
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(flatten)]
        s3: S3Args,
        /// Leave objects younger than this alone (an upload may be between its steps).
        #[arg(long, default_value_t = 3600)]
        min_age_secs: u64,
        /// Report what would be removed without removing it.
        #[arg(long)]
        dry_run: bool,
    },
    /// Compute the placeholders (`ThumbHash`, dominant colour) of images uploaded before
    /// placeholders existed. Safe to run again: it visits only images without one.
    Backfill(Box<BackfillArgs>),
    /// Run the embedded S3-compatible server (development and tests).
    #[cfg(feature = "embedded-s3")]
    S3 {
        #[arg(long, env = "IMGEDGE_S3_LISTEN", default_value = LOCAL_S3_ADDR)]
        listen: std::net::SocketAddr,
        /// Where objects are kept.
        #[arg(long, env = "IMGEDGE_S3_DIR")]
        dir: PathBuf,
        #[arg(long, env = "IMGEDGE_S3_ACCESS_KEY_ID", hide_env_values = true)]
        access_key_id: String,
        #[arg(long, env = "IMGEDGE_S3_SECRET_ACCESS_KEY", hide_env_values = true)]
        secret_access_key: String,
    },
    /// Render a local image with a transform query, e.g. 'width=800&format=webp'.
    Render {
        /// The original image.
        #[arg(long = "in", value_name = "FILE")]
        input: PathBuf,
        /// Where to write the variant (written whole or not at all).
        #[arg(long = "out", value_name = "FILE")]
        output: PathBuf,
        /// The transform query, in any order (it is canonicalised).
        #[arg(default_value = "")]
        query: String,
        #[command(flatten)]
        engine: EngineArgs,
    },
    /// Print the signed transform URL path for an image, as JSON.
    Url {
        /// The server's 32-byte URL secret, as 64 hex characters.
        #[arg(long, env = "IMGEDGE_URL_SECRET", hide_env_values = true, value_parser = parse_secret)]
        url_secret: UrlSecret,
        /// The image's id (a lowercase hyphenated UUID).
        #[arg(long)]
        image_id: String,
        /// The transform query, in any order.
        #[arg(default_value = "")]
        query: String,
        /// A request's `Accept` header: for a `format=auto` URL, prints the accept class,
        /// the edge's cache key and the S3 key it gives (without it: no header, `basic`).
        #[arg(long, value_name = "HEADER")]
        accept: Option<String>,
        /// The image's key epoch (0 until its key is first rotated).
        #[arg(long, default_value_t = 0)]
        key_epoch: u32,
    },
}

#[derive(Debug, clap::Args)]
struct BackfillArgs {
    #[command(flatten)]
    database: DatabaseArgs,
    #[command(flatten)]
    s3: S3Args,
    #[command(flatten)]
    engine: EngineArgs,
}

/// `imgedge backfill`: prints its report as JSON.
async fn backfill(args: BackfillArgs) -> anyhow::Result<()> {
    let db = db::Db::connect(&args.database.settings()).await?;
    let store = imgedge::storage::ObjectStore::connect(&args.s3.config()).await;
    let engine = Engine::new(args.engine.config())?;
    let report = imgedge::backfill::backfill(&db, &store, &engine).await?;
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}

fn main() -> ExitCode {
    limit_malloc_arenas();
    let cli = Cli::parse();
    telemetry::init_tracing(cli.log_json);
    match cli.command {
        Command::Api(args) => serve(async move {
            let connections = Connections::open(&args.backend()).await?;
            let state = startup::api(args.role(), &connections).await?;
            let listener = bind(args.listen).await?;
            tracing::info!(addr = %listener.local_addr()?, "api listening");
            api::run(listener, state, shutdown::signal()).await?;
            Ok(())
        }),
        Command::Transformer(args) => serve(async move {
            let connections = Connections::open(&args.backend()).await?;
            let transformer = startup::transformer(args.role(), &connections);
            let listener = bind(args.listen).await?;
            tracing::info!(addr = %listener.local_addr()?, "transformer listening");
            imgedge::transformer::run(listener, transformer, shutdown::signal()).await;
            Ok(())
        }),
        Command::Edge(args) => serve(async move {
            let store = imgedge::storage::ObjectStore::connect(&args.s3.config()).await;
            let edge = startup::edge(args.role(), store);
            let listener = bind(args.listen).await?;
            tracing::info!(addr = %listener.local_addr()?, "edge listening");
            imgedge::edge::run(listener, edge, shutdown::signal()).await;
            Ok(())
        }),
        #[cfg(feature = "embedded-s3")]
        Command::Dev(args) => serve(async move {
            // Boxed: the whole stack's start-up is a large future.
            Box::pin(imgedge::dev::run(
                args.settings(),
                shutdown::signal(),
                |url| {
                    println!("imgedge is running at {url}/");
                },
            ))
            .await
        }),
        Command::Migrate(args) => serve(async move {
            // Waits for a database that is still starting (containers, dev stacks).
            db::migrate_command(&args.settings(), std::time::Duration::from_secs(30)).await?;
            tracing::info!("migrations applied");
            Ok(())
        }),
        Command::Reconcile {
            database,
            s3,
            min_age_secs,
            dry_run,
        } => serve(async move {
            let db = db::Db::connect(&database.settings()).await?;
            let store = imgedge::storage::ObjectStore::connect(&s3.config()).await;
            let min_age = std::time::Duration::from_secs(min_age_secs);
            let report = imgedge::reconcile::reconcile(&db, &store, min_age, dry_run).await?;
            println!("{}", serde_json::to_string(&report)?);
            Ok(())
        }),
        Command::Backfill(args) => serve(backfill(*args)),
        #[cfg(feature = "embedded-s3")]
        Command::S3 {
            listen,
            dir,
            access_key_id,
            secret_access_key,
        } => serve(async move {
            let listener = bind(listen).await?;
            tracing::info!(addr = %listener.local_addr()?, dir = %dir.display(), "embedded S3 listening");
            imgedge::storage::embedded::serve(
                listener,
                dir,
                &access_key_id,
                &secret_access_key,
                shutdown::signal(),
            )
            .await?;
            Ok(())
        }),
        Command::Render {
            input,
            output,
            query,
            engine,
        } => render(&input, &output, &query, &engine),
        Command::Url {
            url_secret,
            image_id,
            query,
            accept,
            key_epoch,
        } => url(
            &url_secret,
            &image_id,
            &query,
            &tools::UrlRequest {
                accept: accept.as_deref(),
                epoch: imgedge_url::KeyEpoch(key_epoch),
            },
        ),
    }
}

/// `imgedge url`: a transform URL described as JSON.
fn url(
    secret: &UrlSecret,
    image_id: &str,
    query: &str,
    request: &tools::UrlRequest<'_>,
) -> ExitCode {
    match tools::describe_url(secret, image_id, query, request) {
        Ok(body) => {
            println!("{body}");
            ExitCode::SUCCESS
        }
        Err(body) => {
            println!("{body}");
            ExitCode::FAILURE
        }
    }
}

/// `imgedge render`: one local file through the engine.
fn render(input: &Path, output: &Path, query: &str, engine: &EngineArgs) -> ExitCode {
    let result = Engine::new(engine.config())
        .map_err(tools::RenderFileError::from)
        .and_then(|engine| tools::render_file(&engine, input, output, query));
    match result {
        Ok((rendered, canonical)) => {
            println!("{}", tools::rendered_json(&rendered, &canonical));
            ExitCode::SUCCESS
        }
        Err(err) => {
            let body = err.to_response().body();
            println!("{}", String::from_utf8_lossy(&body));
            ExitCode::FAILURE
        }
    }
}

async fn bind(addr: std::net::SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))
}

/// Runs an async role on a multi-threaded runtime and turns its outcome into an exit code.
fn serve(role: impl Future<Output = anyhow::Result<()>>) -> ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            tracing::error!(%err, "cannot start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(role) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = format!("{err:#}"), "exiting");
            ExitCode::FAILURE
        }
    }
}

/// Caps glibc's malloc at two arenas unless `MALLOC_ARENA_MAX` says otherwise. By default
/// glibc gives each thread that allocates concurrently an arena of its own, up to eight per
/// core, and libvips' worker threads allocate tile buffers on all of them: freed memory
/// stays spread over arenas that are not reused, and resident memory grows with the number of
/// threads, not with the work. Two arenas cut the peak of eight concurrent 20 MP renders by
/// about 30 % with no loss of throughput (docs/performance.md). Called before any thread
/// starts, as mallopt requires.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets an allocator parameter; no other thread exists yet.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}
