#!/usr/bin/env python3
"""Test-time reference for the all-MiniLM-L6-v2 embedding cartridge (never needed at run time).

    embedding-reference.py MODEL_DIR tokens  < sentences.json  > ids.json
    embedding-reference.py MODEL_DIR embed   < sentences.json  > vectors.json

sentences.json is a JSON list of strings.
`tokens` encodes each sentence with the model's own tokenizer.json through Hugging Face
`tokenizers` (its truncation setting kept, padding turned off) and prints the id lists.
`embed` tokenizes the same way except that it truncates at sentence_bert_config.json's
max_seq_length when the directory has one (as sentence-transformers does), then runs an independent float64 numpy BERT forward pass over
model.safetensors: the batch padded to its longest sentence with an attention mask, exact-erf GELU,
post-LayerNorm blocks, mean pooling over the mask, L2 normalisation. Prints one vector per sentence.

Needs: pip install tokenizers safetensors numpy. Exit status 3 when they are missing (tests skip).
"""
import json
import math
import sys

try:
    import numpy as np
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer
except ImportError as error:  # the Swift tests skip with this message
    print(f"missing Python package: {error.name} (pip install tokenizers safetensors numpy)", file=sys.stderr)
    sys.exit(3)


def tokenize(model_dir, sentences, sentence_transformers=False):
    tokenizer = Tokenizer.from_file(f"{model_dir}/tokenizer.json")
    tokenizer.no_padding()
    if sentence_transformers:
        # sentence-transformers truncates at sentence_bert_config.json's max_seq_length (256 for
        # all-MiniLM-L6-v2), not at tokenizer.json's truncation (128); so does the cartridge.
        try:
            with open(f"{model_dir}/sentence_bert_config.json") as file:
                tokenizer.enable_truncation(max_length=json.load(file)["max_seq_length"])
        except FileNotFoundError:
            pass
    return [tokenizer.encode(sentence).ids for sentence in sentences]


def layer_norm(x, weight, bias, eps):
    mean = x.mean(axis=-1, keepdims=True)
    variance = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(variance + eps) * weight + bias


_erf = np.vectorize(math.erf)


def gelu(x):
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


def embed(model_dir, sentences):
    with open(f"{model_dir}/config.json") as file:
        config = json.load(file)
    weights = {name: tensor.astype(np.float64) for name, tensor in load_file(f"{model_dir}/model.safetensors").items()}
    w = lambda name: weights[name]
    eps = config["layer_norm_eps"]
    heads = config["num_attention_heads"]
    hidden = config["hidden_size"]
    head_size = hidden // heads

    ids = tokenize(model_dir, sentences, sentence_transformers=True)
    length = max(len(row) for row in ids)
    batch = len(ids)
    input_ids = np.zeros((batch, length), dtype=np.int64)
    mask = np.zeros((batch, length), dtype=np.float64)
    for row, tokens in enumerate(ids):
        input_ids[row, : len(tokens)] = tokens
        mask[row, : len(tokens)] = 1.0

    x = (
        w("embeddings.word_embeddings.weight")[input_ids]
        + w("embeddings.position_embeddings.weight")[np.arange(length)][None, :, :]
        + w("embeddings.token_type_embeddings.weight")[0][None, None, :]
    )
    x = layer_norm(x, w("embeddings.LayerNorm.weight"), w("embeddings.LayerNorm.bias"), eps)
    additive_mask = (1.0 - mask)[:, None, None, :] * -1e30
    for layer in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{layer}."
        linear = lambda t, name: t @ w(p + name + ".weight").T + w(p + name + ".bias")
        split = lambda t: t.reshape(batch, length, heads, head_size).transpose(0, 2, 1, 3)
        q = split(linear(x, "attention.self.query"))
        k = split(linear(x, "attention.self.key"))
        v = split(linear(x, "attention.self.value"))
        scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(head_size) + additive_mask
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        probabilities = scores / scores.sum(axis=-1, keepdims=True)
        context = (probabilities @ v).transpose(0, 2, 1, 3).reshape(batch, length, hidden)
        attention = linear(context, "attention.output.dense")
        x = layer_norm(attention + x, w(p + "attention.output.LayerNorm.weight"), w(p + "attention.output.LayerNorm.bias"), eps)
        intermediate = gelu(linear(x, "intermediate.dense"))
        output = linear(intermediate, "output.dense")
        x = layer_norm(output + x, w(p + "output.LayerNorm.weight"), w(p + "output.LayerNorm.bias"), eps)
    pooled = (x * mask[:, :, None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
    pooled /= np.linalg.norm(pooled, axis=1, keepdims=True)
    return pooled.tolist()


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in ("tokens", "embed"):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    model_dir, command = sys.argv[1], sys.argv[2]
    sentences = json.load(sys.stdin)
    result = tokenize(model_dir, sentences) if command == "tokens" else embed(model_dir, sentences)
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
