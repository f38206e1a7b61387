#!/bin/sh
# Phase 2, sourced by usb-tests.sh: the cartridge protocol (HELLO/INFO, GENERATE, CANCEL, PING)
# over USB with the daemon core, compared with the same daemon over its Unix socket.
echo "==== phase 2: the cartridge protocol over USB (t=$(uptime) s)"
socket=/run/cartridge.sock
cli=/usr/bin/cartridge
prompt="--tokens 1,42"

# wait_output FILE SECONDS: until the (unbuffered) token stream in FILE has begun.
wait_output() {
    i=0
    while [ ! -s "$1" ] && [ $i -lt $(($2 * 10)) ]; do sleep 0.1; i=$((i + 1)); done
    [ -s "$1" ]
}

# The daemon: cartridged with a tiny checkpoint when it can load one; otherwise the self-test's
# stand-in model served by the same CartridgeServer (cartridged's model loader is not on main yet).
$selftest notify-wait /run/notify2.sock --timeout 40 >/tmp/notify2.log 2>&1 &
notify=$!
wait_for /tmp/notify2.log "listening" 30
if [ -f /model/model.bin ]; then
    # A fixed 2 W budget with a board profile that needs less: no throttling, and bMaxPower comes
    # from the budget (2 W / 5 V = 400 mA) instead of the 500 mA default.
    NOTIFY_SOCKET=/run/notify2.sock /usr/bin/cartridged --checkpoint /model/model.bin --tokenizer /model/tokenizer.bin \
        --socket $socket --usb --udc $udc --power-source static:2W \
        --power-profile idle=0.2W,worker=0.5W,workers=2,peak=2W,current=1A,rate=100000 >/tmp/daemon.log 2>&1 &
    daemon=$!
else
    echo "no checkpoint given (CARTRIDGE_VM_CHECKPOINT/CARTRIDGE_VM_TOKENIZER)" >/tmp/daemon.log
    daemon=999999
fi
i=0
while kill -0 $daemon 2>/dev/null && ! grep -q READY=1 /tmp/notify2.log && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
if grep -q READY=1 /tmp/notify2.log; then
    daemon_kind=cartridged
    pass cartridged-usb-ready
else
    kill $daemon 2>/dev/null; wait $daemon 2>/dev/null
    echo "NOTE cartridged did not serve a checkpoint: $(grep -m1 -E 'critical|error|no checkpoint' /tmp/daemon.log | cut -c1-200)"
    echo "NOTE phase 2 uses the self-test's stand-in model served by CartridgeServer (the daemon core of cartridged)"
    NOTIFY_SOCKET=/run/notify2.sock $selftest serve --socket $socket --udc $udc >/tmp/daemon.log 2>&1 &
    daemon=$!
    daemon_kind=stand-in
fi
wait $notify
grep -q READY=1 /tmp/notify2.log && pass p2-daemon-ready || fail p2-daemon-ready "$(tail -5 /tmp/daemon.log)"

# Wait for the host side to see the gadget.
i=0
while ! $cli list 2>/dev/null | grep -q "^usb:" && [ $i -lt 100 ]; do sleep 0.2; i=$((i + 1)); done
check p2-list 20 $cli list
grep -q "^usb:" /tmp/check.log && pass p2-list-shows-cartridge || fail p2-list-shows-cartridge ""
if [ $daemon_kind = cartridged ]; then
    power=$(cat /sys/bus/usb/devices/1-1/bMaxPower 2>/dev/null)
    echo "  [p2-max-power] configfs MaxPower $(cat $gadget/configs/c.1/MaxPower 2>/dev/null), host sees ${power:-nothing}"
    [ "$power" = 400mA ] && pass p2-max-power-from-budget || fail p2-max-power-from-budget "(host sees ${power:-nothing})"
fi

# HELLO + INFO: the same answers over USB and over the socket.
timeout 30 $cli info -c usb >/tmp/info-usb-full.log 2>&1; status_usb=$?
timeout 30 $cli info -c unix:$socket >/tmp/info-unix-full.log 2>&1
grep -v "^connection" /tmp/info-usb-full.log >/tmp/info-usb.log
grep -v "^connection" /tmp/info-unix-full.log >/tmp/info-unix.log
sed "s/^/  [p2-info usb] /" /tmp/info-usb-full.log
if [ $status_usb = 0 ] && [ -s /tmp/info-usb.log ] && cmp -s /tmp/info-usb.log /tmp/info-unix.log; then pass p2-hello-info-same-as-socket
else fail p2-hello-info-same-as-socket "(exit $status_usb)"; diff /tmp/info-usb.log /tmp/info-unix.log | head -10; fi

