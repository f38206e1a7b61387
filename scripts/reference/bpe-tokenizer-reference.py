#!/usr/bin/env python3
"""Writes Tests/CartridgeTokenizersTests/Fixtures/smollm2-bpe-reference.json: the token ids Hugging Face
`tokenizers` gives for a set of test strings, with the SmolLM2 vocabulary and merges read from the GGUF.
Developer tool only; the Swift tests read the committed JSON (no Python at test time).

    python3 scripts/reference/bpe-tokenizer-reference.py \
        [/root/.cache/cartridge/SmolLM2-135M-Instruct.Q4_1.gguf] [Tests/CartridgeTokenizersTests/Fixtures/smollm2-bpe-reference.json]

Needs: pip install gguf tokenizers jinja2 (tested with gguf 0.19, tokenizers 0.23.3, jinja2 3).

How the reference tokenizers are built (one per pre-tokenizer variant, all on the same SmolLM2
vocabulary `tokenizer.ggml.tokens` and merges `tokenizer.ggml.merges`):
  - model: BPE(vocab, merges), no dropout, no unk; `ignore_merges=True` for llama-bpe (as Llama 3's
    tokenizer.json and llama.cpp have it);
  - pre-tokenizer:
      smollm:    Sequence[Digits(individual_digits=True), ByteLevel(add_prefix_space=False, use_regex=True)]
      gpt2:      ByteLevel(add_prefix_space=False, use_regex=True)
      llama-bpe: Sequence[Split(Llama 3 regex, "isolated"), ByteLevel(add_prefix_space=False, use_regex=False)]
      qwen2:     Sequence[Split(Qwen2 regex, "isolated"), ByteLevel(add_prefix_space=False, use_regex=False)]
  - token_type 3 (control) and 2 (unknown) tokens are special AddedTokens, type 4 (user-defined)
    non-special AddedTokens (SmolLM2 has only control tokens, ids 0-16).
For each text two id lists are written: "parseSpecial" (plain `encode`, added tokens split out) and
"plain" (`encode_special_tokens = True`: special token texts are ordinary text). No BOS/EOS is added.
"""
import hashlib
import json
import sys

from gguf import GGUFReader
from jinja2 import Environment
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers

LLAMA3_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                r"|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
               r"|\s*[\r\n]+|\s+(?!\S)|\s+")

CONVERSATION = [
    {"role": "user", "content": "What is the capital of France?"},
    {"role": "assistant", "content": "The capital of France is Paris."},
    {"role": "user", "content": "And of Japan? Answer in one word,\nplease. 🇯🇵"},
]

LONG_ENGLISH = (
    "It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of "
    "foolishness, it was the epoch of belief, it was the epoch of incredulity, it was the season of Light, "
    "it was the season of Darkness, it was the spring of hope, it was the winter of despair, we had "
    "everything before us, we had nothing before us, we were all going direct to Heaven, we were all going "
    "direct the other way - in short, the period was so far like the present period, that some of its "
    "noisiest authorities insisted on its being received, for good or for evil, in the superlative degree "
    "of comparison only.\n\n")

