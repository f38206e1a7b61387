#!/bin/sh
# Phase 3, sourced by usb-tests.sh when run-usb-tests.sh put a chat image in /model/chat.cart:
# a chat cartridge burned from a GGUF file (/model/chat.kind: "synthetic", the tiny random-weight
# Llama GGUF, or "smollm2", the real SmolLM2-135M-Instruct) served by cartridged as a real FunctionFS
# gadget and over a Unix socket at the same time; CHAT over USB must give exactly the socket's
# answer (and, for SmolLM2, a sensible one).
echo "==== phase 3: the chat cartridge over USB (t=$(uptime) s)"
if [ ! -f /model/chat.cart ]; then
    echo "NOTE phase 3 skipped: no chat image (run-usb-tests.sh burns one when scripts/fetch-chat-model.sh can fetch the model)"
    return 0 2>/dev/null || exit 0
fi
kind=$(cat /model/chat.kind 2>/dev/null)
socket=/run/chat.sock
cli=/usr/bin/cartridge
/usr/bin/cartridged --image /model/chat.cart --socket $socket --usb --udc $udc --log-level warning >/tmp/chat-daemon.log 2>&1 &
chat_daemon=$!
i=0
while ! $cli list 2>/dev/null | grep -q "^usb:" && kill -0 $chat_daemon 2>/dev/null && [ $i -lt 300 ]; do sleep 0.2; i=$((i + 1)); done
$cli list 2>/dev/null | grep -q "^usb:" && pass p3-chat-cartridge-enumerates || fail p3-chat-cartridge-enumerates "$(tail -5 /tmp/chat-daemon.log)"

timeout 60 $cli info -c usb >/tmp/chat-info.log 2>&1
sed "s/^/  [p3-info] /" /tmp/chat-info.log
grep -q "gpt2-bpe/smollm" /tmp/chat-info.log && grep -q "ggml:" /tmp/chat-info.log && pass p3-info-over-usb || fail p3-info-over-usb ""

# CHAT over USB and over the socket: the same streamed answer (greedy), and it names Paris.
question="What is the capital of France?"
timeout 400 $cli chat -c usb -m "$question" -n 10 --stats >/tmp/chat-usb.log 2>&1; status_usb=$?
timeout 400 $cli chat -c unix:$socket -m "$question" -n 10 --stats >/tmp/chat-unix.log 2>&1
echo "  [p3-chat usb]  $(head -c 300 /tmp/chat-usb.log | tr '\n' ' ')"
echo "  [p3-chat unix] $(head -c 300 /tmp/chat-unix.log | tr '\n' ' ')"
head -n 1 /tmp/chat-usb.log >/tmp/chat-usb-text.log
head -n 1 /tmp/chat-unix.log >/tmp/chat-unix-text.log
if [ $status_usb = 0 ] && [ -s /tmp/chat-usb-text.log ] && cmp -s /tmp/chat-usb-text.log /tmp/chat-unix-text.log; then
    pass p3-chat-usb-identical-to-socket
else fail p3-chat-usb-identical-to-socket "(exit $status_usb)"; fi
if [ "$kind" = smollm2 ]; then
    grep -q "Paris" /tmp/chat-usb-text.log && pass p3-chat-answers-paris || fail p3-chat-answers-paris "$(cat /tmp/chat-usb-text.log)"
fi
grep -q "stop=" /tmp/chat-usb.log && pass p3-chat-streamed-with-stats || fail p3-chat-streamed-with-stats "$(tail -2 /tmp/chat-usb.log)"
sed -n "s/^\[stop=\(.*\)\]/FIGURE chat over usb ($kind model, $(cat /build.kind), TCG): stop=\1/p" /tmp/chat-usb.log

# A chat client killed mid-answer (the host disconnects): the daemon keeps serving the next one.
$cli chat -c usb -m "Write a long story about a dragon." -n 400 >/tmp/chat-killed.log 2>&1 &
streamer=$!
i=0
while [ ! -s /tmp/chat-killed.log ] && [ $i -lt 3000 ]; do sleep 0.1; i=$((i + 1)); done
kill -9 $streamer; wait $streamer 2>/dev/null
timeout 400 $cli chat -c usb -m "$question" -n 10 >/tmp/chat-after.log 2>&1
head -n 1 /tmp/chat-after.log >/tmp/chat-after-text.log
cmp -s /tmp/chat-after-text.log /tmp/chat-usb-text.log && pass p3-chat-after-killed-client || fail p3-chat-after-killed-client "$(cat /tmp/chat-after.log)"

kill -TERM $chat_daemon
i=0
while kill -0 $chat_daemon 2>/dev/null && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
kill -0 $chat_daemon 2>/dev/null && { fail p3-chat-daemon-sigterm "(still running after 15 s)"; kill -9 $chat_daemon; }
wait $chat_daemon; status=$?
[ $status = 0 ] && pass p3-chat-daemon-sigterm || fail p3-chat-daemon-sigterm "(exit $status)"
echo "---- daemon log (phase 3)"
tail -n 20 /tmp/chat-daemon.log | sed "s/^/  [chat-daemon] /"
