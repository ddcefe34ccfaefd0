//! The flags as the roles read them: one render budget behind the edge and the
//! transformer, and quotas that read back as written.

use clap::Parser;

use super::*;

#[derive(Parser)]
struct Edge {
    #[command(flatten)]
    args: EdgeArgs,
}

#[derive(Parser)]
struct Transformer {
    #[command(flatten)]
    args: TransformerArgs,
}

#[cfg(feature = "embedded-s3")]
#[derive(Parser)]
struct Dev {
    #[command(flatten)]
    args: DevArgs,
}

/// A shared secret long enough to be accepted.
const SECRET: &str = "a-shared-secret-of-the-config-tests";

const TRANSFORMER: [&str; 7] = [
    "transformer",
    "--url-secret",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "--origin-secret",
    SECRET,
    "--database-url",
    "postgres://127.0.0.1/imgedge",
];

/// The edge's origin timeout and the transformer's worst case (a wait for a peer's
/// render, then its own) come from one render timeout by one formula, whatever it is.
#[test]
fn the_edge_outwaits_the_transformers_worst_case() {
    for timeout in [None, Some("1000"), Some("20000"), Some("45000")] {
        let extra = timeout.map(|ms| ["--render-timeout-ms", ms]);
        let edge = Edge::parse_from(
            ["edge", "--origin-secret", SECRET]
                .into_iter()
                .chain(extra.into_iter().flatten()),
        )
        .args
        .role();
        let transformer =
            Transformer::parse_from(TRANSFORMER.into_iter().chain(extra.into_iter().flatten()))
                .args;
        let render = RenderBudget::new(transformer.engine.config().render_timeout);
        let worst = render.peer_wait() + render.production();
        assert!(
            edge.budget.origin_timeout() > worst,
            "{timeout:?}: the edge waits {:?}, a render may take {worst:?}",
            edge.budget.origin_timeout()
        );
        assert_eq!(edge.budget, render, "{timeout:?}");
    }
}

/// `imgedge dev` waits for its transformer as `imgedge edge` does, and within what
/// CloudFront allows, with the defaults.
#[cfg(feature = "embedded-s3")]
#[test]
fn dev_and_the_edge_wait_alike_and_within_cloudfronts_limit() {
    let edge = Edge::parse_from(["edge", "--origin-secret", SECRET])
        .args
        .role();
    let dev = Dev::parse_from(["dev", "--database-url", "postgres://127.0.0.1/imgedge"])
        .args
        .settings();
    assert_eq!(RenderBudget::new(dev.engine.render_timeout), edge.budget);
    assert!(edge.budget.origin_timeout() <= RenderBudget::CLOUDFRONT_MAX_ORIGIN_TIMEOUT);
}

#[test]
fn quotas_read_back_as_they_are_written() {
    for quota in [
        Quotas::default().upload,
        TransformerSettings::default().render_quota,
    ] {
        assert_eq!(quota.to_string().parse::<Quota>(), Ok(quota));
    }
    assert!("0:5".parse::<Quota>().is_err());
    assert!("60".parse::<Quota>().is_err());
}
