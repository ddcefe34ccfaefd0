//! The metadata API's queries at a million images (`scripts/bench-metadata`).
//!
//! Two databases are seeded in SQL: a large one (1,000,000 images of 10,000 users, one of
//! them holding 200,000 images and 2,000,000 variants, 10,000,000 variants in all, one in
//! ten a `format=auto` one with three class objects) and a
//! small one of the same shape (1,000 images). The same production methods of `Db` run on
//! both, for the heavy user and for a typical one, and the medians are compared. Every
//! statement they run is explained by PostgreSQL itself (`auto_explain`, its plans sent to
//! this client as notices), and a sequential scan of a large table fails the run.
//!
//! Run through `cargo bench --bench metadata_scale` (a plain `cargo test` only builds it).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use imgedge::db::{Db, ImageDetails, ImageFilter, NewVariant, PageCursor, SortOrder};
use sqlx::Executor as _;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use time::OffsetDateTime;
use tracing_subscriber::layer::SubscriberExt as _;
use uuid::Uuid;

/// Runs of each operation; the median is reported.
const RUNS: usize = 31;
/// Tables whose sequential scan fails the run.
const LARGE_TABLES: [&str; 5] = [
    "images",
    "variants",
    "image_tags",
    "image_words",
    "variant_objects",
];

/// The shape of a seeded database.
struct Shape {
    name: &'static str,
    users: i64,
    images: i64,
    heavy_images: i64,
    variants_per_image: i64,
}

const SMALL: Shape = Shape {
    name: "imgedge_bench_small",
    users: 10,
    images: 1_000,
    heavy_images: 200,
    variants_per_image: 10,
};

const LARGE: Shape = Shape {
    name: "imgedge_bench_large",
    users: 10_000,
    images: 1_000_000,
    heavy_images: 200_000,
    variants_per_image: 10,
};

/// The plans PostgreSQL sent as notices since the last drain.
#[derive(Clone, Default)]
struct Plans(Arc<Mutex<Vec<String>>>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Plans {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if event.metadata().target() != "sqlx::postgres::notice" {
            return;
        }
        let mut message = Message(String::new());
        event.record(&mut message);
        if let Ok(mut plans) = self.0.lock() {
            plans.push(message.0);
        }
    }
}

/// An event's `message` field.
struct Message(String);

impl tracing::field::Visit for Message {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "message" {
            value.clone_into(&mut self.0);
        }
    }
}

impl Plans {
    fn drain(&self) -> Vec<String> {
        self.0
            .lock()
            .map(|mut p| std::mem::take(&mut *p))
            .unwrap_or_default()
    }
}

/// The sequential scans of large tables in a plan notice (`auto_explain`'s JSON).
fn large_scans(notice: &str) -> Vec<String> {
    let Some(start) = notice.find('{') else {
        return Vec::new();
    };
    let Ok(plan) = serde_json::from_str::<serde_json::Value>(&notice[start..]) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    let mut stack = vec![&plan["Plan"]];
    while let Some(node) = stack.pop() {
        if node["Node Type"] == "Seq Scan"
            && let Some(relation) = node["Relation Name"].as_str()
            && LARGE_TABLES.contains(&relation)
        {
            found.push(relation.to_owned());
        }
        if let Some(children) = node["Plans"].as_array() {
            stack.extend(children);
        }
    }
    found
}

async fn admin(url: &str) -> sqlx::PgPool {
    PgPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await
        .expect("PostgreSQL")
}

