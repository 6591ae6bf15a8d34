#!/bin/sh
# Install the peer's pinned packages (npm ci, from package-lock.json) when needed and start it:
#   bench/peer/run.sh --database-url postgres://postgres@127.0.0.1/basisset_bench --port 5678
# Needs Node 20 or newer and npm (PostGraphile 5 declares Node >= 22; server.mjs polyfills the
# one newer built-in it uses on Node 20, so npm's EBADENGINE warnings are expected there).
set -eu
cd "$(dirname "$0")"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
fi
exec node server.mjs "$@"
