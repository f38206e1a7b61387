#!/bin/sh
# Runs inside the VM for `scripts/demo.sh --usb` (CARTRIDGE_VM_MODE=demo): cartridged serves the
# burned image as a real FunctionFS gadget on dummy_udc.0, and the demo queries run on the host
# side of the same VM through libusb (`--connect usb`).
udc=dummy_udc.0
cli=/usr/bin/cartridge
connect=usb
echo "vm: kernel $(uname -r), UDCs: $(ls /sys/class/udc)"
/usr/bin/cartridged --image /model/demo.cart --usb --udc $udc --log-level warning >/tmp/daemon.log 2>&1 &
daemon=$!
i=0
while ! $cli list 2>/dev/null | grep -q "^usb:" && [ $i -lt 300 ]; do
    kill -0 $daemon 2>/dev/null || break
    sleep 0.2
    i=$((i + 1))
done
if ! $cli list 2>/dev/null | grep -q "^usb:"; then
    echo "demo: the cartridge did not enumerate:"
    cat /tmp/daemon.log
    echo "CARTRIDGE-VM-RESULT: FAIL (no cartridge on USB)"
    exit 0
fi
echo "== cartridge list"
$cli list
echo
. /demo-queries.sh
if demo_queries; then echo "CARTRIDGE-VM-RESULT: PASS"; else echo "CARTRIDGE-VM-RESULT: FAIL (a query failed)"; cat /tmp/daemon.log; fi
kill $daemon 2>/dev/null
wait $daemon 2>/dev/null
