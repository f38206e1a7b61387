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

# c_echo LOG [SUBCLASS HOST...]: the C baseline of the echo figures (scripts/vm/echo): a plain
# FunctionFS echo gadget made here with configfs and a libusb client measuring what
# `cartridge-usb-selftest bench` measures, the same way; removed again afterwards. Appends the
# client's lines to LOG. With SUBCLASS ca and a HOST command the gadget's interface is ff/ca/01
# and HOST (the Swift bench) is the client instead: the Swift host timed against the C device.
c_echo() {
    log=$1; subclass=${2:-ec}
    if [ $# -gt 2 ]; then shift 2; else set -- /usr/bin/usb-echo --pings 300 --seconds 1; fi
    echo_gadget=/sys/kernel/config/usb_gadget/c-echo
    mkdir -p $echo_gadget/strings/0x409 $echo_gadget/configs/c.1 $echo_gadget/functions/ffs.c-echo /run/c-echo
    echo 0x1209 >$echo_gadget/idVendor; echo 0x0002 >$echo_gadget/idProduct
    echo c-echo >$echo_gadget/strings/0x409/serialnumber
    ln -s $echo_gadget/functions/ffs.c-echo $echo_gadget/configs/c.1/
    mount -t functionfs c-echo /run/c-echo
    /usr/bin/ffs-echo /run/c-echo "$subclass" >/tmp/c-echo-device.log 2>&1 &
    c_echo_device=$!
    if wait_for /tmp/c-echo-device.log "ffs-echo: ready" 20 && echo $udc >$echo_gadget/UDC \
        && timeout 90 "$@" >>"$log" 2>&1; then
        c_echo_status=0
    else
        c_echo_status=1
        tail -5 /tmp/c-echo-device.log >>"$log"
    fi
    kill $c_echo_device; wait $c_echo_device 2>/dev/null
    echo "" >$echo_gadget/UDC 2>/dev/null
    umount /run/c-echo
    rm -f $echo_gadget/configs/c.1/ffs.c-echo
    rmdir $echo_gadget/configs/c.1 $echo_gadget/functions/ffs.c-echo $echo_gadget/strings/0x409 $echo_gadget \
        || echo "  [c-echo] gadget not removed: $(ls $echo_gadget)"
    return $c_echo_status
}

# stop_device: SIGTERM to the echo device, SIGKILL after 15 s.
stop_device() {
    kill -TERM $device
    i=0
    while kill -0 $device 2>/dev/null && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
    kill -9 $device 2>/dev/null; wait $device 2>/dev/null
}

# echo_side_by_side: step 10 (below), a function so that CARTRIDGE_VM_ONLY=echo can run it alone.
#     The Swift transports beside the C baseline: C, Swift, C, Swift, one right after the other,
#     so that the host's load (other builds on a shared machine) hits both alike; for each frame
#     size the better of the two runs of each, and their ratio. (The Swift side is the echo device
#     of the steps above, started again, and `cartridge-usb-selftest bench`.) Then the mixed
#     pairs, once each, to tell the device side's time from the host side's: the C host
#     (usb-echo) against the Swift device, the Swift host (bench) against the C device.
echo_side_by_side() {
    : >/tmp/c-echo.log; : >/tmp/swift-echo.log; : >/tmp/mixed-echo.log
    side_by_side_ok=yes
    rounds=$(cat /echo-rounds 2>/dev/null || echo 2)
    for round in $(seq "$rounds"); do
        c_echo /tmp/c-echo.log || side_by_side_ok=no
        start_device ""
        if wait_for /tmp/device.log "device: ready" 30 \
            && timeout 90 $selftest bench --pings 300 --seconds 1 --wait 20 >>/tmp/swift-echo.log 2>&1; then :; else side_by_side_ok=no; fi
        stop_device
    done
    sed -n "s/^c-echo: /FIGURE c-echo: /p" /tmp/c-echo.log
    sed -n "s/^bench: /FIGURE swift-echo: /p" /tmp/swift-echo.log
    best() { sed -n "$2" "$1" | sort -n | tail -n 1; }
    # The median of the runs (the lower middle one for an even count).
    median() { sed -n "$2" "$1" | sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }
    for size in 16384 65536 1048576; do
        for statistic in best median; do  # the median only from 3 rounds on
            [ $statistic = median ] && [ "$rounds" -le 2 ] && continue
            c=$($statistic /tmp/c-echo.log "s/^c-echo: echo $size-byte frames: \([0-9.]*\) MB.*/\1/p")
            swift=$($statistic /tmp/swift-echo.log "s/^bench: echo $size-byte frames: \([0-9.]*\) MB.*/\1/p")
            [ -n "$c" ] && [ -n "$swift" ] && echo "FIGURE echo $size-byte frames, $statistic of $rounds side by side: Swift $swift MB/s, C $c MB/s, Swift/C $(awk "BEGIN { printf \"%.0f\", 100 * $swift / $c }") %"
        done
    done
    c=$(sed -n "s/^c-echo: ping .*median \([0-9]*\) us.*/\1/p" /tmp/c-echo.log | sort -n | head -n 1)
    swift=$(sed -n "s/^bench: ping .*median \([0-9]*\) us.*/\1/p" /tmp/swift-echo.log | sort -n | head -n 1)
    [ -n "$c" ] && [ -n "$swift" ] && echo "FIGURE echo 16-byte round trip, best of $rounds side by side: Swift median $swift us, C $c us"
    [ $side_by_side_ok = yes ] && pass c-echo-and-swift-echo-side-by-side || fail c-echo-and-swift-echo-side-by-side "$(tail -n 4 /tmp/c-echo.log /tmp/swift-echo.log)"
    # Mixed pairs (figures only: no CHECK, a failure shows as a missing FIGURE and its log lines).
    start_device ""
    if wait_for /tmp/device.log "device: ready" 30; then
        timeout 90 /usr/bin/usb-echo --pings 300 --seconds 1 --subclass ca >/tmp/mixed.log 2>&1
        sed "s/^c-echo: /C host, Swift device: /" /tmp/mixed.log >>/tmp/mixed-echo.log
    fi
    stop_device
    : >/tmp/mixed.log
    c_echo /tmp/mixed.log ca $selftest bench --pings 300 --seconds 1 --wait 20
    sed -n "s/^bench: /Swift host, C device: /p" /tmp/mixed.log >>/tmp/mixed-echo.log
    sed "s/^/FIGURE mixed echo: /" /tmp/mixed-echo.log
}

echo "vm: kernel $(uname -r), UDCs: $(ls /sys/class/udc), binaries: $(cat /build.kind)"

# CARTRIDGE_VM_ONLY=echo (run-usb-tests.sh): only the echo figures and the stand-in PING/EMBED
# figures, for iterating on the transports (no CHECK count to compare: not a test run).
if [ -f /only-echo ]; then
    echo_side_by_side
    echo "---- device log"
    tail -n 20 /tmp/device.log | sed "s/^/  [device] /"
    cli=/usr/bin/cartridge
    . /usb-stand-in-tests.sh
    if [ $failures = 0 ]; then echo "CARTRIDGE-VM-RESULT: PASS"; else echo "CARTRIDGE-VM-RESULT: FAIL ($failures)"; fi
    exit 0
fi

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

# 8b. Hotplug after start: udevd (Debian's udev package, put in the image by run-usb-tests.sh)
#     relays the kernel's uevents, so libusb reports arrivals and departures. The UDC is unbound
#     and bound 20 times (after a warm-up cycle); the self-test sees each departure and arrival,
#     opens the cartridge and echoes a frame each time, and compares its open file descriptors and
#     threads after the loop with those after the warm-up; `cartridge watch` prints every event.
if [ -x /sbin/systemd-udevd ]; then
    mkdir -p /run/udev
    # In the foreground, in the background of this script: `--daemon` once did not return (a
    # hung run); this way nothing here can wait on it.
    /sbin/systemd-udevd >/tmp/udevd.log 2>&1 &
    udevd=$!
    i=0
    while [ ! -e /run/udev/control ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
    [ -e /run/udev/control ] || echo "  [hotplug] udevd has no control socket after 20 s: $(cat /tmp/udevd.log)"
    /usr/bin/cartridge watch --count 43 >/tmp/watch.log 2>&1 &
    watcher=$!
    wait_for /tmp/watch.log "plugged in" 30
    check hotplug-loop-20-cycles-no-leak 400 $selftest hotplug-loop --gadget $gadget --udc $udc --cycles 20
    i=0
    while kill -0 $watcher 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    kill $watcher 2>/dev/null; wait $watcher 2>/dev/null
    arrivals=$(grep -c "plugged in" /tmp/watch.log); departures=$(grep -c "removed" /tmp/watch.log)
    echo "  [cartridge-watch] $arrivals arrivals, $departures departures; last: $(tail -n 1 /tmp/watch.log)"
    [ "$arrivals" = 22 ] && [ "$departures" = 21 ] && pass cartridge-watch-sees-every-plug \
        || fail cartridge-watch-sees-every-plug "($arrivals arrivals, $departures departures; expected 22 and 21)"
    sed -n "s/^hotplug-loop: \([0-9]* unplug.*\)/FIGURE hotplug: \1/p" /tmp/check.log
    kill $udevd 2>/dev/null; wait $udevd 2>/dev/null
else
    fail hotplug-loop-20-cycles-no-leak "(no /sbin/systemd-udevd in the image)"
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

# 10. The Swift transports beside the C baseline (echo_side_by_side above).
echo_side_by_side

echo "---- device log (phase 1)"
sed "s/^/  [device] /" /tmp/device.log
echo "----"

. /usb-protocol-tests.sh
. /usb-chat-tests.sh
if [ $failures = 0 ]; then echo "CARTRIDGE-VM-RESULT: PASS"; else echo "CARTRIDGE-VM-RESULT: FAIL ($failures)"; fi
