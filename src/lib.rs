//! imgedge: an on-demand image service built around a CDN.
//!
//! The library holds every role's logic; `src/main.rs` is a thin command-line front.
//! See `ARCHITECTURE.md` for the code map and the invariants.

pub mod api;
pub mod backfill;
pub mod cache;
pub mod config;
pub mod db;
#[cfg(feature = "embedded-s3")]
pub mod dev;
pub mod edge;
pub mod error;
pub mod http;
pub mod invalidate;
pub mod prerender;
pub mod protocol;
pub mod purges;
pub mod ratelimit;
pub mod reconcile;
pub mod redis;
pub mod settings;
pub mod shutdown;
mod singleflight;
pub mod startup;
pub mod storage;
pub mod telemetry;
pub mod tools;
pub mod transformer;
