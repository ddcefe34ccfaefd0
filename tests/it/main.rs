//! The one integration-test binary: each module tests one capability end to end.

mod abuse;
mod accounts;
mod api;
mod api_support;
mod architecture;
mod binary;
mod cache;
mod cli;
mod db;
mod delivery;
mod delivery_support;
mod engine;
mod fairness;
mod faults;
mod hostile;
mod operations;
mod purges;
mod ratelimit;
mod reconcile;
mod sessions;
mod settings;
mod storage;
mod support;
mod uploads;