TEXTS = [
    "",
    "12345 3.14159",
    "Hello world",
    "Hello, world! How are you today?",
    "The quick brown fox jumps over the lazy dog.",
    "I'm sure they'LL say it's theirs; we've done what we'd said. IT'S DONE, Y'ALL'RE 'VE 'M 'D",
    "it'ſa I'LLama don't can't won't rock'n'roll 'quoted' \"double\" `backticks`",
    "Numbers: 0 7 42 1000 65536 3141592653589793 1,234,567.89 -17 +3e10 0x1F 1st 2nd ½ ² ٣ ४",
    "Phone +1 (555) 010-9999, date 2024-05-06T12:30:00Z, version v2.10.3",
    "   leading spaces and trailing   ",
    "multiple     spaces  between\twords\t\tand\t tabs",
    "line one\nline two\n\nline four\n\n\n",
    "windows\r\nline\r\n\r\nendings\r",
    " \n \n\t\n  x",
    "\n",
    " ",
    "\t",
    "a  b   c    d",
    "Unicode spaces:\u00a0nbsp\u3000ideographic\u2002en\u2028line-sep\u0085nel\u180emvs\u200bzwsp end",
    "ASCII separators \x1c\x1d\x1e\x1f and controls \x00\x07\x1b[0m \x7f",
    "bytes without a token: \x04\x06\x13 and a plane-5 character \U00050000 stay out",
    "def fib(n):\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n\nprint([fib(i) for i in range(10)])\n",
    "struct Point: Equatable {\n    var x: Double, y: Double\n    static func + (a: Point, b: Point) -> Point { .init(x: a.x + b.x, y: a.y + b.y) }\n}\nlet p = Point(x: 1, y: 2) // comment\n",
    "if (a && b || !c) { x += y << 2; } else if (z >= 10 && w != null) { return arr[i]?.value ?? -1; }",
    "<html><body class=\"main\"><p>Hi &amp; bye</p></body></html>",
    "{\"key\": [1, 2.5, true, null], \"nested\": {\"a\": \"b\"}}",
    "https://example.com/path?query=1&x=y#frag user@example.org",
    "Café crème brûlée, naïve façade, Ångström, İstanbul, Straße, ÆØÅ",
    "Combining: e\u0301 a\u0300 n\u0303 vs é à ñ; Vietnamese: Tiếng Việt có dấu",
    "Ελληνικά και русский текст, עברית",
    "北京欢迎你！我爱自然语言处理。日本語のテキスト、カタカナとひらがな。한국어 문장입니다.",
    "Emoji: 😀 👍🏽 🇫🇷🇯🇵 👨‍👩‍👧‍👦 ❤️ 🏳️‍🌈 🤗🫠 done",
    "العربية: مرحبا بالعالم ١٢٣",
    "हिन्दी: नमस्ते दुनिया १२३",
    "ภาษาไทย ไม่มีช่องว่าง",
    "Mixed 123abc abc123 a1b2c3 ３４５ full-width ＡＢＣ",
    "Punctuation!!! ??? ... --- *** ### @@@ $$$ %%% ^^^ &&& ((( ))) [[[ ]]] {{{ }}} ||| ~~~ ;;; :::",
    "Quotes “curly” ‘single’ «guillemets» „low“ — em dash – en dash … ellipsis",
    "<|im_start|>user\nHello<|im_end|>\n",
    "text<|im_start|>middle<|im_end|>end<|endoftext|>",
    "<|im_start|><|im_start|><|im_end|>",
    "almost special: <|im_start| <im_start|> <|im_end |> <|endoftext|",
    "<repo_name>cartridge<file_sep>main.swift<reponame><filename><gh_stars>10<jupyter_code>x=1<empty_output>",
    "The token <|endoftext|> inside a sentence, and <|im_end|>.",
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "a" * 300,
    "ab" * 150 + " " + "zz" * 64,
    "x " * 100,
    LONG_ENGLISH * 6,
]


