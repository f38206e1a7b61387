# name: handshake and version negotiation
connect
# Requests before HELLO need the handshake; PING works for liveness.
send INFO id=2
expect ERROR id=2 code=HANDSHAKE_REQUIRED
send PING id=3 data=hex:0102
expect PONG id=3 data=hex:0102
# No common version: higher only, lower only, inverted range.
send HELLO id=4 min=2 max=9
expect ERROR id=4 code=UNSUPPORTED_VERSION
send HELLO id=5 min=0 max=0
expect ERROR id=5 code=UNSUPPORTED_VERSION
send HELLO id=6 min=3 max=1
expect ERROR id=6 code=UNSUPPORTED_VERSION
send INFO id=7
expect ERROR id=7 code=HANDSHAKE_REQUIRED
# A payload limit below 1024 is refused.
send HELLO id=8 max_payload=1023
expect ERROR id=8 code=INVALID_ARGUMENT
# A host range that includes 1 from below and above gets 1.
send HELLO id=9 min=0 max=5 max_payload=4096
expect HELLO_REPLY id=9 version=1 maximum_payload=4096 maximum_in_flight=>=1 image_digest=*
send INFO id=10
expect MODEL_CARD id=10 name=* family=* context_length=>=1
# The negotiated limit now applies: 4097 bytes are too many, 4096 are fine.
send PING id=11 size=4097
expect ERROR id=11 code=PAYLOAD_TOO_LARGE
send PING id=12 size=4096
expect PONG id=12 size=4096
# A second HELLO renegotiates.
send HELLO id=13 max_payload=$max_payload
expect HELLO_REPLY id=13 maximum_payload=*
send PING id=14 size=4097
expect PONG id=14 size=4097
