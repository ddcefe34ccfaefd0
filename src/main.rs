//! The `imgedge` binary: parses the command line, sets up tracing and hands over to the
//! library. Every role of the service is a subcommand of this one binary.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use imgedge::engine::{Engine, EngineConfig};
use imgedge::tools;
use imgedge::url::UrlSecret;

#[derive(Debug, Parser)]
#[command(
    name = "imgedge",
    version,
    about = "On-demand image service built around a CDN"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
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
    },
}

/// Engine limits, shared by every role that renders.
#[derive(Debug, clap::Args)]
struct EngineArgs {
    /// Largest source accepted, in pixels.
    #[arg(long, env = "IMGEDGE_MAX_SOURCE_PIXELS", default_value_t = 50_000_000)]
    max_source_pixels: u64,
    /// Largest output, in pixels.
    #[arg(long, env = "IMGEDGE_MAX_OUTPUT_PIXELS", default_value_t = 50_000_000)]
    max_output_pixels: u64,
    /// Time budget of one render, in milliseconds.
    #[arg(long, env = "IMGEDGE_RENDER_TIMEOUT_MS", default_value_t = 20_000)]
    render_timeout_ms: u64,
    /// libvips threads per render (0: the number of cores).
    #[arg(long, env = "IMGEDGE_VIPS_CONCURRENCY", default_value_t = 0)]
    vips_concurrency: u32,
}

impl EngineArgs {
    fn config(&self) -> EngineConfig {
        EngineConfig {
            max_source_pixels: self.max_source_pixels,
            max_output_pixels: self.max_output_pixels,
            render_timeout: Duration::from_millis(self.render_timeout_ms),
            vips_concurrency: self.vips_concurrency,
            ..EngineConfig::default()
        }
    }
}

fn parse_secret(hex: &str) -> Result<UrlSecret, String> {
    UrlSecret::from_hex(hex).map_err(|_| "expected 64 hexadecimal characters".to_owned())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();

    match cli.command {
        Command::Render {
            input,
            output,
            query,
            engine,
        } => {
            let result = Engine::new(engine.config())
                .map_err(tools::RenderFileError::from)
                .and_then(|engine| tools::render_file(&engine, &input, &output, &query));
            match result {
                Ok((rendered, canonical)) => {
                    println!("{}", tools::rendered_json(&rendered, &canonical));
                    ExitCode::SUCCESS
                }
                Err(err) => {
                    let body =
                        serde_json::json!({ "error": err.code(), "message": err.to_string() });
                    println!("{body}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Url {
            url_secret,
            image_id,
            query,
        } => match tools::describe_url(&url_secret, &image_id, &query) {
            Ok(body) => {
                println!("{body}");
                ExitCode::SUCCESS
            }
            Err(body) => {
                println!("{body}");
                ExitCode::FAILURE
            }
        },
    }
}
