#!/usr/bin/env bash
# Installs the system packages that registry-clean's demo and test suite need, on Debian or
# Ubuntu: Debian's `docker-registry` (CNCF distribution 2.8, the registry the tests run) and
# `skopeo` (a real registry client the tests check pushed images with).
#
# Idempotent: a package whose command is already on PATH is left alone, and `apt-get update`
# runs only when something is missing. Runs apt-get directly as root, through sudo otherwise.
#
#   ./scripts/install-deps.sh
set -euo pipefail

# package name → the command it provides
declare -A command_of=(
  [docker-registry]=docker-registry
  [skopeo]=skopeo
)

missing=()
for package in docker-registry skopeo; do
  if command -v "${command_of[$package]}" >/dev/null 2>&1; then
    echo "install-deps: ${package} is installed ($(command -v "${command_of[$package]}"))"
  else
    missing+=("$package")
  fi
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-deps: apt-get not found; install these packages yourself: ${missing[*]}" >&2
  exit 1
fi

as_root=()
if ((EUID != 0)); then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "install-deps: not root and sudo is not available; as root, run: apt-get install ${missing[*]}" >&2
    exit 1
  fi
  as_root=(sudo)
fi

echo "install-deps: installing ${missing[*]}"
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null

for package in "${missing[@]}"; do
  if ! command -v "${command_of[$package]}" >/dev/null 2>&1; then
    echo "install-deps: ${package} was installed but ${command_of[$package]} is not on PATH" >&2
    exit 1
  fi
done
echo "install-deps: done"
