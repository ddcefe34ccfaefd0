//! The metadata cache against real Redis: round trips, deletes, undecodable values, and a
//! Redis that is down, hung, or missed a delete (reads go to the source, never stale).

use std::time::{Duration, Instant};

use imgedge::cache::MetaCache;
use imgedge::redis::RedisHandle;
use serde::{Deserialize, Serialize};

use crate::ratelimit::{RedisServer, free_port, shared_redis, unique_prefix};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Meta {
    id: String,
    width: u32,
    height: u32,
    filename: Option<String>,
}

fn meta(id: &str) -> Meta {
    Meta {
        id: id.to_owned(),
        width: 4000,
        height: 3000,
        filename: Some("été.jpg".to_owned()),
    }
}

const TTL: Duration = Duration::from_mins(1);

/// Writes a raw value under the cache's key for `key`, expiring after `ttl` (as every value
/// the cache writes does).
async fn raw_set(redis: &RedisHandle, key: &str, value: &str, ttl: Duration) {
    let full = redis.key(&["meta", key]);
    let ttl_ms = u64::try_from(ttl.as_millis()).expect("small TTL");
    redis
        .run(|mut c| {
            let full = &full;
            async move {
                ::redis::cmd("SET")
                    .arg(full)
                    .arg(value)
                    .arg("PX")
                    .arg(ttl_ms)
                    .exec_async(&mut c)
                    .await
            }
        })
        .await
        .expect("SET");
}

#[tokio::test]
async fn put_then_get_round_trips_and_sets_the_ttl() {
    let redis = shared_redis("cache-rt");
    let cache = MetaCache::new(Some(redis.clone()), TTL);
    let key = MetaCache::image_key(uuid::Uuid::new_v4());
    assert_eq!(cache.get::<Meta>(&key).await, None, "a cold cache misses");

    cache.put(&key, &meta("a")).await;
    assert_eq!(cache.get::<Meta>(&key).await, Some(meta("a")));

    // A page of items round-trips too.
    let page_key = MetaCache::first_page_key("owner-1");
    cache.put(&page_key, &vec![meta("a"), meta("b")]).await;
    assert_eq!(
        cache.get::<Vec<Meta>>(&page_key).await,
        Some(vec![meta("a"), meta("b")])
    );

    let full = redis.key(&["meta", &key]);
    let pttl: i64 = redis
        .run(|mut c| {
            let full = &full;
            async move { ::redis::cmd("PTTL").arg(full).query_async(&mut c).await }
        })
        .await
        .expect("PTTL");
    assert!(pttl > 50_000 && pttl <= 60_000, "PTTL {pttl}");
}

#[tokio::test]
async fn entries_expire_after_the_ttl() {
    let cache = MetaCache::new(Some(shared_redis("cache-ttl")), Duration::from_millis(100));
    cache.put("k", &meta("a")).await;
    assert!(cache.get::<Meta>("k").await.is_some());
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(cache.get::<Meta>("k").await, None);
}

#[tokio::test]
async fn delete_removes_every_key_given() {
    let cache = MetaCache::new(Some(shared_redis("cache-del")), TTL);
    let (image, page) = (MetaCache::image_key("i1"), MetaCache::first_page_key("o1"));
    cache.put(&image, &meta("i1")).await;
    cache.put(&page, &vec![meta("i1")]).await;
    cache.put("other", &meta("x")).await;

    cache.delete(&[&image, &page]).await;
    assert_eq!(cache.get::<Meta>(&image).await, None);
    assert_eq!(cache.get::<Vec<Meta>>(&page).await, None);
    assert_eq!(
        cache.get::<Meta>("other").await,
        Some(meta("x")),
        "others kept"
    );
    cache.delete(&[]).await;
    cache.delete(&["never-existed"]).await;
    assert!(
        !cache.is_bypassed(),
        "successful deletes keep the cache in use"
    );
}

