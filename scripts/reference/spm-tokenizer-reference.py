#!/usr/bin/env python3
"""Writes Tests/CartridgeTokenizersTests/Fixtures/llama2-spm-reference.json: the Llama 2 SentencePiece ids
llama2.c's `encode` (run.c, the algorithm CartridgeInference.LlamaTokenizer ports) gives for the texts
of smollm2-bpe-reference.json, with the 32,000-token vocabulary of shared/models/llama2-tokenizer.bin.
Developer tool only; the Swift tests read the committed JSON.

    python3 scripts/reference/spm-tokenizer-reference.py [/work/shared/models/llama2-tokenizer.bin] \
        [Tests/CartridgeTokenizersTests/Fixtures/smollm2-bpe-reference.json] [Tests/CartridgeTokenizersTests/Fixtures/llama2-spm-reference.json]

tokenizer.bin (llama2.c): int32 max_token_length, then per token: float32 score, int32 length, bytes.
encode (run.c): the text ends at its first NUL; BOS 1; a dummy-prefix " " token when the text is not
empty; one token per UTF-8 code point when the vocabulary has it, else its bytes as tokens byte + 3;
then repeatedly merge the adjacent pair whose concatenation is the best-scoring token (leftmost on
ties). The port is checked against ids printed by llama2.c itself before anything is written.
Texts with a NUL are left out (llama2.c cuts them there; llama.cpp does not), and so is a literal "▁"
(U+2581): llama2.c pieces spell spaces as " ", so for llama2.c it is an unknown character (bytes),
while in the GGUF form it is the space token.
"""
import json
import struct
import sys

# Printed by llama2.c run.c (ENCODE_ONLY), as in Tests/CartridgeInferenceTests/TokenizerTests.swift.
RUN_C_IDS = [
    ("", [1]),
    ("   ", [1, 268]),
    ("\n", [1, 29871, 13]),
    ("Hello world", [1, 15043, 3186]),
    ("  leading spaces", [1, 259, 8236, 8162]),
    ("tabs\tand\tspaces", [1, 18859, 12, 392, 12, 22854]),
    ("héllo wörld", [1, 298, 3610, 417, 281, 1340, 430]),
    ("日本語のテキスト", [1, 29871, 30325, 30346, 30968, 30199, 30572, 30454, 30255, 30279]),
    ("emoji 🤖🚀!", [1, 953, 29877, 2397, 29871, 243, 162, 167, 153, 243, 162, 157, 131, 29991]),
    ("<0x41> and <s>", [1, 529, 29900, 29916, 29946, 29896, 29958, 322, 529, 29879, 29958]),
    ("1234567890 + 3.14159", [1, 29871, 29896, 29906, 29941, 29946, 29945, 29953, 29955, 29947, 29929, 29900, 718,
                              29871, 29941, 29889, 29896, 29946, 29896, 29945, 29929]),
    ("Привет, мир", [1, 7203, 7616, 29892, 4157, 29927]),
]

EXTRA_TEXTS = [
    " ", "  two", "a  b   c", "trailing  ", "line one\nline two\n", "x\r\ny", "Ünïcödé ÇÃ", "a\u0300 combining",
    "𝕏 and \U0001F9D1\u200D\U0001F4BB", "<s>literal</s><unk>",
]


def read_vocabulary(path):
    data = open(path, "rb").read()
    offset = 4
    pieces, scores = [], []
    while offset < len(data):
        score, length = struct.unpack_from("<fi", data, offset)
        offset += 8
        pieces.append(data[offset:offset + length].split(b"\0")[0])
        scores.append(score)
        offset += length
    return pieces, scores


def encode(text, pieces, scores, ids):
    data = text.encode("utf-8").split(b"\0")[0]
    tokens = [1]
    if data:
        tokens.append(ids[b" "])
    index = 0
    while index < len(data):
        end = index + 1
        while end < len(data) and data[end] & 0xC0 == 0x80 and end - index < 4:
            end += 1
        code_point = data[index:end]
        if code_point in ids:
            tokens.append(ids[code_point])
        else:
            tokens.extend(byte + 3 for byte in code_point)
        index = end
    while True:
        best, best_index = -1e10, -1
        for position in range(len(tokens) - 1):
            merged = ids.get(pieces[tokens[position]] + pieces[tokens[position + 1]])
            if merged is not None and scores[merged] > best:
                best, best_index = scores[merged], position
        if best_index < 0:
            return tokens
        tokens[best_index:best_index + 2] = [ids[pieces[tokens[best_index]] + pieces[tokens[best_index + 1]]]]


def main():
    vocabulary_path = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/models/llama2-tokenizer.bin"
    texts_path = sys.argv[2] if len(sys.argv) > 2 else "Tests/CartridgeTokenizersTests/Fixtures/smollm2-bpe-reference.json"
    output = sys.argv[3] if len(sys.argv) > 3 else "Tests/CartridgeTokenizersTests/Fixtures/llama2-spm-reference.json"
    pieces, scores = read_vocabulary(vocabulary_path)
    pieces, scores = pieces[:32000], scores[:32000]
    ids = {}
    for index in reversed(range(len(pieces))):  # the first id wins on duplicates
        ids[pieces[index]] = index
    for text, expected in RUN_C_IDS:
        assert encode(text, pieces, scores, ids) == expected, (text, encode(text, pieces, scores, ids))
    texts = [t for t in json.load(open(texts_path, encoding="utf-8"))["texts"] if "\0" not in t] + EXTRA_TEXTS
    fixture = {
        "generator": "scripts/reference/spm-tokenizer-reference.py",
        "vocabulary": vocabulary_path.rsplit("/", 1)[-1],
        "texts": texts,
        "ids": [encode(text, pieces, scores, ids) for text in texts],
    }
    with open(output, "w", encoding="utf-8") as file:
        json.dump(fixture, file, ensure_ascii=True, separators=(",", ":"))
        file.write("\n")
    print(f"{output}: {len(texts)} texts")


if __name__ == "__main__":
    main()
