# name: GENERATE on a cartridge without GENERATE is UNSUPPORTED
# without: generate
connect
send HELLO id=1
expect HELLO_REPLY id=1
send GENERATE id=2 prompt="hello"
expect ERROR id=2 code=UNSUPPORTED
