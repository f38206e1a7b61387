#!/usr/bin/env python3
"""Writes the GGUF fixtures of Tests/CartridgeGGUFTests/Fixtures with the reference writer
(python `gguf` package, GGUFWriter; checked with gguf 0.19), so the Swift reader is proven to
read files it did not write itself.

Produces:
  all-types-align64.gguf  every metadata value type (uint8 ... float64, bool, string, typed arrays
                          of each, arrays of strings, arrays of arrays, an array mixing inner
                          element types, a string with invalid UTF-8), alignment 64, tensors
                          F32 [3,2], F16 [5], I32 [4], Q8_0 [64,2] (raw blocks), I8 [1]
  small-align16.gguf      a few keys, alignment 16, tensors F32 [4] and F32 [2,3]

Run from the repository root:  python3 scripts/reference/gguf-fixtures.py
The expected values are asserted in Tests/CartridgeGGUFTests/ReferenceFixtureTests.swift; change
both together.
"""
import os
import sys

import numpy as np
from gguf import GGMLQuantizationType, GGUFValueType, GGUFWriter

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "Tests", "CartridgeGGUFTests", "Fixtures")


def write(path, writer_setup):
    w = GGUFWriter(path, arch="testarch")
    writer_setup(w)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def all_types(w):
    w.add_custom_alignment(64)  # writes general.alignment (uint32)
    w.add_uint8("t.u8", 200)
    w.add_int8("t.i8", -100)
    w.add_uint16("t.u16", 60000)
    w.add_int16("t.i16", -30000)
    w.add_uint32("t.u32", 4_000_000_000)
    w.add_int32("t.i32", -2_000_000_000)
    w.add_float32("t.f32", 1.5)
    w.add_bool("t.bool_true", True)
    w.add_bool("t.bool_false", False)
    w.add_string("t.string", "héllo, wörld ✓")
    w.add_key_value("t.empty_string", "", GGUFValueType.STRING)  # add_string skips ""
    w.add_uint64("t.u64", 18_000_000_000_000_000_000)
    w.add_int64("t.i64", -9_000_000_000_000_000_000)
    w.add_float64("t.f64", -2.25e100)
    # Raw bytes that are not UTF-8.
    w.add_key_value("t.bad_utf8", b"ok\xff\xfe!", GGUFValueType.STRING)
    for name, vtype, values in [
        ("u8", GGUFValueType.UINT8, [0, 1, 255]),
        ("i8", GGUFValueType.INT8, [-128, 0, 127]),
        ("u16", GGUFValueType.UINT16, [0, 65535]),
        ("i16", GGUFValueType.INT16, [-32768, 32767]),
        ("u32", GGUFValueType.UINT32, [0, 4294967295]),
        ("i32", GGUFValueType.INT32, [-2147483648, 2147483647, 7]),
        ("f32", GGUFValueType.FLOAT32, [0.25, -1.0, 3.5]),
        ("bool", GGUFValueType.BOOL, [True, False, True]),
        ("u64", GGUFValueType.UINT64, [0, 18446744073709551615]),
        ("i64", GGUFValueType.INT64, [-9223372036854775808, 9223372036854775807]),
        ("f64", GGUFValueType.FLOAT64, [1e-300, -0.5]),
    ]:
        w.add_key_value("a." + name, values, GGUFValueType.ARRAY, sub_type=vtype)
    w.add_array("a.strings", ["alpha", "", "γ"])
    w.add_array("a.nested", [[1, 2], [3]])
    w.add_array("a.nested_strings", [["a", "b"], ["c"]])
    w.add_array("a.nested_mixed", [[1, 2], ["x"]])
    w.add_array("a.deep", [[[1.5]]])

    w.add_tensor("f32", np.array([[1, 2, 3], [4, 5, 6]], dtype=np.float32))
    w.add_tensor("f16", np.array([0.5, 1, 2, -2, 65504], dtype=np.float16))
    w.add_tensor("i32", np.array([1, -1, 2147483647, -2147483648], dtype=np.int32))
    # Two Q8_0 rows of 64 elements = 2 x 2 blocks of 34 bytes, given as raw bytes.
    q8 = np.arange(2 * 2 * 34, dtype=np.uint8).reshape(2, 68)
    w.add_tensor("q8_0", q8, raw_dtype=GGMLQuantizationType.Q8_0)
    w.add_tensor("i8", np.array([-7], dtype=np.int8))


def small(w):
    w.add_custom_alignment(16)
    w.add_uint32("small.answer", 42)
    w.add_string("small.name", "sixteen")
    w.add_tensor("a", np.array([1, 2, 3, 4], dtype=np.float32))
    w.add_tensor("b", np.array([[1, 2, 3], [4, 5, 6]], dtype=np.float32))


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    write(os.path.join(OUT, "all-types-align64.gguf"), all_types)
    write(os.path.join(OUT, "small-align16.gguf"), small)
    for name in sorted(os.listdir(OUT)):
        print(name, os.path.getsize(os.path.join(OUT, name)), file=sys.stderr)
