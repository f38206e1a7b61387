# name: EMBED on a cartridge without EMBED is UNSUPPORTED
# without: embed
connect
send HELLO id=1
expect HELLO_REPLY id=1
send EMBED id=2 sentence="hello"
expect ERROR id=2 code=UNSUPPORTED
