//! The fuzz targets that run the engine find the libvips it links (`IMGEDGE_LIBVIPS_DIR`,
//! see `crates/imgedge-engine/build.rs`) at run time through an rpath to its directory, as
//! the service's binaries do: a target is then run, or a crash replayed, as it is.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if let Some(dir) = std::env::var_os("DEP_VIPS_RPATH") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.to_string_lossy());
    }
}
