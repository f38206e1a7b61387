#!/usr/bin/env python3
"""Float64 reference forward pass of a Llama-family GGUF model (test-time only, never at run time).

Produces the logits an exact engine would compute from the model's dequantized weights, for every
position of a teacher-forced token sequence, so that other engines (the Swift engine, llama.cpp) can be
measured against it with compare-logits.py.

Usage:
    gguf-forward.py --model FILE (--tokens 1,2,3 | --tokens-file FILE | --text STRING | --text-file FILE)
                    [--generate N] [--no-stop] [--out LOGITS.f32] [--json SUMMARY.json] [--top-k 10]
                    [--print-tokens]

Input (exactly one):
    --tokens 1,2,3      token ids, comma (or whitespace) separated
    --tokens-file FILE  the same in a file; a JSON list of ints is also accepted
    --text STRING       text encoded with the model's own byte-level BPE vocabulary (see below);
                        special tokens such as <|im_start|> written in the text become their ids
    --text-file FILE    the same, text read from a file (UTF-8, taken verbatim)

Options:
    --generate N   first continue the input greedily (append the argmax, at most N tokens, stopping
                   after the EOS token unless --no-stop); the outputs then describe the whole
                   sequence input + generated, teacher-forced in one pass
    --out FILE     write the logits: little-endian float32, row-major [positions x vocab], no header;
                   row p holds the logits that predict the token after position p
    --json FILE    write the JSON summary there instead of to stdout
    --top-k K      entries per position in the summary (default 10)
    --print-tokens only print the token ids of the input (after --generate, of the whole sequence)
                   as a JSON list and exit

JSON summary (stdout unless --json): {"model", "vocab_size", "positions", "tokens": [...],
"generated": [...] (ids appended by --generate), "generated_text" (only with a tokenizer),
"top": [{"position": p, "token": id at p, "ids": [top-k ids, best first], "values": [their logits],
"margin": top1 - top2}, ...]}.

Model: general.architecture must be "llama" (Llama, SmolLM, TinyLlama, ...). Math, all in float64:
token embedding lookup; per layer x += Wo·attn(RoPE(Wq·n), RoPE(Wk·n), Wv·n) with
n = RMSNorm(x) * attn_norm, then x += W_down·(silu(W_gate·m) * W_up·m) with m = RMSNorm(x) * ffn_norm;
final RMSNorm * output_norm; logits = output.weight·x (token_embd.weight when output.weight is absent).
RMSNorm eps = llama.attention.layer_norm_rms_epsilon. RoPE: GGUF/llama.cpp "normal" convention,
adjacent pairs (2i, 2i+1) of each head rotated by pos * base^(-2i/n_rot), base = llama.rope.freq_base
(default 10000), n_rot = llama.rope.dimension_count (default head size); dimensions >= n_rot pass through.
Causal grouped-query attention: head h reads KV head h // (n_head / n_head_kv), scale 1/sqrt(head size).
Optional q/k/v/output biases are added when present. RoPE scaling other than none is rejected.
Every tensor is dequantized once with gguf.quants.dequantize and widened to float64 (about 8 bytes per
parameter of RAM: about 1.1 GB for a 135M model). A GGUF tensor with dims [ne0, ne1] is a numpy array
of shape (ne1, ne0), so a projection W·x is x @ W.T.

Tokenizer (--text only, needs the `tokenizers` package): for tokenizer.ggml.model = gpt2, a Hugging Face
BPE built from tokenizer.ggml.tokens and tokenizer.ggml.merges; pre-tokenizer Digits(individual) then
ByteLevel (no prefix space) for tokenizer.ggml.pre = smollm (plain ByteLevel otherwise); tokens of type
3 (control) are added as special tokens, type 4 (user-defined) as added tokens. No BOS is added unless
tokenizer.ggml.add_bos_token is true.

Needs: pip install numpy gguf (and tokenizers for --text). Exit status 3 when a package is missing
(callers skip), 2 on bad arguments or an unusable model. Cost on the 135M model: about 1.4 GB of RAM;
20-45 s for 100-170 positions on a loaded 2-core machine (about 11 s parsing the GGUF metadata, 12 s
dequantizing, 9 s per 100 positions of forward pass). Example:
    python3 scripts/reference/gguf-forward.py --model ~/.cache/cartridge/SmolLM2-135M-Instruct.Q4_1.gguf \
        --text $'<|im_start|>user\\nWhat is the capital of France?<|im_end|>\\n<|im_start|>assistant\\n' \
        --generate 16 --out /tmp/ref.f32 --json /tmp/ref.json
"""
import argparse
import importlib.util
import json
import os
import sys

