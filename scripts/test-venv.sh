#!/usr/bin/env bash
# The Python tools the tests use, in a local virtual environment: Stripe's official library
# (the billing tests sign webhooks with it and run a Stripe stand-in on it), Ollama's
# official client (the lyrics tests check their Ollama stand-in against it), schemathesis
# (the contract test checks every answer against /openapi.json with it), and moto's S3 server
# with boto3 (the blob store tests' S3 stand-in, and botocore's SigV4 to check the signer).
# aiosmtpd is the mail tests' SMTP server (STARTTLS and AUTH, a certificate it makes with cryptography).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.build/test-venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import stripe, ollama, schemathesis, moto.server, boto3, aiosmtpd" 2>/dev/null; then
    rm -rf "$venv"
    /usr/bin/python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "stripe==16.1.0" "ollama==0.6.3" "schemathesis==4.32.5" "moto[server]==5.2.5" "boto3==1.44.8" "aiosmtpd==1.4.6"
fi
