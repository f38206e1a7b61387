#!/usr/bin/env bash
# Installs the Python packages the tests use as clients, from PyPI, if python3 cannot import them:
# openai (the gateway tests drive `cartridge serve` with the real openai client, Tests/gateway)
# and pytest (runs them). Idempotent; called by `make test` and `make unit-test`.
#
#   scripts/install-python-deps.sh
set -euo pipefail
if python3 -c 'import openai, pytest' 2>/dev/null; then exit 0; fi
packages=(openai pytest)
echo "installing Python packages: ${packages[*]}" >&2
if ! python3 -m pip --version >/dev/null 2>&1; then
    echo "install-python-deps: python3 has no pip; install python3-pip (make deps does)" >&2
    exit 1
fi
# Debian's own python3 refuses pip installs outside a virtual environment (PEP 668); the test
# machine is disposable, so install over it in that case.
if ! python3 -m pip install --quiet --disable-pip-version-check "${packages[@]}" 2>/dev/null; then
    python3 -m pip install --quiet --disable-pip-version-check --break-system-packages "${packages[@]}"
fi
python3 -c 'import openai, pytest'
