#!/usr/bin/env python3
"""An XTTS-style voice-cloning server speaking son1k's remote voice contract (docs/VOICE.md):
POST /tts, multipart/form-data with the fields text, language, emotion, speed and the file
speaker_wav (audio/wav), `Authorization: Bearer KEY` → 200 audio/wav.

    xtts_fake.py SPEC    SPEC = JSON {"keys": {KEY: {"rate_limit_after": N, "retry_after": S}}}

Prints its port, then serves. GET /_requests lists what it received (the reference's
sha256 and size, not its bytes).
"""
import email
import email.policy
import hashlib
import json
import math
import sys
import threading

import fakeserver

KEYS = json.loads(sys.argv[1]).get("keys", {})
LOCK = threading.Lock()
CALLS = {}


def speech(seconds=1.5, rate=22050, f0=150.0):
    """A buzz at f0 with a few harmonics: enough to be voiced audio."""
    frames = bytearray()
    for i in range(int(seconds * rate)):
        t = i / rate
        v = sum(math.sin(2 * math.pi * f0 * k * t) / k for k in range(1, 6)) * 0.3 * (0.6 + 0.4 * math.sin(2 * math.pi * 4 * t))
        frames += int(max(-1, min(1, v)) * 32767).to_bytes(2, "little", signed=True)
    return fakeserver.wav(frames, rate)


AUDIO = speech()


class Handler(fakeserver.Handler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        record = {"path": self.path, "content_type": self.headers.get("Content-Type", "")}
        message = email.message_from_bytes(b"Content-Type: " + record["content_type"].encode() + b"\r\n\r\n" + body,
                                           policy=email.policy.HTTP)
        fields = {}
        for part in message.iter_parts() if message.is_multipart() else []:
            name = part.get_param("name", header="content-disposition")
            data = part.get_payload(decode=True) or b""
            if part.get_filename():
                fields[name] = {"filename": part.get_filename(), "content_type": part.get_content_type(),
                                "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
            else:
                fields[name] = data.decode()
        record["fields"] = fields
        auth = self.headers.get("Authorization", "")
        key = auth[len("Bearer "):] if auth.startswith("Bearer ") else None
        record["key"] = key

        def finish(status, payload, content_type="application/json", headers=None):
            record["status"] = status
            fakeserver.record(record)
            self.send(status, payload, content_type, headers)

        if self.path != "/tts":
            return finish(404, b'{"detail": "not found"}')
        if key not in KEYS:
            return finish(401, b'{"detail": "invalid api key"}')
        with LOCK:
            CALLS[key] = CALLS.get(key, 0) + 1
            count = CALLS[key]
        rules = KEYS[key]
        if "rate_limit_after" in rules and count > rules["rate_limit_after"]:
            return finish(429, b'{"detail": "rate limit exceeded"}', headers={"Retry-After": str(rules.get("retry_after", 60))})
        if not fields.get("text") or "speaker_wav" not in fields or fields["speaker_wav"]["content_type"] != "audio/wav":
            return finish(422, b'{"detail": "text and speaker_wav (audio/wav) are required"}')
        finish(200, AUDIO, "audio/wav")


fakeserver.serve(Handler)
