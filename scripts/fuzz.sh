#!/bin/sh
# Coverage-guided fuzzing of the parsers that read hostile bytes, with libFuzzer through
# `swiftc -sanitize=fuzzer,address` (issue 13). Each target is compiled together with the sources
# of the module it exercises (so the fuzzer reaches internal parsers too), outside SwiftPM.
#
#   scripts/fuzz.sh TARGET [SECONDS]      # build, then run for SECONDS (default 600) from the seed corpus
#   scripts/fuzz.sh all [SECONDS]         # every target in turn
#
# Targets (sources in fuzz/targets, seed corpora in fuzz/corpus/TARGET, committed):
#   wire   frame decoder, DeviceSession, every CartridgeWire message parser (+ round trips)
#   power  USB PD data objects, Source_Capabilities, the policy, RDO encode/decode round trips
#   json   the JSON parser, safetensors headers, config.json, tokenizer.json options,
#          sentence_bert_config.json
#   image  the cartridge image header, manifest, tensor table and trailer
#
# FUZZ_REUSE=1 skips the build when fuzz/work/bin/TARGET-fuzz exists.
# New inputs found while running go to fuzz/work/TARGET (not committed); crashes to
# fuzz/work/TARGET/crash-*, reproducible with `fuzz/work/bin/TARGET-fuzz FILE`.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
target=${1:?usage: scripts/fuzz.sh wire|power|json|image|all [SECONDS]}
seconds=${2:-600}
bin=$root/fuzz/work/bin
mkdir -p "$bin"
flags="-O -sanitize=fuzzer,address -parse-as-library -swift-version 6 -enable-upcoming-feature ExistentialAny"

build() {
    name=$1
    case $name in
    wire)
        sources="$root/Sources/CartridgeWire/*.swift"
        module=CartridgeWire ;;
    power)
        sources="$root/Sources/CartridgePower/*.swift"
        module=CartridgePower ;;
    json)
        inference=$root/Sources/CartridgeInference
        sources="$inference/SafeTensors/*.swift $inference/InferenceError.swift $inference/TensorView.swift \
            $inference/MappedFile.swift $inference/WordPiece/WordPieceOptions.swift $inference/Encoder/BertConfig.swift \
            $inference/Encoder/SentenceTransformersConfig.swift"
        module=CartridgeInference ;;
    image)
        # CartridgeSystem first (the image reader's error type uses its SourceLocation).
        swiftc $flags -emit-module -emit-library -static -module-name CartridgeSystem \
            -emit-module-path "$bin/CartridgeSystem.swiftmodule" -o "$bin/libCartridgeSystem.a" \
            "$root"/Sources/CartridgeSystem/*.swift 2>&1 | grep -v "ld.gold: warning" || true
        image=$root/Sources/CartridgeImage
        sources="$image/ImageHeader.swift $image/ImageManifest.swift $image/ImageManifest+Architecture.swift \
            $image/ImageTensorTable.swift $image/ImageTensorInfo.swift $image/ImageTensorType.swift $image/ImageTrailer.swift \
            $image/ImageError.swift $image/LittleEndianBytes.swift -I $bin -L $bin -lCartridgeSystem"
        module=CartridgeImage ;;
    *) echo "unknown target '$name'" >&2; exit 2 ;;
    esac
    # shellcheck disable=SC2086
    swiftc $flags -module-name $module $sources "$root/fuzz/targets/$(echo "$name" | sed 's/^./\U&/')Fuzz.swift" \
        -o "$bin/$name-fuzz" 2>&1 | grep -v "ld.gold: warning" || true
    [ -x "$bin/$name-fuzz" ] || { echo "fuzz: building $name failed" >&2; exit 1; }
}

run() {
    name=$1
    # FUZZ_REUSE=1 runs an existing build of the target as it is.
    if [ "${FUZZ_REUSE:-0}" != 1 ] || [ ! -x "$bin/$name-fuzz" ]; then build "$name"; fi
    mkdir -p "$root/fuzz/work/$name"
    echo "fuzz: $name for ${seconds}s" >&2
    (cd "$root/fuzz/work/$name" && "$bin/$name-fuzz" -max_total_time="$seconds" -max_len=65536 -print_final_stats=1 \
        "$root/fuzz/work/$name" "$root/fuzz/corpus/$name")
}

if [ "$target" = all ]; then
    for name in wire power json image; do run "$name"; done
else
    run "$target"
fi
