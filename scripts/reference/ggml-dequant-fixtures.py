#!/usr/bin/env python3
"""Writes the dequantization fixtures of Tests/CartridgeGGMLTests (CartridgeGGML's dequantize tests).

For each ggml type the engine supports (F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K,
Q6_K) it writes two files into Tests/CartridgeGGMLTests/Fixtures/:

  dequant-<TYPE>.bin  the raw tensor bytes of one row (blocks as ggml stores them)
  dequant-<TYPE>.f32  the expected values, little-endian fp32, from gguf-py's numpy reference
                      (`gguf.quants.dequantize`, written from ggml-quants.c `dequantize_row_*`)

The quantized blocks are random bytes, except the fp16 scale/min fields: those are drawn from a
sane range (|v| in [2^-14, 2], random sign, so no NaN/inf) and a few blocks get edge values
(zero scale, negative scale, subnormal scale or min, the largest/smallest normal halves).
The output is deterministic (fixed seed), so rerunning reproduces the committed files.

Run from the repository root (needs python3 with numpy and gguf >= 0.10; checked with gguf 0.19):
    python3 scripts/reference/ggml-dequant-fixtures.py
"""
import os
import sys

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf.quants import dequantize

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "CartridgeGGMLTests", "Fixtures")

# type -> (elements per block, bytes per block, byte offsets of fp16 scale/min fields, blocks)
LAYOUTS = {
    "Q8_0": (T.Q8_0, 32, 34, [0], 64),
    "Q4_0": (T.Q4_0, 32, 18, [0], 64),
    "Q4_1": (T.Q4_1, 32, 20, [0, 2], 64),
    "Q5_0": (T.Q5_0, 32, 22, [0], 64),
    "Q5_1": (T.Q5_1, 32, 24, [0, 2], 64),
    "Q4_K": (T.Q4_K, 256, 144, [0, 2], 16),
    "Q5_K": (T.Q5_K, 256, 176, [0, 2], 16),
    "Q6_K": (T.Q6_K, 256, 210, [208], 16),
}

# Edge values for the fp16 fields, placed in the first blocks (field k of block b gets EDGES[(b + k) % len]).
EDGES = [
    0x0000,  # zero
    0x8000,  # negative zero
    0xBC00,  # -1
    0x0001,  # smallest subnormal
    0x83FF,  # largest subnormal, negative
    0x0200,  # subnormal
    0x7BFF,  # largest normal (65504)
    0x0400,  # smallest normal
]


def sane_halves(rng, n):
    magnitude = np.exp2(rng.uniform(-14.0, 1.0, size=n))
    sign = np.where(rng.integers(0, 2, size=n) == 1, -1.0, 1.0)
    return (magnitude * sign).astype(np.float16).view(np.uint16)


def write(name, data: np.ndarray, expected: np.ndarray):
    data = np.ascontiguousarray(data, dtype=np.uint8)
    expected = np.ascontiguousarray(expected, dtype="<f4").reshape(-1)
    with open(os.path.join(OUT, f"dequant-{name}.bin"), "wb") as f:
        f.write(data.tobytes())
    with open(os.path.join(OUT, f"dequant-{name}.f32"), "wb") as f:
        f.write(expected.tobytes())
    print(f"{name}: {data.size} bytes -> {expected.size} floats")


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20261203)

    # F32: random finite values of many magnitudes, plus signed zeros and subnormals.
    f32 = (rng.standard_normal(1024) * np.exp2(rng.uniform(-30, 30, 1024))).astype("<f4")
    f32[:4] = [0.0, -0.0, 1e-45, -1e-40]
    write("F32", f32.view(np.uint8), dequantize(f32.view(np.uint8), T.F32))

    # F16: random finite bit patterns (every exponent, subnormals included) plus edges.
    f16 = rng.integers(0, 0x10000, size=2048, dtype=np.uint32).astype(np.uint16)
    f16 = np.where((f16 & 0x7C00) == 0x7C00, f16 & 0x83FF, f16).astype(np.uint16)  # no inf/NaN
    f16[: len(EDGES)] = EDGES
    f16_bytes = f16.astype("<u2").view(np.uint8)
    write("F16", f16_bytes, dequantize(f16_bytes, T.F16))

    # BF16: random finite bit patterns plus edges.
    bf16 = rng.integers(0, 0x10000, size=2048, dtype=np.uint32).astype(np.uint16)
    bf16 = np.where((bf16 & 0x7F80) == 0x7F80, bf16 & 0x807F, bf16).astype(np.uint16)
    bf16[:4] = [0x0000, 0x8000, 0x0001, 0x3F80]
    bf16_bytes = bf16.astype("<u2").view(np.uint8)
    write("BF16", bf16_bytes, dequantize(bf16_bytes.reshape(1, -1), T.BF16))

    for name, (qtype, _, type_size, fields, blocks) in LAYOUTS.items():
        raw = rng.integers(0, 256, size=(blocks, type_size), dtype=np.uint16).astype(np.uint8)
        for k, offset in enumerate(fields):
            halves = sane_halves(rng, blocks)
            for b in range(len(EDGES)):
                halves[b] = EDGES[(b + k) % len(EDGES)]
            raw[:, offset : offset + 2] = halves.astype("<u2").view(np.uint8).reshape(blocks, 2)
        row = raw.reshape(1, -1)
        expected = dequantize(row, qtype)
        if not np.all(np.isfinite(expected)):
            sys.exit(f"{name}: non-finite reference values")
        write(name, row, expected)


if __name__ == "__main__":
    main()
