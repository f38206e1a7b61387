# name: CHAT answers with a TOKEN stream; log-probabilities; bad conversations are INVALID_ARGUMENT
# requires: chat
connect
send HELLO id=1
expect HELLO_REPLY id=1
send CHAT id=2 message=user:Hello max_tokens=4
expect-stream id=2 min_tokens=1 max_tokens=4
send CHAT id=3 message=system:Be brief. message=user:Hi message=assistant:Hello message=user:Bye max_tokens=3
expect-stream id=3 min_tokens=1 max_tokens=3
# With top_logprobs every TOKEN carries that many alternatives.
send CHAT id=4 message=user:Hello max_tokens=1 top_logprobs=3
expect TOKEN id=4 index=0 top_count=3
expect DONE id=4
# No messages, an unknown role, top_logprobs above 20, maximum_tokens 0, sampling out of range.
send CHAT id=5 max_tokens=4
expect ERROR id=5 code=INVALID_ARGUMENT
send CHAT id=6 message=wizard:hi max_tokens=4
expect ERROR id=6 code=INVALID_ARGUMENT
send CHAT id=7 message=user:hi max_tokens=4 top_logprobs=21
expect ERROR id=7 code=INVALID_ARGUMENT
send CHAT id=8 message=user:hi max_tokens=0
expect ERROR id=8 code=INVALID_ARGUMENT
# Sampling values out of range are INVALID_ARGUMENT, as for GENERATE (not MALFORMED_PAYLOAD).
send CHAT id=11 message=user:hi max_tokens=4 temperature=-1
expect ERROR id=11 code=INVALID_ARGUMENT
send CHAT id=12 message=user:hi max_tokens=4 top_p=1.5
expect ERROR id=12 code=INVALID_ARGUMENT
# A cut payload is MALFORMED_PAYLOAD; the connection keeps working.
send CHAT id=9 message=user:hi max_tokens=4 truncate=3
expect ERROR id=9 code=MALFORMED_PAYLOAD
send PING id=10 data=hex:0a
expect PONG id=10 data=hex:0a
