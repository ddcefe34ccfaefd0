# Shared by the scripts in scripts/: installs what is missing and sets up the build.
# shellcheck shell=bash

step() { printf '\n==> %s\n' "$*"; }

# A persistent build directory outside the checkout, so that CI's fresh clones reuse built
# dependencies. Override with CARGO_TARGET_DIR.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/imgedge/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
mkdir -p "$CARGO_TARGET_DIR"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# Debian packages: libvips (8.13 or newer) with its headers, pkg-config, and the font that text
# watermarks use.
ensure_system_packages() {
  local missing=()
  pkg-config --atleast-version=8.13 vips 2>/dev/null || missing+=(libvips-dev)
  command -v pkg-config >/dev/null || missing+=(pkg-config)
  fc-list 2>/dev/null | grep 'DejaVuSans-Bold' >/dev/null || missing+=(fonts-dejavu-core)
  if [ "${#missing[@]}" -gt 0 ]; then
    step "installing ${missing[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends \
      "${missing[@]}" fontconfig >/dev/null
  fi
}

# Python packages for the independent URL-vector generator.
ensure_python_packages() {
  python3 -c 'import blake3' 2>/dev/null || {
    step "installing the Python blake3 package"
    python3 -m pip install --quiet blake3
  }
}
