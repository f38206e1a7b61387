# name: EMBED
# requires: embed
connect
send HELLO id=1
expect HELLO_REPLY id=1
send EMBED id=2 sentence="a cat sits on the mat" sentence="a kitten rests on a rug"
expect EMBEDDINGS id=2 count=2 dimension=>=1 unit_norm=1
send EMBED id=3
expect ERROR id=3 code=INVALID_ARGUMENT
