# name: TOKENIZE, DETOKENIZE and text prompts
# requires: tokenize generate
connect
send HELLO id=1
expect HELLO_REPLY id=1
send TOKENIZE id=2 text="Hello world" bos=1
expect TOKENS id=2 count=>=2
send TOKENIZE id=3 text=""
expect TOKENS id=3
send TOKENIZE id=4 text="naïve café — 東京\n"
expect TOKENS id=4 count=>=1
send DETOKENIZE id=5 tokens=
expect TEXT id=5 text=
# A token id outside the vocabulary is an invalid argument.
send DETOKENIZE id=6 tokens=$vocabulary_size
expect ERROR id=6 code=INVALID_ARGUMENT
# A text prompt is tokenized by the device (with beginning-of-sequence).
send GENERATE id=7 prompt="Once upon a time" max_tokens=5
expect-stream id=7 min_tokens=1 max_tokens=5 prompt_tokens=>=2
# Unknown TOKENIZE option bits (2...7) are ignored: 0xfc with the text "Hi".
send TOKENIZE id=20 payload=hex:fc020000004869
expect TOKENS id=20
