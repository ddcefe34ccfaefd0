//! imgedge: an on-demand image service built around a CDN.
//!
//! The library holds every role's logic; `src/main.rs` is a thin command-line front.
//! See `ARCHITECTURE.md` for the code map and the invariants.

pub mod engine;
pub mod tools;
pub mod url;
