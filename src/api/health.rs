//! Liveness, readiness and metrics.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AppState;
use crate::error::ErrorCode;

/// How long readiness waits for each dependency.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Alive: the process answers.
pub(super) async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

async fn probe<E: std::fmt::Display>(
    check: impl Future<Output = Result<(), E>>,
) -> Result<(), String> {
    match tokio::time::timeout(PROBE_TIMEOUT, check).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("timed out".into()),
    }
}

/// Ready when PostgreSQL and S3 answer. Redis is reported but does not make the API
/// unready: without it the API keeps serving, with in-process rate limits and no cache.
pub(super) async fn readyz(State(state): State<AppState>) -> Response {
    let (db, s3, redis) = tokio::join!(
        probe(state.0.db.ping()),
        probe(state.0.store.ping()),
        async {
            match &state.0.redis {
                Some(redis) => probe(redis.ping()).await.map(|()| "ok"),
                None => Ok("disabled"),
            }
        },
    );
    let status = crate::http::dependency_state::<(), String>;
    for (name, result) in [("postgres", &db), ("s3", &s3)] {
        if let Err(cause) = result {
            tracing::warn!(dependency = name, %cause, "not ready");
        }
    }
    let ready = db.is_ok() && s3.is_ok();
    let body = json!({
        "status": if ready { "ready" } else { ErrorCode::Unavailable.as_str() },
        "postgres": status(&db),
        "s3": status(&s3),
        "redis": redis.unwrap_or("degraded"),
    });
    let code = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(body)).into_response()
}

/// Prometheus text format.
pub(super) async fn metrics() -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        crate::telemetry::render_metrics(),
    )
        .into_response()
}
