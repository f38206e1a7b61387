# name: edge cases: CANCEL before HELLO and of id 0, failed renegotiation, immediate id reuse, empty prompts and stops
# requires: generate
connect
# CANCEL before HELLO and CANCEL of id 0 are ignored (nothing is in flight).
send CANCEL id=5
send CANCEL id=0
expect-nothing 100ms
send HELLO id=1
expect HELLO_REPLY id=1 maximum_payload=1048576
send CANCEL id=0
expect-nothing 100ms
# A second HELLO that fails leaves the negotiated limit in force (1 MiB, not the 64 KiB handshake limit).
send HELLO id=2 max_payload=100
expect ERROR id=2 code=INVALID_ARGUMENT
send PING id=3 size=70000
expect PONG id=3 size=70000
send HELLO id=2 min=5 max=6
expect ERROR id=2 code=UNSUPPORTED_VERSION
send INFO id=3
expect MODEL_CARD id=3
# An id is free as soon as its final frame has been read: reuse it at once, many times.
repeat 300
send INFO id=4
expect MODEL_CARD id=4
end
repeat 30
send GENERATE id=4 tokens=1 max_tokens=3
expect-stream id=4 max_tokens=3
end
# An empty token prompt is INVALID_ARGUMENT.
send GENERATE id=6 tokens= max_tokens=4
expect ERROR id=6 code=INVALID_ARGUMENT
# Empty stop strings are ignored: the stream runs to max_tokens.
send GENERATE id=7 tokens=1 max_tokens=5 stop=""
expect-stream id=7 stop_reason=max_tokens generated_tokens=5
# Out-of-range sampling values are INVALID_ARGUMENT (not MALFORMED_PAYLOAD).
send GENERATE id=8 tokens=1 max_tokens=4 top_p=2
expect ERROR id=8 code=INVALID_ARGUMENT
