#!/usr/bin/env bash
# The Python tools the tests use, in a local virtual environment: Stripe's official library
# (the billing tests sign webhooks with it and run a Stripe stand-in on it), Ollama's
# official client (the lyrics tests check their Ollama stand-in against it) and schemathesis
# (the contract test checks every answer against /openapi.json with it).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.build/test-venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import stripe, ollama, schemathesis" 2>/dev/null; then
    rm -rf "$venv"
    /usr/bin/python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "stripe==16.1.0" "ollama==0.6.3" "schemathesis==4.32.5"
fi
