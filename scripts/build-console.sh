#!/usr/bin/env bash
# Builds the web console's assets into components/console/web/dist, which
# the console component embeds when it is compiled (its build.rs fails
# without them). Packages come from the npm registry exactly as the
# committed lockfile pins them (`npm ci`); nothing is fetched at run time.
#
# Does nothing that is already done: `npm ci` runs when the lockfile changed
# since the last install, the build when a source is newer than the last
# build. Needs Node.js ^20.19 or >= 22.12 and npm (scripts/install-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/../components/console/web"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "build-console: node and npm are needed (scripts/install-deps.sh installs them)" >&2
    exit 1
fi
if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 22 || (a === 22 && b >= 12) || (a === 20 && b >= 19) ? 0 : 1)'; then
    echo "build-console: Node.js $(node --version) is too old; the console's build needs ^20.19 or >= 22.12" >&2
    exit 1
fi

stamp=node_modules/.installed-lock.sha256
wanted=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    echo "build-console: installing the locked packages (npm ci)" >&2
    npm ci --no-audit --no-fund --loglevel=error
    echo "$wanted" > "$stamp"
fi

sources=(src index.html package.json package-lock.json vite.config.ts tsconfig.json)
if [ ! -f dist/index.html ] || [ -n "$(find "${sources[@]}" -newer dist/index.html -print -quit)" ]; then
    echo "build-console: type-checking and building the console" >&2
    npm run --silent build -- --logLevel warn
fi
