# name: sessions keep the KV cache between requests
# requires: generate sessions
connect
send HELLO id=1
expect HELLO_REPLY id=1
send GENERATE id=2 tokens=1,2,3 max_tokens=2 session=7
expect-stream id=2 cached_prompt_tokens=0 prompt_tokens=3
send GENERATE id=3 tokens=1,2,3,4,5 max_tokens=2 session=7
expect-stream id=3 cached_prompt_tokens=>=3 prompt_tokens=5
# A connection keeps at most 4 sessions; a fifth id is INVALID_ARGUMENT (retrying cannot help).
send GENERATE id=4 tokens=1 max_tokens=1 session=8
expect-stream id=4
send GENERATE id=5 tokens=1 max_tokens=1 session=9
expect-stream id=5
send GENERATE id=6 tokens=1 max_tokens=1 session=10
expect-stream id=6
send GENERATE id=7 tokens=1 max_tokens=1 session=11
expect ERROR id=7 code=INVALID_ARGUMENT
# The four kept sessions still work.
send GENERATE id=8 tokens=1 max_tokens=1 session=8
expect-stream id=8
