# name: TOKENIZE and DETOKENIZE
# requires: tokenize
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
