//! The one integration-test binary: each module tests one capability end to end.

mod cli;
mod engine;
mod support;
mod url_vectors;
