#!/usr/bin/env python3
"""A music-generation provider speaking son1k's remote-engine contract (docs/GENERATION.md):
POST /generate with `Authorization: Bearer KEY` and JSON {prompt, duration, seed, ...} answers
a WAV file. It also serves as the HTTP forward proxy of proxied accounts: a request whose
target is an absolute URL came through the proxy and must carry Proxy-Authorization.

    provider_fake.py SPEC    SPEC = JSON {"keys": {KEY: {"rate_limit_after": N, "retry_after": S}},
                                          "proxy_auth": "user:password"}

Prints the port it listens on, then serves. GET /_requests lists what it received.
"""
import base64
import json
import math
import sys
import threading

import fakeserver

SPEC = json.loads(sys.argv[1])
KEYS = SPEC.get("keys", {})
PROXY_AUTH = SPEC.get("proxy_auth")
LOCK = threading.Lock()
CALLS = {}


def wav(duration, seed):
    """A short mono sine whose pitch depends on the seed: real audio, cheap to make."""
    rate = 8000
    freq = 110 + (seed % 440)
    frames = bytearray()
    for i in range(int(rate * duration)):
        v = int(12000 * math.sin(2 * math.pi * freq * i / rate))
        frames += v.to_bytes(2, "little", signed=True)
    return fakeserver.wav(frames, rate)


class Handler(fakeserver.Handler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length)
        proxied = self.path.startswith("http://")
        path = "/" + self.path.split("/", 3)[3] if proxied else self.path
        record = {"path": path, "proxied": proxied, "proxy_authorization": self.headers.get("Proxy-Authorization"),
                  "authorization": self.headers.get("Authorization"), "content_type": self.headers.get("Content-Type")}
        try:
            record["body"] = json.loads(raw)
        except ValueError:
            record["body"] = None

        def finish(status, body, content_type="application/json", headers=None):
            record["status"] = status
            fakeserver.record(record)
            self.send(status, body, content_type, headers)

        if proxied and PROXY_AUTH:
            expected = "Basic " + base64.b64encode(PROXY_AUTH.encode()).decode()
            if self.headers.get("Proxy-Authorization") != expected:
                return finish(407, b'{"error": "proxy authentication required"}', headers={"Proxy-Authenticate": "Basic"})
        if path != "/generate":
            return finish(404, b'{"error": "not found"}')
        auth = self.headers.get("Authorization", "")
        key = auth[len("Bearer "):] if auth.startswith("Bearer ") else None
        if key not in KEYS:
            return finish(401, b'{"error": "invalid api key"}')
        record["key"] = key
        with LOCK:
            CALLS[key] = CALLS.get(key, 0) + 1
            count = CALLS[key]
        rules = KEYS[key]
        if "rate_limit_after" in rules and count > rules["rate_limit_after"]:
            return finish(429, b'{"error": "rate limit exceeded"}', headers={"Retry-After": str(rules.get("retry_after", 120))})
        body = record["body"]
        if not isinstance(body, dict) or not isinstance(body.get("prompt"), str) \
                or not isinstance(body.get("duration"), (int, float)) or not isinstance(body.get("seed"), int):
            return finish(422, b'{"error": "prompt, duration and seed are required"}')
        finish(200, wav(min(body["duration"], 10), body["seed"]), "audio/wav", {"X-Model": "fake-musicgen-small"})


fakeserver.serve(Handler)
