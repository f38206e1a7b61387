# name: GENERATE streams, CANCEL mid-stream and after DONE
# requires: generate
connect
send HELLO id=1
expect HELLO_REPLY id=1
send GENERATE id=2 tokens=1 max_tokens=12
expect-stream id=2 stop_reason=* prompt_tokens=1 min_tokens=1 max_tokens=12
send GENERATE id=3 tokens=1,100,200 max_tokens=5
expect-stream id=3 min_tokens=1 max_tokens=5 prompt_tokens=3
# Same request, same tokens (greedy is deterministic).
send GENERATE id=4 tokens=1,2,3 max_tokens=8 temperature=0.9 top_p=0.9 seed=42
expect-stream id=4 max_tokens=8
# CANCEL mid-stream: the stream ends promptly with DONE(cancelled).
send GENERATE id=5 tokens=1 max_tokens=100000
expect TOKEN id=5 index=0
send CANCEL id=5
expect-stream id=5 from=1 stop_reason=cancelled
# CANCEL after DONE is ignored: nothing comes back, the connection keeps working.
send CANCEL id=5
expect-nothing 200ms
send PING id=6 data=hex:ff
expect PONG id=6 data=hex:ff
# CANCEL of an id never used is ignored too.
send CANCEL id=999
expect-nothing 100ms
# Invalid arguments.
send GENERATE id=7 tokens=1 max_tokens=0
expect ERROR id=7 code=INVALID_ARGUMENT
send GENERATE id=8 tokens=$vocabulary_size max_tokens=4
expect ERROR id=8 code=INVALID_ARGUMENT
send GENERATE id=9 tokens=1*$context_length+1 max_tokens=4
expect ERROR id=9 code=CONTEXT_OVERFLOW
send GENERATE id=10 tokens=1 max_tokens=4 temperature=-1
expect ERROR id=10 code=INVALID_ARGUMENT
send GENERATE id=11 tokens=1 max_tokens=4 temperature=nan
expect ERROR id=11 code=INVALID_ARGUMENT
send GENERATE id=12 tokens=1 max_tokens=4 temperature=inf
expect ERROR id=12 code=INVALID_ARGUMENT
send GENERATE id=13 tokens=1 max_tokens=4 top_p=1.5
expect ERROR id=13 code=INVALID_ARGUMENT
send GENERATE id=14 tokens=1 max_tokens=4 top_p=-0.1
expect ERROR id=14 code=INVALID_ARGUMENT
