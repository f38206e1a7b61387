# name: request ids, concurrency and BUSY
# requires: generate
connect
send HELLO id=1
expect HELLO_REPLY id=1
send INFO id=0
expect ERROR id=0 code=INVALID_REQUEST_ID
# Two streams at once: both complete.
together
send GENERATE id=2 tokens=1 max_tokens=20
send GENERATE id=3 tokens=1 max_tokens=20
end
expect-stream id=2 stop_reason=* max_tokens=20
expect-stream id=3 stop_reason=* max_tokens=20
# An id in flight cannot be used again until its final frame; the refusal carries id 0,
# so it cannot be taken for the final frame of the live request.
send GENERATE id=4 tokens=1 max_tokens=100000
expect TOKEN id=4 index=0
send INFO id=4
expect ERROR id=0 code=INVALID_REQUEST_ID message=~4
send CANCEL id=4
expect-stream id=4 from=1 stop_reason=cancelled
send INFO id=4
expect MODEL_CARD id=4
# The device runs at most 4 generations at once: the fifth is BUSY.
send GENERATE id=10 tokens=1 max_tokens=100000
send GENERATE id=11 tokens=1 max_tokens=100000
send GENERATE id=12 tokens=1 max_tokens=100000
send GENERATE id=13 tokens=1 max_tokens=100000
expect TOKEN id=13 index=0
send GENERATE id=14 tokens=1 max_tokens=10
expect ERROR id=14 code=BUSY
together
send CANCEL id=10
send CANCEL id=11
send CANCEL id=12
send CANCEL id=13
end
expect-stream id=10 stop_reason=cancelled
expect-stream id=11 stop_reason=cancelled
expect-stream id=12 stop_reason=cancelled
expect-stream id=13 from=1 stop_reason=cancelled
send GENERATE id=14 tokens=1 max_tokens=3
expect-stream id=14 max_tokens=3
