# name: framing: split headers, batched frames, garbage, unknown types, bad payloads
connect
send HELLO id=1 split=1
expect HELLO_REPLY id=1
# A header split across writes at several offsets.
send PING id=2 data=hex:0102030405 split=3
expect PONG id=2 data=hex:0102030405
send PING id=3 data=hex:06 split=15
expect PONG id=3 data=hex:06
# Several frames in one write.
together
send PING id=4 data=hex:04
send INFO id=5
send PING id=6 data=hex:06
end
expect PONG id=4 data=hex:04
expect MODEL_CARD id=5
expect PONG id=6 data=hex:06
# Garbage, then a valid frame: one MALFORMED_FRAME with id 0, then the frame is served.
send-hex 00 ff 43 52 54 58 13 37
send PING id=7 data=hex:77
expect ERROR id=0 code=MALFORMED_FRAME
expect PONG id=7 data=hex:77
# Unknown type, and a device-to-host type sent by the host.
send 0x42 id=8 payload=hex:0102
expect ERROR id=8 code=UNKNOWN_TYPE
send 0x85 id=9
expect ERROR id=9 code=UNKNOWN_TYPE
# A frame version the device does not speak; its payload is skipped.
send PING id=10 version=2 data=hex:0102
expect ERROR id=10 code=UNSUPPORTED_VERSION
send PING id=11 data=hex:11
expect PONG id=11 data=hex:11
# Payloads that do not decode.
send TOKENIZE id=12 payload=hex:0002000000c328
expect ERROR id=12 code=MALFORMED_PAYLOAD
send GENERATE id=13 prompt="x" truncate=3
expect ERROR id=13 code=MALFORMED_PAYLOAD
send DETOKENIZE id=14 payload=hex:ffffffff
expect ERROR id=14 code=MALFORMED_PAYLOAD
send HELLO id=15 payload=hex:01
expect ERROR id=15 code=MALFORMED_PAYLOAD
# Reserved flag bits are ignored.
send PING id=16 flags=0x8000 data=hex:16
expect PONG id=16 data=hex:16
