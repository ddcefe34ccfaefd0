//! The Postgres data layer against a real server: each `#[sqlx::test]` gets a fresh
//! database (`DATABASE_URL` names the server, e.g. `postgres://postgres@127.0.0.1:5432/postgres`).

use std::collections::HashSet;
use std::time::{Duration, Instant};

use imgedge::db::{
    DatabaseSettings, Db, DbError, Image, NewImage, NewRefreshToken, NewVariant, OverQuota,
    PageCursor, PendingPurge, StorageQuota, StorageUsage, TokenRotation, VariantRecorded,
};
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

/// A well-formed Argon2id PHC string (the schema refuses anything else).
const HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA";

async fn user(db: &Db, email: &str) -> Uuid {
    let id = Uuid::new_v4();
    db.create_user(id, email, HASH).await.expect("user created");
    id
}

/// A fresh refresh token (hash and row) for `user` in `family`, valid for an hour.
fn token(user: Uuid, family: Uuid) -> NewRefreshToken {
    NewRefreshToken {
        id: Uuid::new_v4(),
        user_id: user,
        family_id: family,
        token_hash: *blake3::hash(Uuid::new_v4().as_bytes()).as_bytes(),
        expires_at: OffsetDateTime::now_utc() + Duration::from_hours(1),
        session_expires_at: OffsetDateTime::now_utc() + Duration::from_hours(2),
    }
}

/// A successor token: its user and family are taken from the presented one, so these are
/// deliberately wrong to prove they are ignored.
fn next() -> NewRefreshToken {
    token(Uuid::new_v4(), Uuid::new_v4())
}

fn new_image(owner: Uuid) -> NewImage {
    let id = Uuid::new_v4();
    NewImage {
        id,
        owner_id: owner,
        filename: Some("photo.jpg".to_owned()),
        format: "jpeg".to_owned(),
        width: 4000,
        height: 3000,
        frames: 1,
        bytes: 2_345_678,
        blake3: *blake3::hash(id.as_bytes()).as_bytes(),
        placeholder: None,
    }
}

/// Deletes `owner`'s image `id` as the API does, owing its purge.
async fn delete(db: &Db, owner: Uuid, id: Uuid) -> Option<PendingPurge> {
    db.delete_image_owing_purge(
        owner,
        id,
        None,
        &format!("/i/{id}/*"),
        Duration::from_mins(1),
    )
    .await
    .expect("delete")
}

fn variant(image_id: Uuid, sig: &str) -> NewVariant {
    NewVariant {
        image_id,
        sig: sig.to_owned(),
        canonical_query: "width=800".to_owned(),
        bytes: 54_321,
        format: "webp".to_owned(),
        accept_class: None,
        key_epoch: 0,
    }
}