# One BLAS thread unless the caller says otherwise: on a small shared machine, OpenBLAS's spinning
# threads made the float64 matmuls 2-3x slower.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

try:
    import numpy as np
    from gguf import GGUFReader
    from gguf.constants import GGMLQuantizationType, GGUFValueType
    from gguf.quants import dequantize
except ImportError as error:  # the Swift tests skip with this message
    print(f"missing Python package: {error.name} (pip install numpy gguf)", file=sys.stderr)
    sys.exit(3)


class ModelError(Exception):
    """The GGUF file cannot be used by this reference."""


def field_value(reader, key, default=None):
    field = reader.fields.get(key)
    if field is None:
        return default
    if field.types and field.types[0] == GGUFValueType.ARRAY:
        return field.contents()
    return field.contents()


def open_reader(path):
    """GGUFReader over the file read into memory.

    GGUFReader maps the file with np.memmap, and every one of the ~250,000 small views it makes while
    parsing the tokenizer arrays then goes through memmap's Python-level hooks (20-35 s for a 49k
    vocabulary on a loaded 2-core machine). A plain in-memory array gives the same fields and tensors
    about 3x faster, so np.memmap is swapped for np.fromfile while the reader is constructed.
    """
    if not os.path.isfile(path):
        raise ModelError(f"no such file: {path}")
    original = np.memmap
    np.memmap = lambda filename, mode="r", **_: np.fromfile(filename, dtype=np.uint8)
    try:
        return GGUFReader(path)
    except (ValueError, KeyError, IndexError) as error:
        raise ModelError(f"not a readable GGUF file: {error}") from error
    finally:
        np.memmap = original


