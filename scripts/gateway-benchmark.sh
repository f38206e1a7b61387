#!/usr/bin/env bash
# The gateway's overhead against the direct protocol (docs/PERFORMANCE.md, "Gateway overhead"):
# starts cartridged for stories260K (shared/models) and for all-MiniLM-L6-v2
# (scripts/fetch-default-model.sh), `cartridge serve` over both, and runs
# `cartridge-bench gateway` against them, all in the same run.
#
#   scripts/gateway-benchmark.sh [BIN_DIR]     # default: the release build (swift build -c release)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${1:-$(cd "$root" && swift build -c release --show-bin-path)}
models=${CARTRIDGE_SHARED_MODELS:-$root/../shared/models}
[ -f "$models/stories260K.bin" ] || models=/work/shared/models
embedding=$("$root/scripts/fetch-default-model.sh")
work=$(mktemp -d /tmp/gateway-bench-XXXXXX)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
"$bin/cartridged" --checkpoint "$models/stories260K.bin" --tokenizer "$models/llama2-tokenizer.bin" \
    --socket "$work/generate.sock" --log-level warning &
pids+=($!)
"$bin/cartridged" --embedding-model "$embedding" --socket "$work/embed.sock" --log-level warning &
pids+=($!)
for _ in $(seq 200); do [ -S "$work/generate.sock" ] && [ -S "$work/embed.sock" ] && break; sleep 0.1; done
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$bin/cartridge" serve --listen "127.0.0.1:$port" --no-usb --connect "unix:$work/generate.sock" \
    --connect "unix:$work/embed.sock" --log-level warning >/dev/null &
gateway=$!
pids+=($gateway)
for _ in $(seq 200); do
    curl -sf "http://127.0.0.1:$port/health" | grep -q '"cartridges":2' && break
    sleep 0.1
done
echo "binaries: $bin"
"$bin/cartridge-bench" gateway --generator "unix:$work/generate.sock" --embedder "unix:$work/embed.sock" \
    --port "$port" --gateway-pid "$gateway" "${@:2}"
