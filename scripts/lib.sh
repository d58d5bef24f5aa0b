# Shared by the scripts: where things are, and how to install and build them.
# shellcheck shell=bash
AFB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
AFB_BUILD=${AFB_BUILD:-$AFB_ROOT/build}

# Debian packages the build, the demo and the tests need.
AFB_DEBS=(
  build-essential cmake pkg-config
  apache2 apache2-dev libapr1-dev libaprutil1-dev
  libssl-dev libcurl4-openssl-dev libjansson-dev libcrypt-dev libcmocka-dev
  libfido2-dev libcbor-dev libqrencode-dev libutf8proc-dev
  python3 python3-pytest python3-requests
  oathtool whois apache2-utils
  chromium
  freeradius freeradius-utils redis-server
  libldap-dev slapd ldap-utils
  wrk curl ca-certificates prometheus
  libldap-dev libfido2-dev libcbor-dev libqrencode-dev
  samba samba-ad-provision samba-ad-dc winbind slapd ldap-utils
  debhelper dpkg-dev fakeroot lintian
)

afb_log() { printf '==> %s\n' "$*" >&2; }

# Install whatever of AFB_DEBS is missing (needs root or sudo).
afb_install_debs() {
  local missing=() pkg debs=("${AFB_DEBS[@]}")
  # Node.js: Debian's, unless the machine already has one (e.g. from NodeSource, whose
  # nodejs package conflicts with Debian's npm).
  command -v node >/dev/null 2>&1 || debs+=(nodejs)
  command -v npm >/dev/null 2>&1 || debs+=(npm)
  for pkg in "${debs[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
      || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  afb_log "installing Debian packages: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
  # Debian starts these services on install; the tests run their own instances.
  for svc in apache2 redis-server freeradius prometheus slapd samba-ad-dc smbd nmbd winbind; do
    $sudo systemctl stop "$svc" >/dev/null 2>&1 || $sudo service "$svc" stop >/dev/null 2>&1 || true
  done
}

# Node packages of the test OpenID Provider and the browser tests.
afb_install_node() {
  if [ ! -d "$AFB_ROOT/tests/op/node_modules/oidc-provider" ] \
     || [ ! -d "$AFB_ROOT/tests/op/node_modules/playwright-core" ]; then
    afb_log "installing node packages for tests/op"
    (cd "$AFB_ROOT/tests/op" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
}

afb_build() {
  afb_log "building in $AFB_BUILD"
  cmake -S "$AFB_ROOT" -B "$AFB_BUILD" -DAFB_BUILD_TESTS=ON "$@" >/dev/null
  cmake --build "$AFB_BUILD" -j"$(nproc)" >/dev/null
}
