#!/usr/bin/env bash
# Installs the Prism mock server (pinned) into <repo>/.cache/prism for the interop tests.
# Idempotent: does nothing when the pinned version is already there. Without npm it prints one
# line and exits 0, so the Python-only test suite still runs (the Prism tests then skip).
# 5.14.2 is the newest prism-cli that runs on Node 20 (5.16 needs Node >= 24).
set -euo pipefail

VERSION="5.14.2"

if ! command -v npm >/dev/null 2>&1; then
    echo "prism: npm not found; skipping install (Prism interop tests will be skipped)"
    exit 0
fi

HERE="${BASH_SOURCE[0]%/*}"
[ "$HERE" = "${BASH_SOURCE[0]}" ] && HERE="."
ROOT="$(cd "$HERE/../../.." && pwd)"
PREFIX="$ROOT/.cache/prism"
PKG_JSON="$PREFIX/node_modules/@stoplight/prism-cli/package.json"

if [ -x "$PREFIX/node_modules/.bin/prism" ] && [ -f "$PKG_JSON" ] \
    && grep -q "\"version\": *\"$VERSION\"" "$PKG_JSON"; then
    exit 0
fi

mkdir -p "$PREFIX"
[ -f "$PREFIX/package.json" ] || echo '{"name": "teledeck-prism", "private": true}' > "$PREFIX/package.json"
echo "prism: installing @stoplight/prism-cli@$VERSION into .cache/prism ..."
npm install --prefix "$PREFIX" --no-audit --no-fund --save-exact --loglevel=error \
    "@stoplight/prism-cli@$VERSION" >/dev/null
echo "prism: installed $("$PREFIX/node_modules/.bin/prism" --version 2>/dev/null || echo "$VERSION")"