class Model:
    """Hyperparameters and float64 weights of a llama-architecture GGUF file."""

    def __init__(self, path):
        self.reader = open_reader(path)
        reader = self.reader
        arch = field_value(reader, "general.architecture")
        if arch != "llama":
            raise ModelError(f"general.architecture is {arch!r}; only 'llama' is supported")

        def hparam(name, default=None):
            value = field_value(reader, f"llama.{name}", default)
            if value is None:
                raise ModelError(f"missing metadata key llama.{name}")
            return value

        self.n_layer = int(hparam("block_count"))
        self.n_embd = int(hparam("embedding_length"))
        self.n_head = int(hparam("attention.head_count"))
        self.n_head_kv = int(hparam("attention.head_count_kv", self.n_head))
        self.eps = float(hparam("attention.layer_norm_rms_epsilon"))
        self.head_dim = self.n_embd // self.n_head
        self.n_rot = int(hparam("rope.dimension_count", self.head_dim))
        self.rope_base = float(hparam("rope.freq_base", 10000.0))
        scaling = field_value(reader, "llama.rope.scaling.type", "none")
        factor = field_value(reader, "llama.rope.scaling.factor", 1.0)
        if scaling not in ("none", "") and float(factor) != 1.0:
            raise ModelError(f"RoPE scaling {scaling!r} (factor {factor}) is not supported")
        if self.n_head % self.n_head_kv != 0 or self.n_embd % self.n_head != 0:
            raise ModelError("head counts do not divide the width")
        if self.n_rot % 2 != 0 or self.n_rot > self.head_dim:
            raise ModelError(f"rope.dimension_count {self.n_rot} is unusable with head size {self.head_dim}")

        self.tensors = {tensor.name: tensor for tensor in reader.tensors}
        if "rope_freqs.weight" in self.tensors:
            raise ModelError("rope_freqs.weight (per-dimension RoPE factors) is not supported")
        self.token_embd = self.weight("token_embd.weight", (None, self.n_embd))
        self.vocab_size = self.token_embd.shape[0]
        self.output_norm = self.weight("output_norm.weight", (self.n_embd,))
        if "output.weight" in self.tensors:
            self.output = self.weight("output.weight", (None, self.n_embd))
        else:
            self.output = self.token_embd  # tied classifier
        q_width = self.n_head * self.head_dim
        kv_width = self.n_head_kv * self.head_dim
        self.layers = []
        for i in range(self.n_layer):
            p = f"blk.{i}."
            self.layers.append({
                "attn_norm": self.weight(p + "attn_norm.weight", (self.n_embd,)),
                "wq": self.weight(p + "attn_q.weight", (q_width, self.n_embd)),
                "wk": self.weight(p + "attn_k.weight", (kv_width, self.n_embd)),
                "wv": self.weight(p + "attn_v.weight", (kv_width, self.n_embd)),
                "wo": self.weight(p + "attn_output.weight", (self.n_embd, q_width)),
                "bq": self.optional(p + "attn_q.bias", (q_width,)),
                "bk": self.optional(p + "attn_k.bias", (kv_width,)),
                "bv": self.optional(p + "attn_v.bias", (kv_width,)),
                "bo": self.optional(p + "attn_output.bias", (self.n_embd,)),
                "ffn_norm": self.weight(p + "ffn_norm.weight", (self.n_embd,)),
                "w_gate": self.weight(p + "ffn_gate.weight", (None, self.n_embd)),
                "w_up": self.weight(p + "ffn_up.weight", (None, self.n_embd)),
                "w_down": self.weight(p + "ffn_down.weight", (self.n_embd, None)),
            })
        # RoPE inverse frequencies base^(-2i/n_rot), i = 0 .. n_rot/2 - 1
        self.inv_freq = self.rope_base ** (-np.arange(0, self.n_rot, 2, dtype=np.float64) / self.n_rot)

    def optional(self, name, shape):
        return self.weight(name, shape) if name in self.tensors else None

    def weight(self, name, shape):
        tensor = self.tensors.get(name)
        if tensor is None:
            raise ModelError(f"missing tensor {name}")
        dims = [int(d) for d in tensor.shape]  # GGUF order: ne0 (row length) first
        numpy_shape = tuple(reversed(dims))
        values = dequantize(tensor.data, GGMLQuantizationType(tensor.tensor_type))
        values = np.asarray(values, dtype=np.float64).reshape(numpy_shape)
        while values.ndim > len(shape) and values.shape[0] == 1:
            values = values[0]
        if values.ndim != len(shape) or any(s is not None and s != v for s, v in zip(shape, values.shape)):
            raise ModelError(f"tensor {name} has shape {values.shape}, expected {shape}")
        return values


class Cache:
    """Per-layer keys (after RoPE) and values of the positions seen so far."""

    def __init__(self, model):
        self.keys = [np.zeros((0, model.n_head_kv, model.head_dim)) for _ in range(model.n_layer)]
        self.values = [np.zeros((0, model.n_head_kv, model.head_dim)) for _ in range(model.n_layer)]
        self.length = 0


