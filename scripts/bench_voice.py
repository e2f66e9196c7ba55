#!/usr/bin/env python3
"""Voice synthesis speed for `make bench`: a profile from an espeak-ng recording, then
ROUNDS syntheses of the same 20 words with the embedded engine, one at a time. Prints
"median_realtime_factor median_render_s audio_s" (realtime factor = seconds of speech per
second of work, as the worker measured it).

    bench_voice.py BASE_URL USER_TOKEN [ROUNDS]
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

base, token = sys.argv[1], sys.argv[2]
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 5
WORDS = "The river carries every song we sang last summer down to the quiet sea where the morning light begins again"
assert len(WORDS.split()) == 20


def call(method, path, body=None, raw=None, content_type="application/json"):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(base + path, data=data, method=method,
                                     headers={"Authorization": "Bearer " + token, "Content-Type": content_type})
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read() or b"null")


with tempfile.TemporaryDirectory() as folder:
    path = os.path.join(folder, "reference.wav")
    subprocess.run(["espeak-ng", "-v", "en+f3", "-w", path, "This is my voice, recorded for a profile that matches its pitch. " * 2], check=True)
    reference = open(path, "rb").read()

profile = call("POST", "/api/voice/profiles", {"name": "bench", "consent": {"statement": "This is my own voice and I agree to its use.", "speaker_is_me": True}})
call("PUT", f"/api/voice/profiles/{profile['id']}/reference", raw=reference, content_type="audio/wav")
factors, renders, audio = [], [], 0.0
for _ in range(rounds):
    job = call("POST", "/api/voice/synthesize", {"profile_id": profile["id"], "text": WORDS, "language": "en"})
    while job["status"] not in ("completed", "failed"):
        time.sleep(0.05)
        job = call("GET", f"/api/voice/jobs/{job['id']}")
    if job["status"] != "completed":
        sys.exit("synthesis failed: " + str(job.get("error")))
    factors.append(job["output"]["realtime_factor"])
    renders.append(job["output"]["render_s"])
    audio = job["output"]["duration_s"]
print(f"{statistics.median(factors):.1f} {statistics.median(renders):.3f} {audio:.2f}")
