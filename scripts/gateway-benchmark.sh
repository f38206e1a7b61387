#!/usr/bin/env bash
# The gateway's overhead against the direct protocol (docs/PERFORMANCE.md, "Gateway overhead"):
# starts cartridged for stories260K (shared/models), for all-MiniLM-L6-v2
# (scripts/fetch-default-model.sh) and for SmolLM2-135M-Instruct burned into an image
# (scripts/fetch-chat-model.sh, `cartridge burn --gguf`), `cartridge serve` over all three, and
# runs `cartridge-bench gateway` against them, all in the same run: stories260K streamed tokens
# and the embeddings first, then SmolLM2 streamed tokens.
#
#   scripts/gateway-benchmark.sh [BIN_DIR] [BENCH_OPTIONS...]   # default BIN_DIR: the release build
#
# BENCH_OPTIONS go to the first run (e.g. --rounds 21). CHAT_TOKENS (64) and CHAT_ROUNDS (9) set the
# SmolLM2 run; SERVE_OPTIONS are added to `cartridge serve` (e.g. --stream-interval-ms 0).
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
chat_gguf=$("$root/scripts/fetch-chat-model.sh")
"$bin/cartridge" burn --gguf "$chat_gguf" -o "$work/chat.cart" >/dev/null
"$bin/cartridged" --image "$work/chat.cart" --socket "$work/chat.sock" --log-level warning &
pids+=($!)
for _ in $(seq 300); do [ -S "$work/generate.sock" ] && [ -S "$work/embed.sock" ] && [ -S "$work/chat.sock" ] && break; sleep 0.1; done
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$bin/cartridge" serve --listen "127.0.0.1:$port" --no-usb --connect "unix:$work/generate.sock" \
    --connect "unix:$work/embed.sock" --connect "unix:$work/chat.sock" --log-level warning ${SERVE_OPTIONS:-} >/dev/null &
gateway=$!
pids+=($gateway)
for _ in $(seq 200); do
    curl -sf "http://127.0.0.1:$port/health" | grep -q '"cartridges":3' && break
    sleep 0.1
done
echo "binaries: $bin; load average: $(cut -d' ' -f1-3 /proc/loadavg); $(date -u '+%Y-%m-%d %H:%M UTC')"
"$bin/cartridge-bench" gateway --generator "unix:$work/generate.sock" --embedder "unix:$work/embed.sock" \
    --port "$port" --gateway-pid "$gateway" "${@:2}"
echo
"$bin/cartridge-bench" gateway --generator "unix:$work/chat.sock" --tokens "${CHAT_TOKENS:-64}" --rounds "${CHAT_ROUNDS:-9}" \
    --port "$port" --gateway-pid "$gateway"