def rms_norm(x, weight, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * weight


def rope(x, positions, model):
    """Rotates adjacent pairs (2i, 2i+1) of each head; x has shape (T, heads, head_dim)."""
    angles = positions[:, None].astype(np.float64) * model.inv_freq[None, :]  # (T, n_rot/2)
    cos = np.cos(angles)[:, None, :]
    sin = np.sin(angles)[:, None, :]
    out = x.copy()
    even = x[:, :, 0:model.n_rot:2]
    odd = x[:, :, 1:model.n_rot:2]
    out[:, :, 0:model.n_rot:2] = even * cos - odd * sin
    out[:, :, 1:model.n_rot:2] = even * sin + odd * cos
    return out


def linear(x, weight, bias=None):
    y = x @ weight.T
    return y if bias is None else y + bias


def forward(model, tokens, cache):
    """Logits (T x vocab, float64) of the T new tokens, appended after the cache's positions."""
    tokens = np.asarray(tokens, dtype=np.int64)
    count = len(tokens)
    start = cache.length
    positions = np.arange(start, start + count)
    x = model.token_embd[tokens]  # (T, n_embd)
    group = model.n_head // model.n_head_kv
    scale = 1.0 / np.sqrt(model.head_dim)
    # query t (absolute position start + t) may see keys 0 ... start + t
    visible = np.arange(start + count)[None, :] <= positions[:, None]
    for index, layer in enumerate(model.layers):
        n = rms_norm(x, layer["attn_norm"], model.eps)
        q = linear(n, layer["wq"], layer["bq"]).reshape(count, model.n_head, model.head_dim)
        k = linear(n, layer["wk"], layer["bk"]).reshape(count, model.n_head_kv, model.head_dim)
        v = linear(n, layer["wv"], layer["bv"]).reshape(count, model.n_head_kv, model.head_dim)
        q = rope(q, positions, model)
        k = rope(k, positions, model)
        keys = np.concatenate([cache.keys[index], k])
        values = np.concatenate([cache.values[index], v])
        cache.keys[index] = keys
        cache.values[index] = values
        heads = np.empty((count, model.n_head, model.head_dim))
        for h in range(model.n_head):
            kv = h // group
            scores = (q[:, h, :] @ keys[:, kv, :].T) * scale  # (T, S)
            scores = np.where(visible, scores, -np.inf)
            scores -= scores.max(axis=1, keepdims=True)
            weights = np.exp(scores)
            weights /= weights.sum(axis=1, keepdims=True)
            heads[:, h, :] = weights @ values[:, kv, :]
        x = x + linear(heads.reshape(count, -1), layer["wo"], layer["bo"])
        m = rms_norm(x, layer["ffn_norm"], model.eps)
        gate = linear(m, layer["w_gate"])
        up = linear(m, layer["w_up"])
        x = x + linear(gate / (1.0 + np.exp(-gate)) * up, layer["w_down"])
    cache.length += count
    x = rms_norm(x, model.output_norm, model.eps)
    return x @ model.output.T


def build_tokenizer(reader):
    """A Hugging Face tokenizer equivalent to the GGUF's gpt2-style BPE vocabulary."""
    try:
        from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers
    except ImportError as error:
        print(f"missing Python package: {error.name} (pip install tokenizers) for --text", file=sys.stderr)
        sys.exit(3)
    kind = field_value(reader, "tokenizer.ggml.model")
    if kind != "gpt2":
        raise ModelError(f"tokenizer.ggml.model {kind!r}: only gpt2 (byte-level BPE) is supported for --text")
    tokens = field_value(reader, "tokenizer.ggml.tokens")
    types = field_value(reader, "tokenizer.ggml.token_type", [1] * len(tokens))
    merges = [tuple(merge.split(" ", 1)) for merge in field_value(reader, "tokenizer.ggml.merges", [])]
    vocab = {token: i for i, token in enumerate(tokens)}
    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=merges, fuse_unk=False))
    byte_level = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    if field_value(reader, "tokenizer.ggml.pre") == "smollm":
        tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
            [pre_tokenizers.Digits(individual_digits=True), byte_level])
    else:
        tokenizer.pre_tokenizer = byte_level
    tokenizer.decoder = decoders.ByteLevel()
    added = [AddedToken(token, special=(kind_ == 3), normalized=False)
             for token, kind_ in zip(tokens, types) if kind_ in (3, 4)]
    tokenizer.add_tokens(added)
    return tokenizer


