#!/usr/bin/env python3
"""Compares an engine's logits with the float64 reference's (test-time only).

Usage:
    compare-logits.py REFERENCE.f32 CANDIDATE.f32 --vocab 49152
                      [--margin 1.0] [--max-rms X] [--max-abs X] [--min-agreement F] [--text]

Both files are little-endian float32, row-major [positions x vocab], no header: row p holds the logits
predicting the token after position p of the same teacher-forced token sequence (gguf-forward.py --out
writes the reference; llama-logits.c and the Swift engine write candidates the same way).

Prints one JSON object (or, with --text, one line):
    positions, vocab
    rms_error        sqrt(mean((cand - ref)^2)) over all positions x vocab
    max_abs_error    max |cand - ref|, with max_abs_position and max_abs_token
    reference_rms    sqrt(mean(ref^2)), for scale
    mean_row_offset  mean over positions of mean(cand - ref) (a shift common to a row does not change
                     the softmax; rms_error_centered removes it per row)
    rms_error_centered
    rms_error_top10  RMS error over each row's 10 largest reference logits (the ones sampling sees)
    max_abs_error_top10
    argmax_eligible  positions whose reference top1 - top2 margin exceeds --margin (default 1.0)
    argmax_agree     how many of those have the same argmax in the candidate
    argmax_agreement argmax_agree / argmax_eligible (1.0 when none are eligible)
    argmax_agree_all argmax agreement over every position (informational: small margins are coin flips)
    disagreements    [{"position", "reference", "candidate", "margin"}] for eligible positions that differ

Exit status: 0; 1 when a given --max-rms, --max-abs or --min-agreement bound is violated (the JSON is
still printed); 2 on unusable input (size not a multiple of the vocabulary, different sizes, NaN).
Needs: numpy. Exit status 3 when it is missing.
"""
import argparse
import json
import sys

try:
    import numpy as np
except ImportError as error:
    print(f"missing Python package: {error.name} (pip install numpy)", file=sys.stderr)
    sys.exit(3)


def load(path, vocab):
    values = np.fromfile(path, dtype="<f4")
    if values.size == 0 or values.size % vocab != 0:
        raise ValueError(f"{path}: {values.size} floats is not a positive multiple of the vocabulary {vocab}")
    matrix = values.reshape(-1, vocab).astype(np.float64)
    if not np.all(np.isfinite(matrix)):
        raise ValueError(f"{path}: contains NaN or infinity")
    return matrix


def compare(reference, candidate, margin):
    difference = candidate - reference
    flat_index = int(np.argmax(np.abs(difference)))
    position, token = divmod(flat_index, reference.shape[1])
    row_offset = difference.mean(axis=1, keepdims=True)
    top2 = np.sort(reference, axis=1)[:, -2:]
    margins = top2[:, 1] - top2[:, 0]
    ref_argmax = reference.argmax(axis=1)
    cand_argmax = candidate.argmax(axis=1)
    eligible = margins > margin
    agree = eligible & (ref_argmax == cand_argmax)
    disagreements = [
        {"position": int(p), "reference": int(ref_argmax[p]), "candidate": int(cand_argmax[p]),
         "margin": float(margins[p])}
        for p in np.nonzero(eligible & (ref_argmax != cand_argmax))[0]
    ]
    eligible_count = int(eligible.sum())
    top_k = min(10, reference.shape[1])
    top_index = np.argpartition(-reference, top_k - 1, axis=1)[:, :top_k]
    top_difference = np.take_along_axis(difference, top_index, axis=1)
    return {
        "positions": int(reference.shape[0]),
        "vocab": int(reference.shape[1]),
        "rms_error": float(np.sqrt(np.mean(difference ** 2))),
        "max_abs_error": float(abs(difference.flat[flat_index])),
        "max_abs_position": int(position),
        "max_abs_token": int(token),
        "reference_rms": float(np.sqrt(np.mean(reference ** 2))),
        "mean_row_offset": float(row_offset.mean()),
        "rms_error_centered": float(np.sqrt(np.mean((difference - row_offset) ** 2))),
        "rms_error_top10": float(np.sqrt(np.mean(top_difference ** 2))),
        "max_abs_error_top10": float(np.abs(top_difference).max()),
        "margin_threshold": margin,
        "argmax_eligible": eligible_count,
        "argmax_agree": int(agree.sum()),
        "argmax_agreement": float(agree.sum() / eligible_count) if eligible_count else 1.0,
        "argmax_agree_all": float(np.mean(ref_argmax == cand_argmax)),
        "disagreements": disagreements,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("reference")
    parser.add_argument("candidate")
    parser.add_argument("--vocab", type=int, required=True)
    parser.add_argument("--margin", type=float, default=1.0)
    parser.add_argument("--max-rms", type=float)
    parser.add_argument("--max-abs", type=float)
    parser.add_argument("--min-agreement", type=float)
    parser.add_argument("--text", action="store_true")
    args = parser.parse_args()
    if args.vocab <= 0:
        print("compare-logits: --vocab must be positive", file=sys.stderr)
        sys.exit(2)
    try:
        reference = load(args.reference, args.vocab)
        candidate = load(args.candidate, args.vocab)
    except (OSError, ValueError) as error:
        print(f"compare-logits: {error}", file=sys.stderr)
        sys.exit(2)
    if reference.shape != candidate.shape:
        print(f"compare-logits: reference has {reference.shape[0]} positions, candidate {candidate.shape[0]}",
              file=sys.stderr)
        sys.exit(2)
    result = compare(reference, candidate, args.margin)
    if args.text:
        print(f"positions {result['positions']}  rms {result['rms_error']:.4f}"
              f" (centered {result['rms_error_centered']:.4f}, top10 {result['rms_error_top10']:.4f})"
              f"  max {result['max_abs_error']:.4f} @{result['max_abs_position']}:{result['max_abs_token']}"
              f" (top10 {result['max_abs_error_top10']:.4f})"
              f"  argmax {result['argmax_agree']}/{result['argmax_eligible']} where margin > {args.margin}"
              f"  (all {result['argmax_agree_all']:.3f})")
    else:
        print(json.dumps(result, indent=1))
    failed = (
        (args.max_rms is not None and result["rms_error"] > args.max_rms)
        or (args.max_abs is not None and result["max_abs_error"] > args.max_abs)
        or (args.min_agreement is not None and result["argmax_agreement"] < args.min_agreement)
    )
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