# GENERATE: token-identical over USB and the socket.
timeout 150 $cli generate -c usb $prompt --max-tokens 24 --ids >/tmp/gen-usb.log 2>&1; status_usb=$?
timeout 150 $cli generate -c unix:$socket $prompt --max-tokens 24 --ids >/tmp/gen-unix.log 2>&1
echo "  [p2-generate usb]  $(cut -c1-150 /tmp/gen-usb.log)"
echo "  [p2-generate unix] $(cut -c1-150 /tmp/gen-unix.log)"
if [ $status_usb = 0 ] && [ "$(tr ',' '\n' </tmp/gen-usb.log | grep -c .)" -ge 24 ] && cmp -s /tmp/gen-usb.log /tmp/gen-unix.log; then
    pass p2-generate-token-identical
else fail p2-generate-token-identical "(exit $status_usb)"; fi
timeout 120 $cli generate -c usb $prompt --max-tokens 8 --ids >/tmp/gen16-reference.log 2>&1
echo "  [p2-reference] $(cat /tmp/gen16-reference.log)"

# CANCEL mid-stream, then the same connection serves the next request.
check p2-cancel-mid-stream 150 $selftest cancel-check --connect usb

# A host process killed mid-stream; a new client works.
$cli generate -c usb $prompt --max-tokens 1000000 >/tmp/gen-killed.log 2>&1 &
streamer=$!
wait_output /tmp/gen-killed.log 30
kill -9 $streamer; wait $streamer 2>/dev/null
timeout 120 $cli generate -c usb $prompt --max-tokens 8 --ids >/tmp/gen-after-kill.log 2>&1
if grep -q "^[0-9]" /tmp/gen16-reference.log && cmp -s /tmp/gen-after-kill.log /tmp/gen16-reference.log; then pass p2-host-killed-mid-stream-then-new-client
else fail p2-host-killed-mid-stream-then-new-client "$(cat /tmp/gen-after-kill.log)"; fi

# Two host processes: the second gets BUSY, the first keeps streaming.
$cli generate -c usb $prompt --max-tokens 1000000 >/tmp/gen-holder.log 2>&1 &
holder=$!
wait_output /tmp/gen-holder.log 30
timeout 30 $cli info -c usb >/tmp/info-busy.log 2>&1; status=$?
echo "  [p2-busy] exit $status: $(cat /tmp/info-busy.log)"
if [ $status != 0 ] && grep -qi "another process\|busy" /tmp/info-busy.log; then pass p2-second-host-process-busy
else fail p2-second-host-process-busy ""; fi
kill -0 $holder 2>/dev/null && pass p2-first-host-process-still-streaming || fail p2-first-host-process-still-streaming "$(tail -c 300 /tmp/gen-holder.log)"
kill -9 $holder 2>/dev/null; wait $holder 2>/dev/null

# Unplug (UDC unbound) and replug mid-stream: the client sees the disconnect, the daemon survives,
# a new client gets the same tokens.
$cli generate -c usb $prompt --max-tokens 1000000 >/tmp/gen-unplug.log 2>&1 &
streamer=$!
wait_output /tmp/gen-unplug.log 30 && started=yes || started=no
echo "" >$gadget/UDC
sleep 1
echo $udc >$gadget/UDC
i=0
while kill -0 $streamer 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if kill -0 $streamer 2>/dev/null; then
    fail p2-unplug-mid-stream-client-sees-disconnect "(client still running 10 s after unplug)"; kill -9 $streamer
else
    wait $streamer; status=$?
    echo "  [p2-unplug] client exit $status: $(tail -c 300 /tmp/gen-unplug.log | tr '\n' ' ' | sed 's/t[0-9]* //g')"
    if [ $status != 0 ] && [ $started = yes ] && ! grep -q "cannot reach" /tmp/gen-unplug.log; then
        pass p2-unplug-mid-stream-client-sees-disconnect
    else fail p2-unplug-mid-stream-client-sees-disconnect "(exit $status)"; fi
fi
kill -0 $daemon 2>/dev/null && pass p2-daemon-survives-unplug || fail p2-daemon-survives-unplug "$(tail -5 /tmp/daemon.log)"
i=0
while ! $cli list 2>/dev/null | grep -q "^usb:" && [ $i -lt 100 ]; do sleep 0.2; i=$((i + 1)); done
timeout 120 $cli generate -c usb $prompt --max-tokens 8 --ids >/tmp/gen-after-replug.log 2>&1
if grep -q "^[0-9]" /tmp/gen16-reference.log && cmp -s /tmp/gen-after-replug.log /tmp/gen16-reference.log; then pass p2-replug-then-new-client
else fail p2-replug-then-new-client "$(cat /tmp/gen-after-replug.log)"; fi

# PING latency and echo throughput through the client library, USB beside the socket.
# (`cartridge ping` is not used: its -c/--count clashes with -c/--connect.)
for uri in usb unix:$socket; do
    for size in 0 16384 262144; do
        count=100; [ $size = 16384 ] && count=20; [ $size = 262144 ] && count=10
        if timeout 90 $selftest ping --connect $uri --count $count --size $size >/tmp/ping.log 2>&1; then
            sed -n "s/^ping /FIGURE protocol ping /p" /tmp/ping.log | tee -a /tmp/ping-figures.log
        else
            fail "p2-ping-$uri-$size" "$(tail -n 3 /tmp/ping.log)"
        fi
    done
