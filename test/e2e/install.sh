#!/usr/bin/env bash
# Installs what the end-to-end tests need, offline-safe: Debian's chromium, ripgrep and Kerberos
# headers, then code-server 4.100.3 (VS Code 1.100, Node 20), playwright-core and ws (the soak
# benchmark's DevTools client) from the npm registry. code-server's nested install fetches ripgrep
# from GitHub; we hand it Debian's rg through @vscode/ripgrep's own download cache instead. Idempotent: a finished install is kept.
set -euo pipefail
cd "$(dirname "$0")"

need=()
command -v chromium >/dev/null || need+=(chromium)
command -v rg >/dev/null || need+=(ripgrep)
[ -e /usr/include/gssapi/gssapi.h ] || need+=(libkrb5-dev)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}"
fi

if [ -f node_modules/.head-lens-e2e-ok ]; then exit 0; fi

# code-server 4.100.3 pins @vscode/ripgrep 1.15.11, which wants ripgrep v13.0.0-10.
cache="$(node -p 'require("os").tmpdir()')/vscode-ripgrep-cache-1.15.11"
mkdir -p "$cache"
tar czf "$cache/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" -C "$(dirname "$(command -v rg)")" rg

# Native modules build against Node's own headers; node-pty's build runs npx node-gyp.
if [ -e /usr/include/node/node_api.h ]; then export npm_config_nodedir=/usr; fi
export npm_config_yes=true npm_config_unsafe_perm=true
npm ci --no-audit --no-fund
touch node_modules/.head-lens-e2e-ok