#[sqlx::test(migrations = "./migrations")]
async fn duplicate_email_conflicts_whatever_its_case_and_spacing(pool: PgPool) {
    let db = Db::from_pool(pool);
    let id = user(&db, "Alice@Example.com").await;

    let again = db
        .create_user(Uuid::new_v4(), "  alice@EXAMPLE.COM ", HASH)
        .await;
    assert!(matches!(again, Err(DbError::Conflict)), "{again:?}");

    let found = db
        .user_by_email(" ALICE@example.com")
        .await
        .expect("lookup")
        .expect("found");
    assert_eq!(found.id, id);
    assert_eq!(found.email, "alice@example.com");
    assert_eq!(found.password_hash, HASH);
    assert_eq!(db.user_by_id(id).await.expect("lookup"), Some(found));
    assert_eq!(
        db.user_by_email("bob@example.com").await.expect("lookup"),
        None
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn only_argon2id_hashes_are_stored(pool: PgPool) {
    let db = Db::from_pool(pool);
    let plain = db
        .create_user(Uuid::new_v4(), "carol@example.com", "hunter2hunter2")
        .await;
    assert!(matches!(plain, Err(DbError::Other(_))), "{plain:?}");
}

#[sqlx::test(migrations = "./migrations")]
async fn a_refresh_token_rotates_once_and_its_reuse_revokes_the_family(pool: PgPool) {
    let db = Db::from_pool(pool);
    let alice = user(&db, "alice@example.com").await;
    let family = Uuid::new_v4();
    let first = token(alice, family);
    db.insert_refresh_token(&first).await.expect("stored");
    // Another session of the same user, which the reuse must not touch.
    let other_session = token(alice, Uuid::new_v4());
    db.insert_refresh_token(&other_session)
        .await
        .expect("stored");

    let second = next();
    assert_eq!(
        db.rotate_refresh_token(&first.token_hash, &second)
            .await
            .expect("rotate"),
        TokenRotation::Rotated {
            user_id: alice,
            session_epoch: 0
        }
    );

    // The first token again: someone holds a copy.
    let stolen_next = next();
    assert_eq!(
        db.rotate_refresh_token(&first.token_hash, &stolen_next)
            .await
            .expect("rotate"),
        TokenRotation::Reused
    );
    // The family is revoked: the newest token is refused too, and nothing was issued.
    assert_eq!(
        db.rotate_refresh_token(&second.token_hash, &next())
            .await
            .expect("rotate"),
        TokenRotation::Reused
    );
    assert_eq!(
        db.rotate_refresh_token(&stolen_next.token_hash, &next())
            .await
            .expect("rotate"),
        TokenRotation::Unknown
    );

    assert_eq!(
        db.rotate_refresh_token(&other_session.token_hash, &next())
            .await
            .expect("rotate"),
        TokenRotation::Rotated {
            user_id: alice,
            session_epoch: 0
        }
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn expired_and_unknown_refresh_tokens_are_refused(pool: PgPool) {
    let db = Db::from_pool(pool);
    let alice = user(&db, "alice@example.com").await;
    let mut expired = token(alice, Uuid::new_v4());
    expired.expires_at = OffsetDateTime::now_utc() - Duration::from_secs(1);
    db.insert_refresh_token(&expired).await.expect("stored");

    let successor = next();
    for _ in 0..2 {
        assert_eq!(
            db.rotate_refresh_token(&expired.token_hash, &successor)
                .await
                .expect("rotate"),
            TokenRotation::Expired
        );
    }
    assert_eq!(
        db.rotate_refresh_token(&successor.token_hash, &next())
            .await
            .expect("rotate"),
        TokenRotation::Unknown
    );
    assert_eq!(
        db.rotate_refresh_token(&[7; 32], &next())
            .await
            .expect("rotate"),
        TokenRotation::Unknown
    );

    let removed = db
        .delete_refresh_tokens_expired_before(OffsetDateTime::now_utc())
        .await
        .expect("purge");
    assert_eq!(removed, 1);
}

#[sqlx::test(migrations = "./migrations")]
async fn concurrent_rotations_of_one_token_rotate_exactly_once(pool: PgPool) {
    let db = Db::from_pool(pool);
    let alice = user(&db, "alice@example.com").await;
    for round in 0..20 {
        let presented = token(alice, Uuid::new_v4());
        db.insert_refresh_token(&presented).await.expect("stored");
        let (a, b) = (next(), next());
        let (ra, rb) = tokio::join!(
            tokio::spawn({
                let db = db.clone();
                let hash = presented.token_hash;
                let a = a.clone();
                async move { db.rotate_refresh_token(&hash, &a).await }
            }),
            tokio::spawn({
                let db = db.clone();
                let hash = presented.token_hash;
                let b = b.clone();
                async move { db.rotate_refresh_token(&hash, &b).await }
            }),
        );
        let ra = ra.expect("task").expect("rotate");
        let rb = rb.expect("task").expect("rotate");
        let winner = match (ra, rb) {
            (TokenRotation::Rotated { user_id, .. }, TokenRotation::Reused) => {
                assert_eq!(user_id, alice);
                a
            }
            (TokenRotation::Reused, TokenRotation::Rotated { user_id, .. }) => {
                assert_eq!(user_id, alice);
                b
            }
            other => panic!("round {round}: expected one Rotated and one Reused, got {other:?}"),
        };
        // The loser's reuse revoked the family, including the winner's new token.
        assert_eq!(
            db.rotate_refresh_token(&winner.token_hash, &next())
                .await
                .expect("rotate"),
            TokenRotation::Reused,
            "round {round}"
        );
    }
}

#[sqlx::test(migrations = "./migrations")]
async fn a_reuse_racing_a_legitimate_rotation_still_revokes_its_successor(pool: PgPool) {
    let db = Db::from_pool(pool);
    let alice = user(&db, "alice@example.com").await;
    for round in 0..20 {
        let old = token(alice, Uuid::new_v4());
        db.insert_refresh_token(&old).await.expect("stored");
        let current = next();
        db.rotate_refresh_token(&old.token_hash, &current)
            .await
            .expect("rotate");

        // The legitimate client rotates `current` while a thief replays `old`.
        let (legit_next, thief_next) = (next(), next());
        let (legit, thief) = tokio::join!(
            tokio::spawn({
                let (db, hash, n) = (db.clone(), current.token_hash, legit_next.clone());
                async move { db.rotate_refresh_token(&hash, &n).await }
            }),
            tokio::spawn({
                let (db, hash, n) = (db.clone(), old.token_hash, thief_next.clone());
                async move { db.rotate_refresh_token(&hash, &n).await }
            }),
        );
        assert_eq!(thief.expect("task").expect("rotate"), TokenRotation::Reused);
        let legit = legit.expect("task").expect("rotate");
        assert!(
            matches!(legit, TokenRotation::Rotated { .. } | TokenRotation::Reused),
            "round {round}: {legit:?}"
        );
        // Whichever ran first, nothing in the family is usable afterwards.
        let after = db
            .rotate_refresh_token(&legit_next.token_hash, &next())
            .await
            .expect("rotate");
        assert!(
            matches!(after, TokenRotation::Reused | TokenRotation::Unknown),
            "round {round}: the successor survived the family's revocation: {after:?}"
        );
        assert_eq!(
            db.rotate_refresh_token(&thief_next.token_hash, &next())
                .await
                .expect("rotate"),
            TokenRotation::Unknown
        );
    }
}

#[sqlx::test(migrations = "./migrations")]
async fn images_are_stored_and_scoped_to_their_owner(pool: PgPool) {
    let db = Db::from_pool(pool);
    let alice = user(&db, "alice@example.com").await;
    let bob = user(&db, "bob@example.com").await;

    let new = new_image(alice);
    let before = OffsetDateTime::now_utc() - Duration::from_mins(1);
    let stored = db.insert_image(&new).await.expect("inserted");
    assert_eq!(stored.id, new.id);
    assert_eq!(stored.owner_id, alice);
    assert_eq!(stored.filename.as_deref(), Some("photo.jpg"));
    assert_eq!(stored.format, "jpeg");
    assert_eq!(
        (stored.width, stored.height, stored.frames, stored.bytes),
        (4000, 3000, 1, 2_345_678)
    );
    assert_eq!(stored.blake3, new.blake3);
    assert!(stored.created_at > before);
    assert_eq!(
        db.image(alice, new.id).await.expect("get"),
        Some(stored.clone())
    );
    let again = db.insert_image(&new).await;
    assert!(matches!(again, Err(DbError::Conflict)), "{again:?}");

    // Bob sees nothing of it, and cannot delete it.
    assert_eq!(db.image(bob, new.id).await.expect("get"), None);
    assert!(
        db.list_images(bob, 10, None)
            .await
            .expect("list")
            .is_empty()
    );
    assert_eq!(delete(&db, bob, new.id).await, None);
    assert_eq!(
        db.owed_purges().await.expect("count"),
        0,
        "nothing deleted, nothing owed"
    );
    assert_eq!(db.image(alice, new.id).await.expect("get"), Some(stored));

    // A raw-body upload has no filename.
    let unnamed = NewImage {
        filename: None,
        ..new_image(alice)
    };
    assert_eq!(
        db.insert_image(&unnamed).await.expect("inserted").filename,
        None
    );
    assert_eq!(
        db.list_images(alice, 10, None).await.expect("list").len(),
        2
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn the_schema_refuses_impossible_metadata(pool: PgPool) {
    let db = Db::from_pool(pool);
    let alice = user(&db, "alice@example.com").await;
    let cases = [
        NewImage {
            format: "svg".to_owned(),
            ..new_image(alice)
        },
        NewImage {
            width: 0,
            ..new_image(alice)
        },
        NewImage {
            bytes: 0,
            ..new_image(alice)
        },
        NewImage {
            filename: Some(String::new()),
            ..new_image(alice)
        },
        NewImage {
            filename: Some("x".repeat(imgedge::db::MAX_FILENAME_CHARS + 1)),
            ..new_image(alice)
        },
        NewImage {
            height: u32::MAX,
            ..new_image(alice)
        },
        // No such user.
        new_image(Uuid::new_v4()),
    ];
    for case in cases {
        let result = db.insert_image(&case).await;
        assert!(
            matches!(result, Err(DbError::Other(_))),
            "{case:?}: {result:?}"
        );
    }
    assert!(
        db.list_images(alice, 10, None)
            .await
            .expect("list")
            .is_empty()
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn keyset_pages_cover_every_image_once_newest_first(pool: PgPool) {
    let db = Db::from_pool(pool.clone());
    let alice = user(&db, "alice@example.com").await;
    let bob = user(&db, "bob@example.com").await;
    db.insert_image(&new_image(bob)).await.expect("inserted");

    let mut ids = Vec::new();
    for _ in 0..25 {
        ids.push(
            db.insert_image(&new_image(alice))
                .await
                .expect("inserted")
                .id,
        );
    }
    // Groups of three share a timestamp (microsecond precision), so ties on created_at are
    // broken by id across page boundaries.
    let base = OffsetDateTime::now_utc()
        .replace_nanosecond(123_456_000)
        .expect("valid");
    for (i, id) in ids.iter().enumerate() {
        sqlx::query("UPDATE images SET created_at = $1 WHERE id = $2")
            .bind(base + Duration::from_secs((i / 3) as u64))
            .bind(id)
            .execute(&pool)
            .await
            .expect("backdated");
    }
    let mut expected: Vec<Image> = Vec::new();
    for id in &ids {
        expected.push(db.image(alice, *id).await.expect("get").expect("exists"));
    }
    expected.sort_by_key(|i| std::cmp::Reverse((i.created_at, i.id)));

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut sizes = Vec::new();
    loop {
        let after = cursor
            .as_deref()
            .map(|c| PageCursor::decode(c).expect("a cursor we encoded"));
        let page = db
            .list_images(alice, 10, after.as_ref())
            .await
            .expect("list");
        sizes.push(page.len());
        let Some(last) = page.last() else { break };
        cursor = Some(last.cursor().encode());
        seen.extend(page);
    }
    assert_eq!(sizes, [10, 10, 5, 0]);
    assert_eq!(seen, expected);
    let unique: HashSet<Uuid> = seen.iter().map(|i| i.id).collect();
    assert_eq!(unique.len(), 25);
    assert!(seen.iter().all(|i| i.owner_id == alice));

    assert!(
        db.list_images(alice, 0, None)
            .await
            .expect("list")
            .is_empty()
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn deleting_an_image_removes_its_variants(pool: PgPool) {
    let db = Db::from_pool(pool);
    let alice = user(&db, "alice@example.com").await;
    let image = db.insert_image(&new_image(alice)).await.expect("inserted");
    let kept = db.insert_image(&new_image(alice)).await.expect("inserted");

    let sig_a = "AAAAAAAAAAAAAAAAAAAAAA";
    let sig_b = "abcdefghijklmnopqrstuw";
    for (id, sig) in [(image.id, sig_a), (image.id, sig_b), (kept.id, sig_a)] {
        assert_eq!(
            db.insert_variant(&variant(id, sig))
                .await
                .expect("recorded"),
            VariantRecorded::Inserted
        );
    }
    assert_eq!(
        db.insert_variant(&variant(image.id, sig_a))
            .await
            .expect("recorded"),
        VariantRecorded::AlreadyPresent
    );
    assert_eq!(db.variant_count(image.id).await.expect("count"), 2);
    let mut sigs = db.variant_sigs(image.id).await.expect("sigs");
    sigs.sort();
    assert_eq!(sigs, [sig_a, sig_b]);

    let owed = delete(&db, alice, image.id).await.expect("deleted");
    assert_eq!(
        owed.path,
        format!("/i/{}/*", image.id),
        "the delete owes its purge"
    );
    assert_eq!(db.variant_count(image.id).await.expect("count"), 0);
    assert_eq!(db.image(alice, image.id).await.expect("get"), None);
    assert_eq!(delete(&db, alice, image.id).await, None);
    assert_eq!(db.owed_purges().await.expect("count"), 1);
    assert_eq!(db.variant_count(kept.id).await.expect("count"), 1);

    // A render that finishes after the delete learns its object is an orphan.
    assert_eq!(
        db.insert_variant(&variant(image.id, sig_a))
            .await
            .expect("recorded"),
        VariantRecorded::ImageGone
    );
    let bad_sig = db.insert_variant(&variant(kept.id, "short")).await;
    assert!(matches!(bad_sig, Err(DbError::Other(_))), "{bad_sig:?}");
}

/// Several processes draining one outbox at once each take different purges, and a purge
/// taken by one is not taken again until its lease runs out or its send fails.
#[sqlx::test(migrations = "./migrations")]
async fn concurrent_drainers_take_each_purge_once(pool: PgPool) {
    let db = Db::from_pool(pool);
    let owner = user(&db, "owner@example.com").await;
    let mut owed = Vec::new();
    for _ in 0..40 {
        let id = db.insert_image(&new_image(owner)).await.expect("image").id;
        // Owed with no lease: due at once, as after a failed send.
        let purge = db
            .delete_image_owing_purge(owner, id, None, &format!("/i/{id}/*"), Duration::ZERO)
            .await
            .expect("delete")
            .expect("deleted");
        owed.push(purge.id);
    }
    let lease = Duration::from_mins(1);
    let takers = (0..8).map(|_| db.take_due_purges(15, lease));
    let mut taken: Vec<i64> = futures::future::join_all(takers)
        .await
        .into_iter()
        .flat_map(|r| r.expect("take"))
        .map(|p| p.id)
        .collect();
    taken.sort_unstable();
    owed.sort_unstable();
    assert_eq!(taken, owed, "every purge taken exactly once");
    assert!(
        db.take_due_purges(15, lease)
            .await
            .expect("take")
            .is_empty(),
        "leased purges are not due"
    );

    // A failed send makes them due again after the backoff, not before (a backoff long
    // enough that a loaded machine's pause between two queries does not pass it).
    db.purges_failed(&owed[..5], Duration::from_secs(3), Duration::from_secs(30))
        .await
        .expect("failed");
    assert!(
        db.take_due_purges(15, lease)
            .await
            .expect("take")
            .is_empty()
    );
    tokio::time::sleep(Duration::from_millis(3100)).await;
    let again = db.take_due_purges(15, lease).await.expect("take");
    assert_eq!(again.len(), 5);
    db.purges_sent(&owed).await.expect("sent");
    assert_eq!(db.owed_purges().await.expect("count"), 0);
}

#[sqlx::test(migrations = "./migrations")]
async fn reconcile_queries_see_every_owner(pool: PgPool) {
    let db = Db::from_pool(pool);
    let alice = user(&db, "alice@example.com").await;
    let bob = user(&db, "bob@example.com").await;
    let mut stored = Vec::new();
    for owner in [alice, bob, alice, bob, alice] {
        stored.push(db.insert_image(&new_image(owner)).await.expect("inserted"));
    }

    let absent = Uuid::new_v4();
    let mut asked: Vec<Uuid> = stored.iter().map(|i| i.id).take(3).collect();
    asked.push(absent);
    let mut found = db.existing_image_ids(&asked).await.expect("ids");
    found.sort();
    let mut want: Vec<Uuid> = stored.iter().map(|i| i.id).take(3).collect();
    want.sort();
    assert_eq!(found, want);
    assert!(db.existing_image_ids(&[]).await.expect("ids").is_empty());

    let mut scanned = Vec::new();
    let mut after = None;
    loop {
        let page = db.scan_images(after, 2).await.expect("scan");
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        scanned.extend(page);
    }
    let mut all: Vec<(Uuid, Uuid)> = stored.iter().map(|i| (i.id, i.owner_id)).collect();
    all.sort();
    assert_eq!(
        scanned
            .iter()
            .map(|r| (r.id, r.owner_id))
            .collect::<Vec<_>>(),
        all
    );
}

#[sqlx::test(migrations = false)]
async fn migrate_is_idempotent(pool: PgPool) {
    let db = Db::from_pool(pool);
    db.migrate().await.expect("first run applies the schema");
    db.migrate().await.expect("second run is a no-op");
    user(&db, "alice@example.com").await;
    db.ping().await.expect("ping");
}

#[tokio::test]
async fn an_unreachable_database_is_unavailable_within_seconds() {
    // Nothing listens on port 1; the lazy pool lets `connect` itself succeed.
    let unreachable = DatabaseSettings::new("postgres://postgres@127.0.0.1:1/postgres");
    let db = Db::connect(&unreachable).await.expect("a lazy pool");
    let started = Instant::now();
    let ping = db.ping().await;
    assert!(matches!(ping, Err(DbError::Unavailable(_))), "{ping:?}");
    let listed = db.list_images(Uuid::new_v4(), 10, None).await;
    assert!(matches!(listed, Err(DbError::Unavailable(_))), "{listed:?}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );

    let migrated = imgedge::db::migrate_command(&unreachable, Duration::ZERO).await;
    assert!(
        matches!(migrated, Err(DbError::Unavailable(_))),
        "{migrated:?}"
    );
}

#[tokio::test]
async fn a_malformed_url_is_an_error_not_a_panic() {
    let result = Db::connect(&DatabaseSettings::new("not a url")).await;
    assert!(matches!(result, Err(DbError::Other(_))), "{result:?}");
}

/// Storage usage follows the images whatever deletes them, and the quota holds at insert.
#[sqlx::test(migrations = "./migrations")]
async fn storage_usage_follows_every_insert_and_delete(pool: PgPool) {
    let db = Db::from_pool(pool);
    let alice = user(&db, "alice@example.com").await;
    let bob = user(&db, "bob@example.com").await;
    let size = new_image(alice).bytes;
    let quota = StorageQuota {
        bytes: 3 * size,
        images: 2,
    };
    assert_eq!(
        db.storage_usage(alice).await.expect("usage"),
        StorageUsage::default()
    );

    let first = db.insert_image(&new_image(alice)).await.expect("inserted");
    let second = db
        .insert_image_within(&new_image(alice), &quota, &[])
        .await
        .expect("database")
        .expect("within the quota");
    let usage = db.storage_usage(alice).await.expect("usage");
    assert_eq!((usage.images, usage.bytes), (2, 2 * size));
    let refused = db
        .insert_image_within(&new_image(alice), &quota, &[])
        .await
        .expect("database");
    assert_eq!(
        refused,
        Err(OverQuota { usage }),
        "the third image is past 2"
    );
    assert_eq!(db.storage_usage(alice).await.expect("usage"), usage);
    db.insert_image_within(&new_image(bob), &quota, &[])
        .await
        .expect("database")
        .expect("bob has his own quota");

    // The owner's deletes free room.
    assert!(delete(&db, alice, first.id).await.is_some());
    assert!(delete(&db, alice, second.id).await.is_some());
    assert_eq!(
        db.storage_usage(alice).await.expect("usage"),
        StorageUsage::default()
    );
    let usage = db.storage_usage(bob).await.expect("usage");
    assert_eq!((usage.images, usage.bytes), (1, size));
}
