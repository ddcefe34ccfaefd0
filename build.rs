//! Links libvips through pkg-config, so a missing or too-old libvips fails the build with a
//! clear message instead of a linker error.

fn main() {
    // Embedded by `sqlx::migrate!`: a new migration file must rebuild the crate.
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=build.rs");
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
