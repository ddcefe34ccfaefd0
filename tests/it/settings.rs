//! Settings as an operator sets them, through the real binary: a flag that several
//! subcommands take has one default everywhere, and the database pool size reaches the pool
//! in every subcommand that opens one.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sqlx::PgPool;

use crate::binary::{Process, database_url_of, dev_env, free_port, imgedge, sign_up, wait_ready};

const SUBCOMMANDS: [&str; 9] = [
    "api",
    "transformer",
    "edge",
    "dev",
    "migrate",
    "reconcile",
    "s3",
    "render",
    "url",
];

/// A flag as `--help` shows it: its environment variable and its default.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Shown {
    env: Option<String>,
    default: Option<String>,
}

/// Every flag of `imgedge SUBCOMMAND --help`.
fn flags_of(subcommand: &str) -> BTreeMap<String, Shown> {
    let output = Command::new(env!("CARGO_BIN_EXE_imgedge"))
        .args([subcommand, "--help"])
        .env_clear()
        .output()
        .expect("imgedge runs");
    assert!(output.status.success(), "imgedge {subcommand} --help");
    let help = String::from_utf8(output.stdout).expect("UTF-8 help");
    let mut flags = BTreeMap::new();
    let mut current: Option<(String, Shown)> = None;
    for line in help.lines() {
        let line = line.trim();
        let flag = line
            .split([' ', ','])
            .find(|word| word.starts_with("--") && word.len() > 2);
        if line.starts_with('-')
            && let Some(flag) = flag
        {
            if let Some((name, shown)) = current.take() {
                flags.insert(name, shown);
            }
            let shown = Shown {
                env: None,
                default: None,
            };
            current = Some((flag.to_owned(), shown));
        }
        if let Some((_, shown)) = current.as_mut() {
            for part in line.split('[').skip(1) {
                let part = part.trim_end_matches(']');
                if let Some(env) = part.strip_prefix("env: ") {
                    shown.env = Some(env.split('=').next().unwrap_or(env).to_owned());
                } else if let Some(default) = part.strip_prefix("default: ") {
                    shown.default = Some(default.to_owned());
                }
            }
        }
    }
    if let Some((name, shown)) = current {
        flags.insert(name, shown);
    }
    flags
}

#[test]
fn a_flag_of_several_subcommands_has_one_default_and_one_variable() {
    let mut seen: BTreeMap<String, Vec<(&str, Shown)>> = BTreeMap::new();
    for subcommand in SUBCOMMANDS {
        for (flag, shown) in flags_of(subcommand) {
            seen.entry(flag).or_default().push((subcommand, shown));
        }
    }
    let mut shared = 0;
    let mut differences = Vec::new();
    for (flag, shown) in &seen {
        if shown.len() < 2 || flag == "--help" {
            continue;
        }
        shared += 1;
        let (first, first_shown) = &shown[0];
        for (subcommand, other) in &shown[1..] {
            // Each role listens on its own address, under its own variable.
            let own_address = flag == "--listen" && other.env != first_shown.env;
            if other != first_shown && !own_address {
                differences.push(format!(
                    "{flag}: {first} shows {first_shown:?}, {subcommand} shows {other:?}"
                ));
            }
        }
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
    // Not vacuous: the roles share connections, engine limits, quotas, uploads and renders.
    assert!(shared >= 30, "only {shared} flags are shared");
    // What `imgedge dev` runs, it takes the same flags for.
    let dev = flags_of("dev");
    for flag in [
        "--db-max-connections",
        "--render-timeout-ms",
        "--max-variants-per-image",
        "--quota-render",
        "--decoded-cache-mb",
        "--upload-timeout-ms",
        "--max-upload-bytes",
        "--quota-upload",
        "--web-dir",
    ] {
        assert!(dev.contains_key(flag), "imgedge dev has no {flag}");
    }
}

/// Runs `imgedge ARGS` with info logs and returns what it logged (JSON lines).
fn logs_of(args: &[&str], env: &[(&str, String)]) -> String {
    let mut command = Command::new(env!("CARGO_BIN_EXE_imgedge"));
    command
        .args(args)
        .env("RUST_LOG", "info")
        .env("IMGEDGE_LOG_JSON", "true")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().expect("imgedge runs");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[sqlx::test(migrations = false)]
async fn migrate_and_reconcile_open_the_pool_they_are_given(pool: PgPool) {
    let env = [("DATABASE_URL", database_url_of(&pool))];
    let logs = logs_of(&["migrate", "--db-max-connections", "3"], &env);
    assert!(
        logs.contains(r#""message":"database pool","max_connections":3"#),
        "imgedge migrate: {logs}"
    );
    // Reconcile opens its pool before it reaches S3 (here unreachable: it then fails).
    let logs = logs_of(
        &[
            "reconcile",
            "--db-max-connections",
            "5",
            "--s3-endpoint",
            &format!("http://127.0.0.1:{}", free_port()),
            "--s3-access-key-id",
            "k",
            "--s3-secret-access-key",
            "s",
        ],
        &env,
    );
    assert!(
        logs.contains(r#""message":"database pool","max_connections":5"#),
        "imgedge reconcile: {logs}"
    );
}

/// Connections the stack under test holds to its own database.
async fn connections_to(pool: &PgPool, database: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity \
         WHERE datname = $1 AND application_name = 'imgedge'",
    )
    .bind(database)
    .fetch_one(pool)
    .await
    .expect("pg_stat_activity")
}

#[sqlx::test(migrations = false)]
async fn dev_holds_no_more_connections_than_it_is_given(pool: PgPool) {
    let database = pool
        .connect_options()
        .get_database()
        .expect("test database")
        .to_owned();
    let data_dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let env = dev_env(&pool);
    let listen = format!("127.0.0.1:{port}");
    let dir = data_dir.path().display().to_string();
    let args = [
        "dev",
        "--listen",
        &listen,
        "--data-dir",
        &dir,
        "--db-max-connections",
        "2",
    ];
    let _dev = Process(imgedge(&args, &env).spawn().expect("dev starts"));
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .expect("client");
    wait_ready(&http, &format!("{base}/healthz")).await;

    // Many users signing in and listing at once want many connections; the pool gives two.
    let mut tokens = Vec::new();
    for n in 0..4 {
        tokens.push(sign_up(&http, &base, &format!("user{n}@example.com")).await);
    }
    let load = async {
        let requests = (0..64).map(|n| {
            let token = &tokens[n % tokens.len()];
            http.get(format!("{base}/v1/images"))
                .bearer_auth(token)
                .send()
        });
        for response in futures::future::join_all(requests).await {
            let status = response.expect("list").status();
            assert!(status == 200 || status == 429, "list: {status}");
        }
    };
    let watch = async {
        let mut most = 0;
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(3) {
            most = most.max(connections_to(&pool, &database).await);
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        most
    };
    let ((), most) = tokio::join!(load, watch);
    assert!(most >= 1, "the stack holds no connection to its database");
    assert!(most <= 2, "the stack held {most} connections, given 2");
}
