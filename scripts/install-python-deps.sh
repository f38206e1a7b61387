#!/bin/sh
# Installs the Python packages the tests use as references and real clients (PyPI, pinned):
# numpy, gguf (reads GGUF files in the float64 reference forward pass), tokenizers and safetensors
# (tokenizer and embedding references), jinja2 (chat-template reference), openai (the real client
# of the gateway tests) and pytest (runs them, Tests/gateway). Idempotent: nothing is downloaded when the pinned versions are present.
# Called by `make test` (and so by CI).
set -eu
packages="numpy gguf==0.19.0 tokenizers==0.23.3 safetensors jinja2==3.1.6 openai pytest"
if python3 -c "import numpy, gguf, tokenizers, safetensors, jinja2, openai, pytest" 2>/dev/null; then exit 0; fi
echo "install-python-deps: installing $packages" >&2
# Debian's own python3 refuses pip installs into the system (PEP 668); a user-managed python does not.
python3 -m pip install --quiet --disable-pip-version-check $packages \
    || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages $packages
