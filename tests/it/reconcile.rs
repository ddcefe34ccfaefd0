//! `imgedge reconcile`: objects left without a database row are removed, and nothing else.

use std::time::Duration;

use bytes::Bytes;
use imgedge::db::{Db, NewImage};
use imgedge::reconcile::reconcile;
use sqlx::PgPool;
use uuid::Uuid;

use crate::api_support::TestApp;

#[sqlx::test(migrations = "./migrations")]
async fn orphans_are_removed_and_live_images_kept(pool: PgPool) {
    let db = Db::from_pool(pool.clone());
    let app = TestApp::spawn(pool).await;
    let store = &app.store;

    // A live image: its row, its original and a variant.
    let owner = Uuid::new_v4();
    db.create_user(
        owner,
        "owner@example.com",
        "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA",
    )
    .await
    .expect("user");
    let live = Uuid::new_v4();
    db.insert_image(&NewImage {
        id: live,
        owner_id: owner,
        filename: None,
        format: "jpeg".into(),
        width: 10,
        height: 10,
        frames: 1,
        bytes: 4,
        blake3: [0; 32],
        placeholder: None,
    })
    .await
    .expect("image row");
    let put = |key: String| async move {
        store
            .put(&key, Bytes::from_static(b"data"), "image/jpeg")
            .await
            .expect("put");
    };
    put(format!("o/{live}")).await;
    put(format!("v/{live}/AAAAAAAAAAAAAAAAAAAAAA")).await;
    // What a crash leaves: an original whose INSERT never happened, and variants of an image
    // whose row was deleted before its objects were.
    let orphan = Uuid::new_v4();
    let deleted = Uuid::new_v4();
    put(format!("o/{orphan}")).await;
    put(format!("v/{deleted}/AAAAAAAAAAAAAAAAAAAAAA")).await;
    put(format!("v/{deleted}/BBBBBBBBBBBBBBBBBBBBBB")).await;
    // Not ours: keys of another shape are never touched.
    put("o/readme.txt".to_owned()).await;

    // Young objects may belong to an upload between its steps: a one-hour grace keeps them.
    let report = reconcile(&db, store, Duration::from_hours(1), false)
        .await
        .expect("reconcile");
    assert!(report.orphan_originals.is_empty() && report.orphan_variant_sets.is_empty());
    assert_eq!(app.objects().await.len(), 6);

    let dry = reconcile(&db, store, Duration::ZERO, true)
        .await
        .expect("dry run");
    assert_eq!(dry.orphan_originals, vec![orphan]);
    assert_eq!(dry.orphan_variant_sets, vec![deleted]);
    assert_eq!(app.objects().await.len(), 6, "a dry run removes nothing");

    let report = reconcile(&db, store, Duration::ZERO, false)
        .await
        .expect("reconcile");
    assert_eq!(report.orphan_originals, vec![orphan]);
    assert_eq!(report.variants_removed, 2);
    let mut left = app.objects().await;
    left.sort();
    let mut expected = vec![
        format!("o/{live}"),
        "o/readme.txt".to_owned(),
        format!("v/{live}/AAAAAAAAAAAAAAAAAAAAAA"),
    ];
    expected.sort();
    assert_eq!(left, expected);
}
