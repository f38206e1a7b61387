#!/bin/sh
# Runs inside the test VM (see run-usb-tests.sh): the device side on dummy_udc.0 and the host
# side over libusb. Prints "CHECK <name>: PASS|FAIL", "FIGURE <text>" and a final result marker.
selftest=/usr/bin/cartridge-usb-selftest
udc=dummy_udc.0
gadget=/sys/kernel/config/usb_gadget/cartridge
serial=5e1f7e57c0de
product="Cartridge Selftest"
failures=0

uptime() { cut -d" " -f1 /proc/uptime; }
pass() { echo "CHECK $1: PASS (t=$(uptime) s)"; }
fail() { echo "CHECK $1: FAIL $2 (t=$(uptime) s)"; failures=$((failures + 1)); }

# check NAME SECONDS COMMAND...: runs the command with a time limit, shows its output.
check() {
    name=$1; seconds=$2; shift 2
    timeout "$seconds" "$@" >/tmp/check.log 2>&1
    status=$?
    sed "s/^/  [$name] /" /tmp/check.log
    if [ $status = 0 ]; then pass "$name"; else
        fail "$name" "(exit $status)"
        tail -n 8 /tmp/device.log | sed "s/^/  [$name device] /"
    fi
    return $status
}

# wait_for FILE PATTERN SECONDS
wait_for() {
    i=0
    while [ $i -lt $(($3 * 10)) ]; do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

start_device() {
    NOTIFY_SOCKET=$1 $selftest device --udc $udc --serial $serial --product "$product" --max-power 250 >>/tmp/device.log 2>&1 &
    device=$!
}

echo "vm: kernel $(uname -r), UDCs: $(ls /sys/class/udc)"

# 1. A daemon killed with SIGKILL leaves its gadget in configfs; the next start removes it.
start_device ""
if wait_for /tmp/device.log "device: ready" 60; then
    kill -9 $device; wait $device 2>/dev/null
    [ -d $gadget ] && echo "  [stale-gadget-cleanup] gadget left behind by SIGKILL: $(ls $gadget | tr '\n' ' ')"
else
    fail device-start "(no ready line)"
fi

# 2. The daemon under test, with a notify socket standing in for systemd.
$selftest notify-wait /run/notify.sock --timeout 60 >/tmp/notify.log 2>&1 &
notify=$!
wait_for /tmp/notify.log "listening" 30
start_device /run/notify.sock
if wait $notify && grep -q "READY=1" /tmp/notify.log; then
    sed "s/^/  [sd-notify-ready] /" /tmp/notify.log
    pass sd-notify-ready
else
    fail sd-notify-ready "$(cat /tmp/notify.log)"
fi
grep -q "removing a stale gadget" /tmp/device.log && pass stale-gadget-cleanup || fail stale-gadget-cleanup "(no removal logged)"
[ "$(cat $gadget/UDC)" = "$udc" ] && pass udc-bound || fail udc-bound "(UDC=$(cat $gadget/UDC))"

# 3. Enumeration: libusb listing and the kernel's view of the device.
check enumeration 30 $selftest list --wait 20
grep -q "serial=$serial" /tmp/check.log && grep -q "$product" /tmp/check.log \
    && pass enumeration-product-serial || fail enumeration-product-serial ""
for device_dir in /sys/bus/usb/devices/*; do
    if [ -f "$device_dir/idVendor" ] && [ "$(cat "$device_dir/idVendor")" = 1209 ]; then
        echo "  [sysfs] $(basename "$device_dir"): $(cat "$device_dir/idVendor"):$(cat "$device_dir/idProduct") '$(cat "$device_dir/manufacturer")' '$(cat "$device_dir/product")' serial $(cat "$device_dir/serial") bMaxPower $(cat "$device_dir/bMaxPower") speed $(cat "$device_dir/speed") interface $(cat "$device_dir"/*:1.0/bInterfaceClass)/$(cat "$device_dir"/*:1.0/bInterfaceSubClass)/$(cat "$device_dir"/*:1.0/bInterfaceProtocol)"
        [ "$(cat "$device_dir/bMaxPower")" = 250mA ] && pass max-power-250mA || fail max-power-250mA "($(cat "$device_dir/bMaxPower"))"
    fi
done
echo "  [udc] state $(cat /sys/class/udc/$udc/state), speed $(cat /sys/class/udc/$udc/current_speed)"

# The hotplug stream reports the cartridge already present as an arrival (LIBUSB_HOTPLUG_ENUMERATE;
# later arrivals/removals need udevd, which the VM does not run).
check hotplug-enumerate 30 $selftest watch --events 1
grep -q "arrived.*$serial" /tmp/check.log && pass hotplug-arrival-has-serial || fail hotplug-arrival-has-serial ""

# bMaxPower changed at run time (SIGHUP in the self-test device), seen by the host after re-enumeration.
kill -HUP $device
wait_for /tmp/device.log "bMaxPower now" 20
i=0
while [ $i -lt 100 ]; do
    power=$(cat /sys/bus/usb/devices/1-1/bMaxPower 2>/dev/null)
    [ "$power" = 100mA ] && break
    sleep 0.1; i=$((i + 1))
done
[ "$power" = 100mA ] && pass max-power-changed-to-100mA || fail max-power-changed-to-100mA "(host sees ${power:-nothing})"
$selftest list --wait 20 >/dev/null 2>&1

# 4. Echo of frames 0...2 MiB (incl. exact multiples of 64/512/1024).
check echo-sizes 90 $selftest echo --rounds 1

# 5. Two host processes: the second gets BUSY, the first keeps working.
$selftest hold --seconds 15 >/tmp/hold.log 2>&1 &
holder=$!
wait_for /tmp/hold.log "claimed" 20
check second-process-busy 20 $selftest expect-busy
if wait $holder; then pass first-process-survives; else fail first-process-survives "$(cat /tmp/hold.log)"; fi

# 6. A host process killed mid-transfer; a new one works.
$selftest stream --seconds 60 >/tmp/stream.log 2>&1 &
streamer=$!
wait_for /tmp/stream.log "streaming" 20
sleep 0.5
kill -9 $streamer; wait $streamer 2>/dev/null
check host-killed-then-new-host 60 $selftest echo

# 7. Unplug (UDC unbound) and replug mid-transfer: the host sees a disconnect, the device keeps
#    running, and the host reconnects to the same daemon.
$selftest stream --seconds 60 --reconnect --wait 20 >/tmp/replug.log 2>&1 &
streamer=$!
wait_for /tmp/replug.log "streaming" 20
sleep 0.5
echo "" >$gadget/UDC
sleep 1
echo $udc >$gadget/UDC
if wait $streamer; then sed "s/^/  [unplug-replug] /" /tmp/replug.log; pass unplug-replug-mid-transfer
else sed "s/^/  [unplug-replug] /" /tmp/replug.log; fail unplug-replug-mid-transfer ""; fi
kill -0 $device 2>/dev/null && pass device-survives-replug || fail device-survives-replug "(daemon exited)"

# 8. Figures.
if check bench 90 $selftest bench --pings 300 --seconds 1; then
    sed -n "s/^bench: /FIGURE /p" /tmp/check.log
fi

# 9. Clean teardown on SIGTERM: gadget removed from configfs, FunctionFS unmounted.
kill -TERM $device
i=0
while kill -0 $device 2>/dev/null && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
if kill -0 $device 2>/dev/null; then
    echo "  [sigterm-teardown] still running 15 s after SIGTERM; thread states:"
    for task in /proc/$device/task/*; do
        echo "  [sigterm-teardown] $(cat $task/comm) $(cat $task/wchan)"
        sed "s/^/  [sigterm-teardown]     /" $task/stack 2>/dev/null | head -8
    done
    kill -9 $device
fi
wait $device
status=$?
if [ $status = 0 ] && [ ! -d $gadget ] && ! grep -q functionfs /proc/mounts; then pass sigterm-teardown
else fail sigterm-teardown "(exit $status, gadget dir $( [ -d $gadget ] && echo present || echo gone), mounts: $(grep functionfs /proc/mounts))"; fi

echo "---- device log (phase 1)"
sed "s/^/  [device] /" /tmp/device.log
echo "----"

. /usb-protocol-tests.sh
. /usb-chat-tests.sh
if [ $failures = 0 ]; then echo "CARTRIDGE-VM-RESULT: PASS"; else echo "CARTRIDGE-VM-RESULT: FAIL ($failures)"; fi
