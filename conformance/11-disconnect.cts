# name: disconnect mid-stream, then reconnect
# requires: generate
# Five times more than the generation slots: a host that vanishes must free its slot.
repeat 6
connect
send HELLO id=1
expect HELLO_REPLY id=1
send GENERATE id=2 tokens=1 max_tokens=100000
expect TOKEN id=2 index=0
disconnect
end
connect
send HELLO id=1
expect HELLO_REPLY id=1
send GENERATE id=2 tokens=1 max_tokens=4
expect-stream id=2 max_tokens=4
