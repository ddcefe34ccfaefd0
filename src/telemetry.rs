//! Logs and metrics for every role: tracing to stderr, and one Prometheus recorder per
//! process whose text each role serves at `/metrics`.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

static PROMETHEUS: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process-wide metrics recorder (once; later calls do nothing).
pub fn install_metrics() -> &'static PrometheusHandle {
    PROMETHEUS.get_or_init(|| {
        let handle = PrometheusBuilder::new()
            .install_recorder()
            .expect("no other metrics recorder is installed in this process");
        crate::ratelimit::describe_metrics();
        crate::cache::describe_metrics();
        // Which build answers, and which libvips it renders with: a variant's bytes depend
        // on both.
        metrics::gauge!(
            "imgedge_build_info",
            "version" => env!("CARGO_PKG_VERSION"),
            "libvips" => imgedge_engine::Engine::vips_version(),
        )
        .set(1.0);
        handle
    })
}

/// The Prometheus text exposition of every metric recorded so far.
pub fn render_metrics() -> String {
    install_metrics().render()
}

/// Logs to stderr, filtered by `RUST_LOG` (default `info`); JSON lines when `json` is set.
pub fn init_tracing(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}