def byte_characters():
    """GPT-2's bytes_to_unicode: the character standing for each byte."""
    printable = list(range(0x21, 0x7F)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    table, extra = {}, 0
    for byte in range(256):
        if byte in printable:
            table[byte] = chr(byte)
        else:
            table[byte] = chr(256 + extra)
            extra += 1
    return table


BYTE_CHARACTERS = byte_characters()


def read_gguf(path):
    reader = GGUFReader(path)

    def field(name):
        return reader.fields.get(name)

    def strings(name):
        f = field(name)
        return [bytes(f.parts[i]).decode("utf-8") for i in f.data]

    def scalar(name):
        f = field(name)
        return None if f is None else f.parts[f.data[0]].tolist()[0]

    tokens = strings("tokenizer.ggml.tokens")
    types_field = field("tokenizer.ggml.token_type")
    types = [int(types_field.parts[i][0]) for i in types_field.data]
    merges = strings("tokenizer.ggml.merges")
    template_field = field("tokenizer.chat_template")
    template = bytes(template_field.parts[template_field.data[0]]).decode("utf-8")
    return {
        "tokens": tokens, "types": types, "merges": merges, "template": template,
        "bos": scalar("tokenizer.ggml.bos_token_id"), "eos": scalar("tokenizer.ggml.eos_token_id"),
    }


def build(vocabulary, variant):
    vocab = {token: index for index, token in reversed(list(enumerate(vocabulary["tokens"])))}  # first id wins
    merges = [tuple(merge.split(" ", 1)) for merge in vocabulary["merges"]]
    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=merges, ignore_merges=(variant == "llama-bpe")))
    byte_level_regex = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    byte_level_plain = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    if variant == "smollm":
        tokenizer.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True), byte_level_regex])
    elif variant == "gpt2":
        tokenizer.pre_tokenizer = byte_level_regex
    elif variant == "llama-bpe":
        tokenizer.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(LLAMA3_REGEX), "isolated"), byte_level_plain])
    elif variant == "qwen2":
        tokenizer.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(QWEN2_REGEX), "isolated"), byte_level_plain])
    tokenizer.decoder = decoders.ByteLevel()
    special = [AddedToken(t, special=True, normalized=False)
               for t, k in zip(vocabulary["tokens"], vocabulary["types"]) if k in (2, 3)]
    user_defined = [AddedToken(t, special=False, normalized=False)
                    for t, k in zip(vocabulary["tokens"], vocabulary["types"]) if k == 4]
    tokenizer.add_special_tokens(special)
    tokenizer.add_tokens(user_defined)
    return tokenizer


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "/root/.cache/cartridge/SmolLM2-135M-Instruct.Q4_1.gguf"
    output = sys.argv[2] if len(sys.argv) > 2 else "Tests/CartridgeTokenizersTests/Fixtures/smollm2-bpe-reference.json"
    vocabulary = read_gguf(path)
    with open(path, "rb") as file:
        digest = hashlib.sha256(file.read()).hexdigest()
    chat = Environment().from_string(vocabulary["template"]).render(messages=CONVERSATION, add_generation_prompt=True)
    texts = TEXTS + [chat]
    variants = {}
    for variant in ["smollm", "gpt2", "llama-bpe", "qwen2"]:
        tokenizer = build(vocabulary, variant)
        tokenizer.encode_special_tokens = False
        parsed = [tokenizer.encode(text, add_special_tokens=False).ids for text in texts]
        tokenizer.encode_special_tokens = True
        plain = [tokenizer.encode(text, add_special_tokens=False).ids for text in texts]
        # Byte-level BPE round-trips every text, except the bytes whose alphabet character is not a
        # token (SmolLM2 lacks 21, e.g. 0x04 and 0xF5...0xFF): those are dropped, as llama.cpp does too.
        vocab = tokenizer.get_vocab()
        for text, ids in zip(texts, plain):
            decoded = bytes(tokenizer.decode(ids, skip_special_tokens=False), "utf-8", "surrogateescape")
            kept = bytes(b for b in text.encode("utf-8") if BYTE_CHARACTERS[b] in vocab)
            assert decoded == kept or tokenizer.decode(ids) == kept.decode("utf-8", "replace"), (variant, text)
        variants[variant] = {"parseSpecial": parsed, "plain": plain}
    import tokenizers
    fixture = {
        "generator": "scripts/reference/bpe-tokenizer-reference.py",
        "model": path.rsplit("/", 1)[-1],
        "modelSHA256": digest,
        "tokenizersVersion": tokenizers.__version__,
        "texts": texts,
        "variants": variants,
    }
    with open(output, "w", encoding="utf-8") as file:
        json.dump(fixture, file, ensure_ascii=True, separators=(",", ":"))
        file.write("\n")
    print(f"{output}: {len(texts)} texts x {len(variants)} variants")


if __name__ == "__main__":
    main()
