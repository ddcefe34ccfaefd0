//! The invariants of `ARCHITECTURE.md` that can be checked by reading the sources: which
//! module may use which dependency, where the error codes are spelt, how large a file may
//! grow, what the fuzz build compiles, and that the code map names every file.

use std::path::{Path, PathBuf};

use imgedge::error::ErrorCode;
use imgedge_url::{Param, UrlError};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Files under `dir` (relative to the repository), recursively, whose name passes `keep`.
fn files(dir: &str, keep: &dyn Fn(&Path) -> bool) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![root().join(dir)];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if keep(&path) {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

fn rust(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "rs")
}

/// The Rust sources of the service and its crates, outside the tests.
fn sources() -> Vec<PathBuf> {
    let mut all = files("src", &rust);
    for krate in [
        "crates/imgedge-url",
        "crates/imgedge-engine",
        "crates/imgedge-upload",
    ] {
        all.extend(files(&format!("{krate}/src"), &rust));
        all.push(root().join(format!("{krate}/build.rs")));
    }
    all.retain(|p| p.exists() && p.file_name().is_some_and(|n| n != "tests.rs"));
    all
}

fn relative(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// A source's code: comments dropped, and the unit tests at its end (`#[cfg(test)]`) too.
fn code_of(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("a source file");
    let text = text.split("\n#[cfg(test)]").next().unwrap_or_default();
    text.lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Which sources outside `allowed` (path prefixes) contain `needle` in their code.
fn used_outside(needle: &str, allowed: &[&str]) -> Vec<String> {
    sources()
        .iter()
        .filter(|p| !allowed.iter().any(|a| relative(p).starts_with(a)))
        .filter(|p| code_of(p).contains(needle))
        .map(|p| relative(p))
        .collect()
}

#[test]
fn sql_lives_in_the_database_module_only() {
    assert_eq!(used_outside("sqlx", &["src/db/"]), Vec::<String>::new());
}

#[test]
fn s3_is_reached_through_the_storage_module_only() {
    assert_eq!(
        used_outside("aws_sdk_s3", &["src/storage/"]),
        Vec::<String>::new()
    );
}

/// The engine's two C APIs, each declared in one file: libvips' and libheif's.
const FFI_FILES: [&str; 2] = [
    "crates/imgedge-engine/src/vips/ffi.rs",
    "crates/imgedge-engine/src/heif/ffi.rs",
];

#[test]
fn only_the_engines_ffi_module_declares_c_functions() {
    assert_eq!(
        used_outside("extern \"C\"", &FFI_FILES),
        Vec::<String>::new()
    );
    // Each of the two is one C library's: no libheif call among libvips' and none the
    // other way, so a module's unsafe surface is read in its own file.
    let declares =
        |file: &str, prefix: &str| code_of(&root().join(file)).contains(&format!("fn {prefix}"));
    assert!(declares(FFI_FILES[0], "vips_") && !declares(FFI_FILES[0], "heif_"));
    assert!(declares(FFI_FILES[1], "heif_") && !declares(FFI_FILES[1], "vips_"));
}

#[test]
fn error_bodies_are_built_by_the_error_contract_only() {
    for needle in ["\"error\":", "json_error"] {
        assert_eq!(
            used_outside(needle, &["src/error/"]),
            Vec::<String>::new(),
            "{needle}"
        );
    }
}

/// Every public code as its string: the service's, then the URL contract's.
fn public_codes() -> Vec<&'static str> {
    let p = Param::Width;
    let url = [
        UrlError::DuplicateParam(p),
        UrlError::BadValue(p),
        UrlError::OutOfRange(p),
        UrlError::BadImageId,
        UrlError::BadSig,
    ];
    ErrorCode::ALL
        .iter()
        .map(|c| c.as_str())
        .chain(url.iter().map(|e| e.code()))
        .collect()
}

#[test]
fn each_public_code_is_spelt_in_one_place() {
    let sources: Vec<(String, String)> = sources()
        .iter()
        .map(|p| (relative(p), code_of(p)))
        .collect();
    let mut wrong = Vec::new();
    for code in public_codes() {
        let quoted = format!("\"{code}\"");
        let places: Vec<String> = sources
            .iter()
            .flat_map(|(path, code_text)| {
                code_text
                    .lines()
                    // A `Debug` field of the same name is not the code.
                    .filter(|line| line.contains(&quoted) && !line.contains(".field("))
                    .map(move |_| path.clone())
            })
            .collect();
        if places.len() != 1 {
            wrong.push(format!("{code}: {places:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn no_source_file_is_over_600_lines() {
    let long: Vec<String> = sources()
        .iter()
        .filter_map(|p| {
            let lines = std::fs::read_to_string(p).ok()?.lines().count();
            (lines > 600).then(|| format!("{} ({lines} lines)", relative(p)))
        })
        .collect();
    assert!(long.is_empty(), "{long:?}");
}

/// The package names in a `Cargo.lock`.
fn locked_packages(lock: &str) -> Vec<String> {
    let text = std::fs::read_to_string(root().join(lock)).expect("a lock file");
    text.lines()
        .filter_map(|line| line.strip_prefix("name = \""))
        .map(|name| name.trim_end_matches('"').to_owned())
        .collect()
}

#[test]
fn the_fuzz_build_compiles_what_it_fuzzes_and_no_service() {
    let packages = locked_packages("fuzz/Cargo.lock");
    let unwanted: Vec<&String> = packages
        .iter()
        .filter(|name| {
            name.starts_with("aws-")
                || ["imgedge", "sqlx", "axum", "hyper", "tokio", "redis"].contains(&name.as_str())
        })
        .collect();
    assert!(unwanted.is_empty(), "the fuzz build compiles {unwanted:?}");
    for wanted in ["imgedge-url", "imgedge-upload", "imgedge-engine"] {
        assert!(packages.iter().any(|p| p == wanted), "{wanted}");
    }
}

#[test]
fn the_url_contract_does_no_io() {
    let manifest =
        std::fs::read_to_string(root().join("crates/imgedge-url/Cargo.toml")).expect("manifest");
    let dependencies = manifest
        .split("[dependencies]")
        .nth(1)
        .and_then(|rest| rest.split("\n[").next())
        .expect("a [dependencies] table");
    let names: Vec<&str> = dependencies
        .lines()
        .filter_map(|line| line.split(['.', ' ', '=']).next())
        .filter(|name| !name.is_empty() && !name.starts_with('#'))
        .collect();
    let pure = [
        "base64",
        "blake3",
        "hex",
        "thiserror",
        "unicode-normalization",
        "uuid",
    ];
    for name in &names {
        assert!(pure.contains(name), "imgedge-url depends on {name}");
    }
    for path in files("crates/imgedge-url/src", &rust) {
        let code = code_of(&path);
        for io in [
            "std::fs",
            "std::net",
            "std::io",
            "std::process",
            "tokio",
            "std::env",
        ] {
            assert!(!code.contains(io), "{} uses {io}", relative(&path));
        }
    }
}

/// Rows of `ARCHITECTURE.md`'s code map: `| paths | what |`.
fn code_map() -> Vec<String> {
    let text = std::fs::read_to_string(root().join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    text.lines()
        .filter(|line| line.starts_with("| `"))
        .map(str::to_owned)
        .collect()
}

/// Whether the code map names `path`: the whole path in backquotes, or its file name in a
/// row whose first cell names its directory.
fn mapped(rows: &[String], path: &str) -> bool {
    let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
    rows.iter().any(|row| {
        let first = row.split(" | ").next().unwrap_or_default();
        row.contains(&format!("`{path}`"))
            || (first.contains(&format!("`{dir}/`")) && row.contains(&format!("`{name}`")))
    })
}

#[test]
fn the_code_map_names_every_source_file_and_script() {
    let rows = code_map();
    let mut paths: Vec<String> = sources().iter().map(|p| relative(p)).collect();
    paths.extend(
        files("scripts", &|p: &Path| p.is_file())
            .iter()
            .map(|p| relative(p)),
    );
    let missing: Vec<&String> = paths.iter().filter(|p| !mapped(&rows, p)).collect();
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md's code map does not name: {missing:?}"
    );
}
