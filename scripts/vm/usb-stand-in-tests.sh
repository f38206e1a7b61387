#!/bin/sh
# Sourced by usb-protocol-tests.sh (phase 2), and alone by usb-tests.sh under CARTRIDGE_VM_ONLY=echo.
# EMBED over USB beside the socket: the self-test's stand-in model (pseudo-random 384-float unit
# vectors computed in microseconds, so the figure is the protocol's and the transport's, not a
# model's) behind the same CartridgeServer, 64 sentences per request; PING from the same server.
$selftest serve --socket /run/standin.sock --udc $udc >/tmp/standin.log 2>&1 &
standin=$!
i=0
while ! $cli list 2>/dev/null | grep -q "^usb:" && [ $i -lt 100 ]; do sleep 0.2; i=$((i + 1)); done
: >/tmp/embed-figures.log
for uri in usb unix:/run/standin.sock usb unix:/run/standin.sock; do  # alternated: the load hits both alike
    if timeout 120 $selftest embed-bench --connect $uri --sentences 64 --count 10 >/tmp/embed.log 2>&1; then
        sed -n "s/^embed /FIGURE protocol embed /p" /tmp/embed.log | tee -a /tmp/embed-figures.log
    else
        fail "p2-embed-$uri" "$(tail -n 3 /tmp/embed.log)"
    fi
    if timeout 60 $selftest ping --connect $uri --count 100 --size 0 >/tmp/ping.log 2>&1; then
        sed -n "s/^ping /FIGURE protocol ping (stand-in) /p" /tmp/ping.log | tee -a /tmp/embed-figures.log
    else
        fail "p2-stand-in-ping-$uri" "$(tail -n 3 /tmp/ping.log)"
    fi
done
# The better (lower) median of the two runs of each.
lowest() { sed -n "$1" /tmp/embed-figures.log | sort -n | head -n 1; }
usb=$(lowest "s/^FIGURE protocol embed usb .*median \([0-9]*\) us.*/\1/p")
unix=$(lowest "s/^FIGURE protocol embed unix:.*median \([0-9]*\) us.*/\1/p")
[ -n "$usb" ] && [ -n "$unix" ] && echo "FIGURE protocol embed 64 sentences (stand-in), best of 2: USB median $usb us, socket $unix us, USB/socket $(awk "BEGIN { printf \"%.2f\", $usb / $unix }")"
usb=$(lowest "s/^FIGURE protocol ping (stand-in) usb .*median \([0-9]*\) us.*/\1/p")
unix=$(lowest "s/^FIGURE protocol ping (stand-in) unix:.*median \([0-9]*\) us.*/\1/p")
[ -n "$usb" ] && [ -n "$unix" ] && echo "FIGURE protocol ping 0 B (stand-in), best of 2: USB median $usb us, socket $unix us, USB/socket $(awk "BEGIN { printf \"%.2f\", $usb / $unix }")"
kill -TERM $standin
i=0
while kill -0 $standin 2>/dev/null && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
kill -0 $standin 2>/dev/null && { fail p2-stand-in-sigterm "(still running after 15 s)"; kill -9 $standin; }
wait $standin && pass p2-stand-in-embed-server-sigterm || fail p2-stand-in-embed-server-sigterm "$(tail -5 /tmp/standin.log)"
