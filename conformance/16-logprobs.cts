# name: GENERATE with top_logprobs and echo: PROMPT_TOKEN per prompt position, then TOKENs with alternatives
# requires: generate logprobs
connect
send HELLO id=1
expect HELLO_REPLY id=1
send GENERATE id=2 tokens=1,5,9 max_tokens=2 top_logprobs=2 echo=1
expect PROMPT_TOKEN id=2 index=0 token_id=1 top_count=0
expect PROMPT_TOKEN id=2 index=1 token_id=5 top_count=2
expect PROMPT_TOKEN id=2 index=2 token_id=9 top_count=2
expect TOKEN id=2 index=0 top_count=2
expect TOKEN id=2 index=1 top_count=2
expect DONE id=2 prompt_tokens=3 generated_tokens=2
send GENERATE id=3 tokens=1 max_tokens=1 top_logprobs=21
expect ERROR id=3 code=INVALID_ARGUMENT
