# name: payload limits and USB packet-size boundaries
connect
send HELLO id=1
expect HELLO_REPLY id=1
send PING id=2 size=0
expect PONG id=2 size=0
send PING id=3 size=1
expect PONG id=3 size=1
# Transfers of exact multiples of 64, 512 and 1024 bytes (with the 16-byte header, and without).
send PING id=4 size=48
expect PONG id=4 size=48
send PING id=5 size=64
expect PONG id=5 size=64
send PING id=6 size=496
expect PONG id=6 size=496
send PING id=7 size=512
expect PONG id=7 size=512
send PING id=8 size=1008
expect PONG id=8 size=1008
send PING id=9 size=1024
expect PONG id=9 size=1024
send PING id=10 size=16368
expect PONG id=10 size=16368
send PING id=11 size=65536
expect PONG id=11 size=65536
# The maximum payload is accepted; one byte more is refused, skipped, and the next frame works.
send PING id=12 size=$max_payload
expect PONG id=12 size=$max_payload
send PING id=13 size=$max_payload+1
expect ERROR id=13 code=PAYLOAD_TOO_LARGE
send PING id=14 data=hex:abcd
expect PONG id=14 data=hex:abcd
