//! Chooses the libvips the engine links against.
//!
//! By default the current libvips that Sharp ships: the directory `IMGEDGE_LIBVIPS_DIR`
//! names (or its `lib/`) holds `libvips-cpp.so.*` as the npm package
//! `@img/sharp-libvips-linux-*` ships it (libvips with GLib and every codec in one library,
//! exporting their C API), or a `libvips.so.*` build. `scripts/libvips` fetches it and
//! prints that directory; every script of the repository sets the variable from it. A
//! binary finds the library at run time through an rpath to that directory: this crate's own
//! tests get it here, and the binaries of crates that depend on it from their build
//! scripts, which read the directory from `DEP_VIPS_RPATH` (this package `links = "vips"`).
//!
//! With the `system-libvips` feature, the system's libvips instead (Debian's
//! `libvips-dev`), through pkg-config, so a missing or too-old one fails the build with a
//! clear message instead of a linker error.

use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=IMGEDGE_LIBVIPS_DIR");
    if std::env::var_os("CARGO_FEATURE_SYSTEM_LIBVIPS").is_some() {
        link_system();
    } else {
        link_current();
    }
    link_libheif();
}

/// The directory `IMGEDGE_LIBVIPS_DIR` names, or a panic that says how to set it.
fn link_current() {
    match std::env::var_os("IMGEDGE_LIBVIPS_DIR") {
        Some(dir) if !dir.is_empty() => link_directory(Path::new(&dir)),
        _ => panic!(
            "imgedge links the current libvips that Sharp ships: set IMGEDGE_LIBVIPS_DIR to \
             the directory `scripts/libvips` prints (`export IMGEDGE_LIBVIPS_DIR=\"$(scripts/libvips)\"`; \
             the repository's scripts do this), or build with `--features system-libvips` \
             to link the system's libvips (Debian: `apt-get install libvips-dev`)"
        ),
    }
}

/// Debian's libheif, which the engine calls directly to decode HEIC (HEVC through libde265)
/// whichever libvips is linked: Sharp's libvips decodes no HEVC and exports no `heif_*`
/// symbol, so the two sit side by side.
fn link_libheif() {
    if let Err(err) = pkg_config::Config::new()
        .atleast_version("1.15")
        .probe("libheif")
    {
        panic!(
            "libheif 1.15 or newer is required to decode HEIC (Debian: `apt-get install \
             libheif-dev`); pkg-config said: {err}"
        );
    }
}

fn link_system() {
    if let Err(err) = pkg_config::Config::new()
        .atleast_version("8.13")
        .probe("vips")
    {
        panic!(
            "libvips 8.13 or newer is required (Debian: `apt-get install libvips-dev`); \
             pkg-config said: {err}"
        );
    }
}

fn link_directory(dir: &Path) {
    let candidates = [dir.join("lib"), dir.to_path_buf()];
    let found = candidates.iter().find_map(|lib| {
        let entries = std::fs::read_dir(lib).ok()?;
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.starts_with("libvips-cpp.so.") || n.starts_with("libvips.so."))
            .collect();
        // The fullest version name, e.g. libvips-cpp.so.8.18.7 over a libvips-cpp.so.42 link.
        names.sort_by_key(|n| (n.starts_with("libvips-cpp"), n.len()));
        names.pop().map(|name| (lib.clone(), name))
    });
    let Some((lib, name)) = found else {
        panic!(
            "IMGEDGE_LIBVIPS_DIR={}: no libvips-cpp.so.* or libvips.so.* in it or its lib/",
            dir.display()
        );
    };
    let lib: PathBuf = lib.canonicalize().unwrap_or(lib);
    println!("cargo:rerun-if-changed={}", lib.join(&name).display());
    println!("cargo:rustc-link-search=native={}", lib.display());
    println!("cargo:rustc-link-lib=dylib:+verbatim={name}");
    if name.starts_with("libvips.so.") {
        // A plain libvips build leaves GLib to its own libraries.
        println!("cargo:rustc-link-lib=dylib=gobject-2.0");
        println!("cargo:rustc-link-lib=dylib=glib-2.0");
    }
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
    println!("cargo:rpath={}", lib.display());
}