def encode_text(reader, text):
    tokenizer = build_tokenizer(reader)
    ids = tokenizer.encode(text, add_special_tokens=False).ids
    if field_value(reader, "tokenizer.ggml.add_bos_token", False):
        bos = field_value(reader, "tokenizer.ggml.bos_token_id")
        if bos is not None:
            ids = [int(bos)] + ids
    return ids, tokenizer


def parse_ids(text):
    text = text.strip()
    if text.startswith("["):
        return [int(value) for value in json.loads(text)]
    return [int(value) for value in text.replace(",", " ").split()]


def summary(logits, tokens, top_k):
    rows = []
    for position, row in enumerate(logits):
        order = np.argsort(-row, kind="stable")[:top_k]
        values = row[order]
        rows.append({
            "position": position,
            "token": int(tokens[position]),
            "ids": [int(i) for i in order],
            "values": [float(v) for v in values],
            "margin": float(values[0] - values[1]) if len(values) > 1 else None,
        })
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--tokens")
    source.add_argument("--tokens-file")
    source.add_argument("--text")
    source.add_argument("--text-file")
    parser.add_argument("--generate", type=int, default=0)
    parser.add_argument("--no-stop", action="store_true")
    parser.add_argument("--out")
    parser.add_argument("--json")
    parser.add_argument("--top-k", type=int, default=10)
    parser.add_argument("--print-tokens", action="store_true")
    args = parser.parse_args()

    try:
        model = Model(args.model)
        tokenizer = None
        if args.tokens is not None:
            tokens = parse_ids(args.tokens)
        elif args.tokens_file is not None:
            with open(args.tokens_file, encoding="utf-8") as handle:
                tokens = parse_ids(handle.read())
        else:
            text = args.text
            if args.text_file is not None:
                with open(args.text_file, encoding="utf-8") as handle:
                    text = handle.read()
            tokens, tokenizer = encode_text(model.reader, text)
    except (ModelError, ValueError, OSError) as error:
        print(f"gguf-forward: {error}", file=sys.stderr)
        sys.exit(2)
    if not tokens:
        print("gguf-forward: no tokens", file=sys.stderr)
        sys.exit(2)
    bad = [t for t in tokens if not 0 <= t < model.vocab_size]
    if bad:
        print(f"gguf-forward: token id {bad[0]} outside the vocabulary (0..{model.vocab_size - 1})", file=sys.stderr)
        sys.exit(2)

    generated = []
    if args.generate > 0:
        eos = field_value(model.reader, "tokenizer.ggml.eos_token_id")
        cache = Cache(model)
        logits = forward(model, tokens, cache)
        for _ in range(args.generate):
            next_id = int(np.argmax(logits[-1]))
            generated.append(next_id)
            if not args.no_stop and eos is not None and next_id == int(eos):
                break
            logits = forward(model, [next_id], cache)
    sequence = list(tokens) + generated
    if args.print_tokens:
        print(json.dumps(sequence))
        return

    logits = forward(model, sequence, Cache(model))
    if args.out:
        logits.astype("<f4").tofile(args.out)
    result = {
        "model": args.model,
        "vocab_size": int(model.vocab_size),
        "positions": len(sequence),
        "tokens": [int(t) for t in sequence],
        "generated": generated,
    }
    if generated:
        if tokenizer is None and importlib.util.find_spec("tokenizers") is not None:
            try:
                tokenizer = build_tokenizer(model.reader)
            except ModelError:
                tokenizer = None
        if tokenizer is not None:
            result["generated_text"] = tokenizer.decode(generated, skip_special_tokens=False)
    result["top"] = summary(logits, sequence, args.top_k)
    text = json.dumps(result, indent=1)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
    else:
        print(text)


if __name__ == "__main__":
    main()
