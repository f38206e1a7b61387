# name: CHAT on a cartridge without a chat template is UNSUPPORTED
# without: chat
connect
send HELLO id=1
expect HELLO_REPLY id=1
send CHAT id=2 message=user:hello max_tokens=4
expect ERROR id=2 code=UNSUPPORTED
send PING id=3 data=hex:01
expect PONG id=3 data=hex:01
