#!/usr/bin/env bash
# Installs the Debian packages the tests need, when missing: Chromium and ChromeDriver for the
# demo's browser test, wrk for the load benchmark's smoke run. Idempotent; one `apt-get update`
# at most. Needs root (or sudo) and apt.
set -euo pipefail

# package:file that proves it is installed
wanted=(chromium:/usr/bin/chromium chromium-driver:/usr/bin/chromedriver wrk:/usr/bin/wrk)
missing=()
for entry in "${wanted[@]}"; do
  [ -x "${entry#*:}" ] || missing+=("${entry%%:*}")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages present: chromium, chromium-driver, wrk"
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
$SUDO apt-get update
$SUDO apt-get install -y "${missing[@]}"
for entry in "${wanted[@]}"; do
  [ -x "${entry#*:}" ] || { echo "install-system-deps.sh: ${entry%%:*} installed but ${entry#*:} is missing" >&2; exit 1; }
done
echo "installed: ${missing[*]}"