#[tokio::test]
async fn a_value_of_the_wrong_shape_is_a_miss() {
    let redis = shared_redis("cache-shape");
    let cache = MetaCache::new(Some(redis.clone()), TTL);
    cache.put("k", &"just a string").await;
    assert_eq!(cache.get::<Meta>("k").await, None);
    assert_eq!(
        cache.get::<String>("k").await.as_deref(),
        Some("just a string")
    );

    raw_set(&redis, "garbage", "{not json", TTL).await;
    assert_eq!(cache.get::<Meta>("garbage").await, None);
    raw_set(&redis, "partial", r#"{"id":"x","width":1}"#, TTL).await;
    assert_eq!(cache.get::<Meta>("partial").await, None);
    // Undecodable values are not a Redis failure: the cache stays in use.
    assert!(!cache.is_bypassed());
}

#[tokio::test]
async fn without_redis_everything_misses_and_nothing_fails() {
    let cache = MetaCache::new(None, TTL);
    cache.put("k", &meta("a")).await;
    assert_eq!(cache.get::<Meta>("k").await, None);
    cache.delete(&["k"]).await;
}

#[tokio::test]
async fn a_dead_redis_misses_quickly_and_writes_do_not_fail() {
    let dead = RedisHandle::new(
        &format!("redis://127.0.0.1:{}", free_port()),
        &unique_prefix("cache-dead"),
    )
    .expect("valid URL");
    let cache = MetaCache::new(Some(dead), TTL);
    let started = Instant::now();
    cache.put("k", &meta("a")).await;
    assert_eq!(cache.get::<Meta>("k").await, None);
    cache.delete(&["k", "l"]).await;
    for _ in 0..50 {
        assert_eq!(cache.get::<Meta>("k").await, None);
    }
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_hung_redis_is_bounded_and_a_missed_delete_bypasses_the_cache() {
    let server = RedisServer::start();
    let prefix = unique_prefix("cache-hung");
    let ttl = Duration::from_secs(2);
    let cache = MetaCache::new(
        Some(RedisHandle::new(&server.url(), &prefix).expect("valid URL")),
        ttl,
    );
    cache.put("img", &meta("old")).await;
    assert_eq!(cache.get::<Meta>("img").await, Some(meta("old")));

    // Redis stops answering while the API deletes after a write: the delete is lost.
    server.freeze(true);
    let started = Instant::now();
    cache.delete(&["img"]).await;
    assert_eq!(cache.get::<Meta>("img").await, None);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "took {:?}",
        started.elapsed()
    );
    server.freeze(false);

    // Redis is back and holds a stale value (as another process might have written it,
    // or as a delete lost in a partition leaves it); this process does not read it.
    let other = RedisHandle::new(&server.url(), &prefix).expect("valid URL");
    raw_set(
        &other,
        "img",
        &serde_json::to_string(&meta("stale")).expect("json"),
        ttl,
    )
    .await;
    assert!(cache.is_bypassed());
    assert_eq!(
        cache.get::<Meta>("img").await,
        None,
        "never the stale value"
    );
    cache.put("img", &meta("new")).await;

    // One TTL after the failed delete, every older entry has expired and the cache is used.
    let deadline = started + ttl + Duration::from_secs(5);
    while cache.is_bypassed() {
        assert!(Instant::now() < deadline, "still bypassed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    cache.put("img", &meta("new")).await;
    assert_eq!(cache.get::<Meta>("img").await, Some(meta("new")));
}

#[tokio::test]
async fn reads_use_the_cache_again_after_an_outage() {
    let mut server = RedisServer::start();
    let cache = MetaCache::new(
        Some(RedisHandle::new(&server.url(), &unique_prefix("cache-outage")).expect("valid URL")),
        TTL,
    );
    cache.put("k", &meta("a")).await;
    server.stop();
    assert_eq!(cache.get::<Meta>("k").await, None);
    server.restart();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        cache.put("k", &meta("b")).await;
        if cache.get::<Meta>("k").await == Some(meta("b")) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "cache unused after Redis came back"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_late_write_from_a_read_before_the_delete_does_not_resurrect_the_value() {
    let redis = shared_redis("cache-late");
    let cache = MetaCache::new(Some(redis), TTL);
    let key = MetaCache::image_key(uuid::Uuid::new_v4());
    cache.put(&key, &meta("a")).await;
    // A reader fetched the row just before the delete, and writes it back just after.
    cache.delete(&[&key]).await;
    cache.put(&key, &meta("a")).await;
    assert_eq!(
        cache.get::<Meta>(&key).await,
        None,
        "the deleted value stays gone"
    );
}
