#!/usr/bin/env bash
# Quick start: from a fresh clone on Debian/Ubuntu with Node >= 20.19, installs everything and
# runs the demo — a throwaway registry on a random loopback port, the seed walkthrough's images
# pushed to it, then `rc ls`, `rc clean`, `rc ls` against it. Touches no other registry.
#
#   ./scripts/quick-start.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v node >/dev/null 2>&1; then
  echo "quick-start: Node.js >= 20.19 is required and node is not on PATH" >&2
  exit 1
fi
if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)'; then
  echo "quick-start: Node.js >= 20.19 is required, found $(node --version)" >&2
  exit 1
fi

echo "==> System packages (docker-registry, skopeo)"
./scripts/install-deps.sh

echo "==> npm ci"
npm ci --no-audit --no-fund

echo "==> npm run build"
npm run build

echo "==> Demo"
exec node --import tsx scripts/demo.ts
