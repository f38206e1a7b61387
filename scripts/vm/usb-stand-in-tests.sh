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
# Alternated, so the load hits all alike: USB, the socket, and the socket again while an idle USB
# connection is open (its posted IN transfer keeps dummy_hcd polling, as for any connected
# client: what that alone costs, with no byte over the bus).
for run in usb unix usb+unix usb unix usb+unix; do
    case $run in
        usb) uri=usb; alongside= ;;
        unix) uri=unix:/run/standin.sock; alongside= ;;
        usb+unix) uri=unix:/run/standin.sock; alongside="--alongside usb" ;;
    esac
    # shellcheck disable=SC2086  # $alongside is empty or two words
    if timeout 120 $selftest embed-bench --connect $uri --sentences 64 --count 10 $alongside >/tmp/embed.log 2>&1; then
        sed -n "s/^embed /FIGURE protocol embed /p" /tmp/embed.log | tee -a /tmp/embed-figures.log
    else
        fail "p2-embed-$run" "$(tail -n 3 /tmp/embed.log)"
    fi
    # shellcheck disable=SC2086
    if timeout 60 $selftest ping --connect $uri --count 100 --size 0 $alongside >/tmp/ping.log 2>&1; then
        sed -n "s/^ping /FIGURE protocol ping (stand-in) /p" /tmp/ping.log | tee -a /tmp/embed-figures.log
    else
        fail "p2-stand-in-ping-$run" "$(tail -n 3 /tmp/ping.log)"
    fi
done
# The better (lower) median of the two runs of each (the socket alone: lines without "idle").
lowest() { grep -v "idle" /tmp/embed-figures.log | sed -n "$1" | sort -n | head -n 1; }
lowest_idle() { grep "idle" /tmp/embed-figures.log | sed -n "$1" | sort -n | head -n 1; }
embed_usb=$(lowest "s/^FIGURE protocol embed usb .*median \([0-9]*\) us.*/\1/p")
embed_unix=$(lowest "s/^FIGURE protocol embed unix:.*median \([0-9]*\) us.*/\1/p")
embed_idle=$(lowest_idle "s/^FIGURE protocol embed unix:.*median \([0-9]*\) us.*/\1/p")
[ -n "$embed_usb" ] && [ -n "$embed_unix" ] && echo "FIGURE protocol embed 64 sentences (stand-in), best of 2: USB median $embed_usb us, socket $embed_unix us, USB/socket $(awk "BEGIN { printf \"%.2f\", $embed_usb / $embed_unix }")"
[ -n "$embed_usb" ] && [ -n "$embed_idle" ] && echo "FIGURE protocol embed 64 sentences (stand-in), best of 2, the socket with an idle USB connection open: socket $embed_idle us, USB/that $(awk "BEGIN { printf \"%.2f\", $embed_usb / $embed_idle }")"
ping_usb=$(lowest "s/^FIGURE protocol ping (stand-in) usb .*median \([0-9]*\) us.*/\1/p")
ping_unix=$(lowest "s/^FIGURE protocol ping (stand-in) unix:.*median \([0-9]*\) us.*/\1/p")
ping_idle=$(lowest_idle "s/^FIGURE protocol ping (stand-in) unix:.*median \([0-9]*\) us.*/\1/p")
[ -n "$ping_usb" ] && [ -n "$ping_unix" ] && echo "FIGURE protocol ping 0 B (stand-in), best of 2: USB median $ping_usb us, socket $ping_unix us, USB/socket $(awk "BEGIN { printf \"%.2f\", $ping_usb / $ping_unix }")"
[ -n "$ping_usb" ] && [ -n "$ping_idle" ] && echo "FIGURE protocol ping 0 B (stand-in), best of 2, the socket with an idle USB connection open: socket $ping_idle us, USB/that $(awk "BEGIN { printf \"%.2f\", $ping_usb / $ping_idle }")"

# The floor under those two ratios: what the emulated bus itself adds to a bare C echo (ffs-echo
# and usb-echo, step 10 of this run) over the same echo on a Unix socket (socket-echo), with no
# protocol and no Swift on either side. A USB transport cannot take that off a request, so
# socket + that estimates the least a USB PING or EMBED can take here (an estimate: the runs are
# minutes apart on a shared host, and a measured ratio can land a little under it).
# frame_us LOG PREFIX SIZE: the fastest per-frame echo round trip of SIZE bytes in LOG, in µs.
frame_us() {
    sed -n "s/^$2: echo $3-byte frames: .*(\([0-9]*\) bytes in \([0-9]*\) ms).*/\1 \2/p" "$1" \
        | awk -v size="$3" '$1 > 0 { t = $2 * 1000 * size / $1; if (best == "" || t < best) best = t } END { if (best != "") printf "%d", best }'
}
if [ -s /tmp/c-echo.log ] && /usr/bin/socket-echo --pings 300 --seconds 1 >/tmp/socket-echo.log 2>&1; then
    sed -n "s/^socket-echo: /FIGURE socket-echo: /p" /tmp/socket-echo.log
    c_ping=$(sed -n "s/^c-echo: ping .*median \([0-9]*\) us.*/\1/p" /tmp/c-echo.log | sort -n | head -n 1)
    s_ping=$(sed -n "s/^socket-echo: ping .*median \([0-9]*\) us.*/\1/p" /tmp/socket-echo.log)
    c_frame=$(frame_us /tmp/c-echo.log c-echo 98304)
    s_frame=$(frame_us /tmp/socket-echo.log socket-echo 98304)
    if [ -n "$c_ping" ] && [ -n "$s_ping" ] && [ -n "$ping_unix" ] && [ -n "$ping_usb" ]; then
        echo "FIGURE protocol ping floor: the bus adds $((c_ping - s_ping)) us to a bare 16-byte C echo round trip (USB $c_ping us, socket $s_ping us); with the socket PING's $ping_unix us, USB/socket floor about $(awk "BEGIN { printf \"%.2f\", ($ping_unix + $c_ping - $s_ping) / $ping_unix }") (measured $(awk "BEGIN { printf \"%.2f\", $ping_usb / $ping_unix }"))"
    fi
    if [ -n "$c_frame" ] && [ -n "$s_frame" ] && [ -n "$embed_unix" ] && [ -n "$embed_usb" ]; then
        extra=$(( (c_frame - s_frame) / 2 ))
        echo "FIGURE protocol embed floor: the bus adds $extra us to carry the 98304-byte answer one way (half the C echo round trip of such a frame: USB $c_frame us, socket $s_frame us); with the socket EMBED's $embed_unix us, USB/socket floor about $(awk "BEGIN { printf \"%.2f\", ($embed_unix + $extra) / $embed_unix }") (measured $(awk "BEGIN { printf \"%.2f\", $embed_usb / $embed_unix }"))"
    fi
else
    echo "FIGURE protocol floor: not measured ($( [ -s /tmp/c-echo.log ] && tail -n 2 /tmp/socket-echo.log || echo 'no C echo figures in this run'))"
fi
kill -TERM $standin
i=0
while kill -0 $standin 2>/dev/null && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
kill -0 $standin 2>/dev/null && { fail p2-stand-in-sigterm "(still running after 15 s)"; kill -9 $standin; }
wait $standin && pass p2-stand-in-embed-server-sigterm || fail p2-stand-in-embed-server-sigterm "$(tail -5 /tmp/standin.log)"
