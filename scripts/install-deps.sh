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

# package name → the command it provides. python3: the test kit's silent port, a listening
# socket that never accepts (Node accepts every connection it is offered).
declare -A command_of=(
  [docker-registry]=docker-registry
  [skopeo]=skopeo
  [python3]=python3
)

missing=()
for package in docker-registry skopeo python3; do
  if command -v "${command_of[$package]}" >/dev/null 2>&1; then
    echo "install-deps: ${package} is installed ($(command -v "${command_of[$package]}"))"
  else
    missing+=("$package")
  fi
done

# --- Docker ------------------------------------------------------------------------------------
# docker.io: dockerd (20.10), which testkit/docker starts on demand with its own socket, no
# bridge and no iptables. busybox-static: the shell and tools inside the registry image that
# testkit/docker assembles with `docker import` (no image can be pulled); any busybox on PATH
# does, the kit copies its libraries too. The docker CLI alone (/usr/local/bin/docker) is not
# enough, so the check is for dockerd, which lives in /usr/sbin: not on a non-root PATH.
PATH="$PATH:/usr/sbin:/sbin"
command_of[docker.io]=dockerd
command_of[busybox-static]=busybox
docker_missing=()
for package in docker.io busybox-static; do
  if command -v "${command_of[$package]}" >/dev/null 2>&1; then
    echo "install-deps: ${package} is installed ($(command -v "${command_of[$package]}"))"
  else
    docker_missing+=("$package")
  fi
done
if ((${#docker_missing[@]})); then
  missing+=("${docker_missing[@]}")
  # docker.io's postinst starts the distribution's dockerd (bridge, iptables) through
  # invoke-rc.d unless policy-rc.d forbids it. Without systemd nothing wants that daemon: forbid
  # it for this install, as Docker's Debian images do, and leave an existing policy alone.
  if ((EUID == 0)) && [[ ! -d /run/systemd/system && ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
fi
# --- end of Docker -------------------------------------------------------------------------------

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