done

# USB against the socket, median against median.
for size in 0 16384 262144; do
    usb=$(sed -n "s/^FIGURE protocol ping usb payload $size B .*median \([0-9]*\) us.*/\1/p" /tmp/ping-figures.log)
    unix=$(sed -n "s/^FIGURE protocol ping unix:.* payload $size B .*median \([0-9]*\) us.*/\1/p" /tmp/ping-figures.log)
    [ -n "$usb" ] && [ -n "$unix" ] && echo "FIGURE protocol ping $size B ($daemon_kind): USB median $usb us, socket $unix us, USB/socket $(awk "BEGIN { printf \"%.2f\", $usb / $unix }")"
done

# The protocol conformance scripts that exercise framing over USB packetization.
check p2-conformance-over-usb 240 $cli conformance -c usb /conformance/01-handshake.cts /conformance/07-limits.cts /conformance/08-framing.cts
sed -n "s/^\([0-9]* passed, [0-9]* failed\)/FIGURE conformance over usb: \1/p" /tmp/check.log

# The host gateway over the USB cartridge: `cartridge serve` finds it by scanning the bus (no
# udevd here), /v1/models follows an unplug (UDC unbound) and a replug, and requests resume.
# It holds the cartridge's interface, so it runs after the other host-side steps.
if [ $daemon_kind = cartridged ]; then
    ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up
    $cli serve --listen 127.0.0.1:8080 --log-level info >/tmp/gateway.log 2>&1 &
    gateway=$!
    # (busybox wget has no timeout option: timeout(1) bounds it.)
    gateway_models() { timeout 10 wget -q -O - http://127.0.0.1:8080/v1/models 2>/dev/null; }
    gateway_complete() {
        timeout 120 wget -q -O - --header "Content-Type: application/json" \
            --post-data '{"model":"model.bin","prompt":[1,42],"max_tokens":8,"temperature":0}' \
            http://127.0.0.1:8080/v1/completions 2>/dev/null
    }
    # wait_models PATTERN SECONDS: until /v1/models matches (or, with !, stops matching).
    wait_models() {
        i=0
        while [ $i -lt $(($2 * 10)) ]; do
            if [ "$1" = "!" ]; then gateway_models | grep -q '"data":\[\]' && return 0
            else gateway_models | grep -q "$1" && return 0; fi
            sleep 0.5; i=$((i + 5))
        done
        return 1
    }
    wait_models '"id":"model.bin"' 30 && pass p2-gateway-lists-usb-cartridge || fail p2-gateway-lists-usb-cartridge "$(gateway_models) $(tail -3 /tmp/gateway.log)"
    gateway_complete >/tmp/gateway-completion.log
    grep -q '"text_completion"' /tmp/gateway-completion.log && pass p2-gateway-completion-over-usb || fail p2-gateway-completion-over-usb "$(cat /tmp/gateway-completion.log)"
    unplugged=$(date +%s)
    echo "" >$gadget/UDC
    wait_models ! 10 && pass p2-gateway-unplug-removes-model || fail p2-gateway-unplug-removes-model "$(gateway_models)"
    echo "  [p2-gateway] model gone $(( $(date +%s) - unplugged )) s after the unplug"
    echo $udc >$gadget/UDC
    replugged=$(date +%s)
    wait_models '"id":"model.bin"' 30 && pass p2-gateway-replug-restores-model || fail p2-gateway-replug-restores-model "$(gateway_models) $(tail -3 /tmp/gateway.log)"
    echo "  [p2-gateway] model back $(( $(date +%s) - replugged )) s after the replug"
    gateway_complete >/tmp/gateway-completion2.log
    if grep -q '"text_completion"' /tmp/gateway-completion2.log; then pass p2-gateway-requests-resume-after-replug
    else fail p2-gateway-requests-resume-after-replug "$(cat /tmp/gateway-completion2.log) $(tail -3 /tmp/gateway.log)"; fi
    kill -TERM $gateway
    wait $gateway && pass p2-gateway-sigterm || fail p2-gateway-sigterm "$(tail -5 /tmp/gateway.log)"
    echo "---- gateway log"
    tail -n 20 /tmp/gateway.log | sed "s/^/  [gateway] /"
fi

# Clean teardown on SIGTERM.
kill -TERM $daemon
i=0
while kill -0 $daemon 2>/dev/null && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
kill -0 $daemon 2>/dev/null && { fail p2-daemon-sigterm "(still running after 15 s)"; kill -9 $daemon; }
wait $daemon; status=$?
[ $status = 0 ] && [ ! -d $gadget ] && pass p2-daemon-sigterm-teardown || fail p2-daemon-sigterm-teardown "(exit $status)"
echo "NOTE phase 2 daemon: $daemon_kind"

. /usb-stand-in-tests.sh
echo "---- daemon log (phase 2)"
tail -n 40 /tmp/daemon.log | sed "s/^/  [daemon] /"
