#!/usr/bin/env python3
"""Queue throughput: jobs per second through submit → lease → complete.

Submitters post generations while workers lease them over the external worker protocol
and complete each at once with a tiny valid WAV (a no-op engine), so the figure is the
queue's own cost: three authenticated requests and three transactions per job.

usage: bench_queue.py BASE_URL USER_TOKEN WORKER_TOKEN [JOBS] [THREADS]
prints: jobs_per_second submit_p50_ms lease_p50_ms complete_p50_ms
"""
import http.client
import json
import statistics
import struct
import sys
import threading
import time
from urllib.parse import urlparse

base, user_token, worker_token = sys.argv[1], sys.argv[2], sys.argv[3]
jobs = int(sys.argv[4]) if len(sys.argv) > 4 else 1000
threads = int(sys.argv[5]) if len(sys.argv) > 5 else 4
url = urlparse(base)

# 0.1 s of silence at 8 kHz mono, 16-bit.
frames = 800
wav = b"RIFF" + struct.pack("<I", 36 + frames * 2) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 1, 8000, 16000, 2, 16) \
    + b"data" + struct.pack("<I", frames * 2) + bytes(frames * 2)

lock = threading.Lock()
state = {"submitted": 0, "completed": 0}
timings = {"submit": [], "lease": [], "complete": []}


def call(conn, method, path, token, body=None, headers=None):
    h = {"Authorization": "Bearer " + token}
    if headers:
        h.update(headers)
    started = time.perf_counter()
    conn.request(method, path, body=body, headers=h)
    r = conn.getresponse()
    data = r.read()
    return r.status, data, (time.perf_counter() - started) * 1000


def submitter(count):
    conn = http.client.HTTPConnection(url.hostname, url.port)
    for i in range(count):
        status, data, ms = call(conn, "POST", "/api/generations", user_token,
                                json.dumps({"prompt": "bench", "duration_s": 5, "seed": i}), {"Content-Type": "application/json"})
        if status != 202:
            sys.exit(f"submit: {status} {data[:200]}")
        with lock:
            state["submitted"] += 1
            timings["submit"].append(ms)


def worker(n):
    conn = http.client.HTTPConnection(url.hostname, url.port)
    body = json.dumps({"worker_id": f"bench-{n}", "wait_s": 1})
    while True:
        with lock:
            if state["completed"] >= jobs:
                return
        status, data, ms = call(conn, "POST", "/api/worker/jobs/next", worker_token, body, {"Content-Type": "application/json"})
        if status == 204:
            continue
        if status != 200:
            sys.exit(f"lease: {status} {data[:200]}")
        lease = json.loads(data)
        with lock:
            timings["lease"].append(ms)
        path = f"/api/worker/jobs/{lease['id']}/complete?worker_id=bench-{n}&lease_id={lease['lease_id']}"
        status, data, ms = call(conn, "POST", path, worker_token, wav, {"Content-Type": "audio/wav"})
        if status != 200:
            sys.exit(f"complete: {status} {data[:200]}")
        with lock:
            state["completed"] += 1
            timings["complete"].append(ms)


started = time.perf_counter()
pool = [threading.Thread(target=submitter, args=(jobs // threads + (1 if i < jobs % threads else 0),)) for i in range(threads)]
pool += [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
for t in pool:
    t.start()
for t in pool:
    t.join()
elapsed = time.perf_counter() - started
print(f"{jobs / elapsed:.0f} {statistics.median(timings['submit']):.2f} {statistics.median(timings['lease']):.2f} {statistics.median(timings['complete']):.2f}")
