#!/usr/bin/env bash
# Installs the Debian packages the tests need, when missing: Chromium and ChromeDriver for the
# demo's browser test, wrk for the load benchmark's smoke run, PostgreSQL's server programs for
# the throwaway servers of crates/throwaway-postgres, HAProxy for the demo's load-balancer test
# (examples/demo/tests/balancer.rs). Idempotent; one `apt-get update` at most. Needs root (or
# sudo) and apt.
#
# Packaged services are not started: Debian's postinst scripts would start HAProxy on port 80
# and PostgreSQL's "main" cluster on port 5432, and nothing here uses them (the tests start
# their own haproxy on a loopback port, and throwaway servers run their own `postgres` on a
# unix socket in their own directory). During the install a policy-rc.d that exits 101 ("action
# forbidden") tells invoke-rc.d and deb-systemd-invoke not to start them; it is removed
# afterwards, and one already present (as in Debian's Docker images) is left as it is.
set -euo pipefail

# Whether initdb and postgres exist where crates/throwaway-postgres looks: `pg_config --bindir`,
# else /usr/lib/postgresql/<version>/bin (pg_config alone may come from libpq-dev).
postgresql_installed() {
  local bindir initdb
  if command -v pg_config >/dev/null 2>&1 && bindir="$(pg_config --bindir 2>/dev/null)" &&
    [ -x "$bindir/initdb" ] && [ -x "$bindir/postgres" ]; then
    return 0
  fi
  for initdb in /usr/lib/postgresql/*/bin/initdb; do
    [ -x "$initdb" ] && [ -x "${initdb%/initdb}/postgres" ] && return 0
  done
  return 1
}

# Whether the Debian package $1 is installed, by the file it provides that the tests use.
installed() {
  case "$1" in
    chromium) [ -x /usr/bin/chromium ] ;;
    chromium-driver) [ -x /usr/bin/chromedriver ] ;;
    wrk) [ -x /usr/bin/wrk ] ;;
    postgresql) postgresql_installed ;;
    haproxy) [ -x /usr/sbin/haproxy ] ;;
    *) return 1 ;;
  esac
}

wanted=(chromium chromium-driver wrk postgresql haproxy)
missing=()
for package in "${wanted[@]}"; do
  installed "$package" || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages present: ${wanted[*]}"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-system-deps.sh: apt-get not found; install ${missing[*]} by hand" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "install-system-deps.sh: run as root (or install sudo)" >&2; exit 1; }
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  trap '$SUDO rm -f "$policy"' EXIT
  printf '#!/bin/sh\n# Written by install-system-deps.sh for the install: start no service.\nexit 101\n' |
    $SUDO tee "$policy" >/dev/null
  $SUDO chmod 755 "$policy"
fi
$SUDO apt-get update
$SUDO apt-get install -y "${missing[@]}"
for package in "${missing[@]}"; do
  installed "$package" || { echo "install-system-deps.sh: $package installed but its programs are missing" >&2; exit 1; }
done
echo "installed: ${missing[*]}"
