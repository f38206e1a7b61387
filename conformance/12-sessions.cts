# name: sessions keep the KV cache between requests
# requires: generate sessions
connect
send HELLO id=1
expect HELLO_REPLY id=1
send GENERATE id=2 tokens=1,2,3 max_tokens=2 session=7
expect-stream id=2 cached_prompt_tokens=0 prompt_tokens=3
send GENERATE id=3 tokens=1,2,3,4,5 max_tokens=2 session=7
expect-stream id=3 cached_prompt_tokens=>=3 prompt_tokens=5