/// A fresh database `shape.name`, migrated and seeded; returns a pool of one connection
/// whose statements are explained to this client.
async fn seeded(base: &str, shape: &Shape) -> sqlx::PgPool {
    let server = admin(base).await;
    server
        .execute(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", shape.name).as_str())
        .await
        .expect("drop");
    server
        .execute(format!("CREATE DATABASE {}", shape.name).as_str())
        .await
        .expect("create");
    let options: PgConnectOptions = base.parse().expect("DATABASE_URL");
    let options = options.database(shape.name);
    let seed = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(options.clone())
        .await
        .expect("connect");
    Db::from_pool(seed.clone())
        .migrate()
        .await
        .expect("migrations");
    let started = Instant::now();
    seed_data(&seed, shape).await;
    eprintln!(
        "{}: seeded in {:.0} s",
        shape.name,
        started.elapsed().as_secs_f64()
    );
    seed.close().await;
    PgPoolOptions::new()
        .max_connections(1)
        .after_connect(|conn, _| {
            Box::pin(async move {
                conn.execute(
                    "LOAD 'auto_explain'; SET auto_explain.log_min_duration = 0; \
                     SET auto_explain.log_level = notice; SET auto_explain.log_format = json; \
                     SET auto_explain.log_nested_statements = on",
                )
                .await?;
                Ok(())
            })
        })
        .connect_with(options)
        .await
        .expect("connect")
}

/// Users, images (tags, titles, placeholders, dates one second apart), their tag rows and
/// variants, and the counters the triggers would keep, in bulk: triggers are off while
/// seeding (`session_replication_role`), and the counters are written from the data.
async fn seed_data(pool: &sqlx::PgPool, s: &Shape) {
    let statements = [
        "SET session_replication_role = replica".to_owned(),
        format!(
            "INSERT INTO users (id, email, password_hash) \
             SELECT md5('u' || g)::uuid, 'u' || g || '@bench.example', '$argon2id$bench' \
             FROM generate_series(0, {} - 1) AS g",
            s.users
        ),
        // User 0 holds `heavy_images`; the rest are spread over the others.
        format!(
            "INSERT INTO images (id, owner_id, filename, format, width, height, frames, bytes, \
                blake3, created_at, title, alt, tags, thumbhash, dominant_color, \
                variant_count, variant_bytes) \
             SELECT md5('i' || g)::uuid, \
                    CASE WHEN g < {h} THEN md5('u0')::uuid \
                         ELSE md5('u' || (1 + (g - {h}) % ({u} - 1)))::uuid END, \
                    'photo-' || g || '.jpg', \
                    (ARRAY['jpeg','jpeg','jpeg','jpeg','jpeg','png','png','webp','heic','avif'])[1 + g % 10], \
                    4000, 3000, 1, 2000000 + g, decode(md5('b' || g) || md5('c' || g), 'hex'), \
                    timestamptz '2026-01-01' + g * interval '1 second', \
                    'photo of a ' || (ARRAY['beach','forest','city','harbour','kitchen'])[1 + g % 5] \
                        || ' ' || (ARRAY['sunset','morning','storm','snow','spring','night','fog','rain','noon','dusk'])[1 + (g / 5) % 10] \
                        || CASE WHEN g % 50 = 7 THEN ' lighthouse' ELSE '' END, \
                    'a picture', \
                    ARRAY[(ARRAY['travel','family','work','food','pets','art','sport','home','music','garden', \
                                 'cars','books','city','sea','snow','party','school','nature','night','street'])[1 + g % 20], \
                          't' || ((g / 20) % 50)], \
                    decode(md5('t' || g), 'hex'), '#808080', {v}, {v} * 20000 \
             FROM generate_series(0, {n} - 1) AS g",
            h = s.heavy_images,
            u = s.users,
            n = s.images,
            v = s.variants_per_image
        ),
        "INSERT INTO image_tags (owner_id, tag, created_at, image_id) \
         SELECT owner_id, unnest(tags), created_at, id FROM images"
            .to_owned(),
        "INSERT INTO image_words (owner_id, word, created_at, image_id) \
         SELECT owner_id, unnest(tsvector_to_array(search)), created_at, id FROM images"
            .to_owned(),
        format!(
            "INSERT INTO variants (image_id, sig, canonical_query, bytes, format, created_at) \
             SELECT i.id, \
                    rtrim(translate(encode(substr(decode(md5(i.id::text || v), 'hex'), 1, 16), 'base64'), '+/', '-_'), '='), \
                    'width=' || (100 + v * 10), 20000, 'webp', i.created_at + v * interval '1 minute' \
             FROM images AS i, generate_series(0, {} - 1) AS v",
            s.variants_per_image
        ),
        // One variant in ten is a `format=auto` one, with an object for each accept class.
        "UPDATE variants SET canonical_query = canonical_query || '&format=auto' \
         WHERE canonical_query = 'width=100'"
            .to_owned(),
        "INSERT INTO variant_objects (image_id, sig, accept_class, bytes, format, created_at) \
         SELECT v.image_id, v.sig, c.class, 6000, c.format, v.created_at \
         FROM variants AS v, (VALUES ('avif', 'avif'), ('webp', 'webp'), ('basic', 'jpeg')) AS c (class, format) \
         WHERE v.canonical_query = 'width=100&format=auto'"
            .to_owned(),
        "INSERT INTO storage_usage (user_id, bytes, images, variants, variant_bytes) \
         SELECT owner_id, sum(bytes), count(*), sum(variant_count), sum(variant_bytes) \
         FROM images GROUP BY owner_id"
            .to_owned(),
        "SET session_replication_role = DEFAULT".to_owned(),
        "VACUUM ANALYZE".to_owned(),
    ];
    for statement in statements {
        pool.execute(statement.as_str()).await.expect("seed");
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

/// One operation's median on one database, and the large-table scans its plans had.
struct Measured {
    median: Duration,
    scans: Vec<String>,
}

async fn measure<F, Fut>(plans: &Plans, mut op: F) -> Measured
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = ()>,
{
    op(usize::MAX).await; // warm the connection's statement cache
    plans.drain();
    let mut samples = Vec::with_capacity(RUNS);
    for run in 0..RUNS {
        let started = Instant::now();
        op(run).await;
        samples.push(started.elapsed());
    }
    let mut scans: Vec<String> = plans.drain().iter().flat_map(|p| large_scans(p)).collect();
    scans.sort();
    scans.dedup();
    Measured {
        median: median(samples),
        scans,
    }
}

/// The operations, for one user of one database.
async fn operations(
    pool: &sqlx::PgPool,
    db: &Db,
    plans: &Plans,
    owner: Uuid,
) -> Vec<(&'static str, Measured)> {
    let image: Uuid = sqlx::query_scalar(
        "SELECT id FROM images WHERE owner_id = $1 ORDER BY created_at DESC LIMIT 1",
    )
    .bind(owner)
    .fetch_one(pool)
    .await
    .expect("an image");
    // The cursor 100 pages of 20 deep, or the deepest the user has.
    let deep: (OffsetDateTime, Uuid) = sqlx::query_as(
        "SELECT created_at, id FROM images WHERE owner_id = $1 \
         ORDER BY created_at DESC, id DESC OFFSET least(1999, \
            (SELECT count(*) FROM images WHERE owner_id = $1) - 21) LIMIT 1",
    )
    .bind(owner)
    .fetch_one(pool)
    .await
    .expect("a deep cursor");
    let deep = PageCursor {
        created_at: deep.0,
        id: deep.1,
    };
    let newest: OffsetDateTime =
        sqlx::query_scalar("SELECT max(created_at) FROM images WHERE owner_id = $1")
            .bind(owner)
            .fetch_one(pool)
            .await
            .expect("dates");
    let mut results = listings(db, plans, owner, &deep, newest).await;
    results.push((
        "read",
        measure(plans, |_| async {
            db.image(owner, image).await.expect("read").expect("found");
        })
        .await,
    ));
    results.push((
        "patch (tags and title)",
        measure(plans, |run| async move {
            let current = db.image(owner, image).await.expect("read").expect("found");
            let details = ImageDetails {
                title: Some(format!("edited {run}")),
                tags: vec!["travel".into(), format!("t{}", run % 7)],
                ..current.details()
            };
            db.edit_image(owner, image, current.revision, &details)
                .await
                .expect("edit");
        })
        .await,
    ));
    results.push((
        "variant list",
        measure(plans, |_| async {
            db.list_variants(image, 21, None).await.expect("variants");
        })
        .await,
    ));
    results.push((
        "cap check",
        measure(plans, |_| async {
            let new = NewVariant {
                image_id: image,
                sig: "AAAAAAAAAAAAAAAAAAAAAA".into(),
                canonical_query: "width=1".into(),
                bytes: 1,
                format: "webp".into(),
                accept_class: None,
                key_epoch: 0,
            };
            db.insert_variant_within(&new, 0).await.expect("cap check");
        })
        .await,
    ));
    results.push((
        "usage",
        measure(plans, |_| async {
            db.usage_summary(owner).await.expect("usage");
        })
        .await,
    ));
    results
}

/// The listing's operations: first page, a deep cursor, each filter.
async fn listings(
    db: &Db,
    plans: &Plans,
    owner: Uuid,
    deep: &PageCursor,
    newest: OffsetDateTime,
) -> Vec<(&'static str, Measured)> {
    let mut results = Vec::new();
    let filter = |f: ImageFilter| f;
    let filters: [(&'static str, ImageFilter); 7] = [
        (
            "filter: one tag (5 %)",
            filter(ImageFilter {
                tags: vec!["travel".into()],
                ..ImageFilter::default()
            }),
        ),
        (
            "filter: two tags (0.1 %)",
            filter(ImageFilter {
                tags: vec!["travel".into(), "t3".into()],
                ..ImageFilter::default()
            }),
        ),
        (
            "filter: format (png, 20 %)",
            filter(ImageFilter {
                format: Some("png".into()),
                ..ImageFilter::default()
            }),
        ),
        (
            "filter: q (a word of 2 % of titles)",
            filter(ImageFilter {
                words: Some("lighthouse".into()),
                ..ImageFilter::default()
            }),
        ),
        (
            "filter: created_after (recent)",
            filter(ImageFilter {
                created_after: Some(newest - time::Duration::days(1)),
                ..ImageFilter::default()
            }),
        ),
        (
            "filter: created_before (old)",
            filter(ImageFilter {
                created_before: Some(newest - time::Duration::days(1)),
                ..ImageFilter::default()
            }),
        ),
        (
            "sort: oldest first",
            filter(ImageFilter {
                order: SortOrder::OldestFirst,
                ..ImageFilter::default()
            }),
        ),
    ];
    results.push((
        "list: first page",
        measure(plans, |_| async {
            db.search_images(owner, &ImageFilter::default(), 21, None)
                .await
                .expect("list");
        })
        .await,
    ));
    results.push((
        "list: cursor 100 pages deep",
        measure(plans, |_| async {
            db.search_images(owner, &ImageFilter::default(), 21, Some(deep))
                .await
                .expect("list");
        })
        .await,
    ));
    for (name, f) in filters {
        let f = &f;
        results.push((
            name,
            measure(plans, |_| async move {
                db.search_images(owner, f, 21, None).await.expect("search");
            })
            .await,
        ));
    }
    results
}

fn millis(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1000.0)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    // `cargo test --all-targets` runs bench targets too: only `cargo bench` seeds.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let plans = Plans::default();
    tracing::subscriber::set_global_default(
        tracing_subscriber::registry().with(plans.clone()).with(
            tracing_subscriber::filter::Targets::new()
                .with_target("sqlx::postgres::notice", tracing::Level::INFO),
        ),
    )
    .expect("subscriber");
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let mut tables = Vec::new();
    for shape in [&SMALL, &LARGE] {
        let pool = seeded(&base, shape).await;
        let db = Db::from_pool(pool.clone());
        let heavy: Uuid = sqlx::query_scalar("SELECT md5('u0')::uuid")
            .fetch_one(&pool)
            .await
            .expect("id");
        let typical: Uuid = sqlx::query_scalar("SELECT md5('u1')::uuid")
            .fetch_one(&pool)
            .await
            .expect("id");
        let heavy_ops = operations(&pool, &db, &plans, heavy).await;
        let typical_ops = operations(&pool, &db, &plans, typical).await;
        tables.push((heavy_ops, typical_ops));
        pool.close().await;
    }
    let (small, large) = (&tables[0], &tables[1]);
    println!(
        "| operation | user | 1,000 images (ms) | 1,000,000 images (ms) | ratio | large-table scans |"
    );
    println!("|---|---|---|---|---|---|");
    let mut failures = Vec::new();
    for (user, s, l) in [
        ("heavy", &small.0, &large.0),
        ("typical", &small.1, &large.1),
    ] {
        for ((name, a), (_, b)) in s.iter().zip(l.iter()) {
            let ratio = b.median.as_secs_f64() / a.median.as_secs_f64().max(1e-9);
            let scans = if b.scans.is_empty() {
                "none".to_owned()
            } else {
                b.scans.join(", ")
            };
            println!(
                "| {name} | {user} | {} | {} | {ratio:.2}× | {scans} |",
                millis(a.median),
                millis(b.median)
            );
            if ratio > 2.0 {
                failures.push(format!(
                    "{name} ({user}): {ratio:.2}× the 1,000-image median"
                ));
            }
            if !b.scans.is_empty() {
                failures.push(format!("{name} ({user}): sequential scan of {scans}"));
            }
        }
    }
    if !failures.is_empty() {
        eprintln!("FAILED:\n  {}", failures.join("\n  "));
        std::process::exit(1);
    }
}
