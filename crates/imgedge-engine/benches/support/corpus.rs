//! Where the benchmark corpus lives (`scripts/photo-corpus`), for every bench of the engine.

use std::path::PathBuf;

/// `IMGEDGE_CORPUS_DIR`, else `imgedge/corpus` under the cache directory.
pub(crate) fn corpus_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("IMGEDGE_CORPUS_DIR") {
        return PathBuf::from(dir);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME").map_or_else(
        || PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache"),
        PathBuf::from,
    );
    cache.join("imgedge").join("corpus")
}
