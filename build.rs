//! Links libvips through pkg-config, so a missing or too-old libvips fails the build with a
//! clear message instead of a linker error.

fn main() {
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
