//! The service's build script: migrations are embedded by `sqlx::migrate!`, so a new
//! migration file rebuilds the crate; and a binary linked to a libvips outside the system's
//! paths (`IMGEDGE_LIBVIPS_DIR`, see `crates/imgedge-engine/build.rs`) finds it at run time
//! through an rpath to its directory.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=build.rs");
    if let Some(dir) = std::env::var_os("DEP_VIPS_RPATH") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.to_string_lossy());
    }
}
