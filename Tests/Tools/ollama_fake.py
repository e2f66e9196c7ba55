#!/usr/bin/env python3
"""Ollama's chat API as documented (https://github.com/ollama/ollama/blob/main/docs/api.md),
for the lyrics tests. POST /api/chat with `stream` true answers NDJSON chunks
{"model", "created_at", "message": {"role", "content"}, "done": false} and a final
{"done": true, "done_reason", "prompt_eval_count", "eval_count", ...}; with `stream` false
one such object holding the whole content. The model name picks the behaviour:

    good          lyrics JSON in the requested structure (pauses PAUSE s after the first section
                  when streaming), an analysis when `format` asks for tempo_bpm, a translation
                  when the system message asks to translate
    broken        streams a little, then an {"error": ...} line before any section is complete
    broken-late   streams the first section, then an {"error": ...} line
    slow          answers after 5 s
    anything else 404 {"error": "model \\"NAME\\" not found, try pulling it first"}

    ollama_fake.py [PAUSE]    prints its port, then serves; GET /_requests lists what it received.
"""
import json
import sys
import time

import fakeserver

PAUSE = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0


def lyrics_for(user_message):
    structure = ["verse", "chorus"]
    for line in user_message.splitlines():
        if "Sections in this order:" in line:
            listed = line.split("Sections in this order:")[1].split(".")[0]
            structure = [s.strip() for s in listed.split(",") if s.strip()]
    sections = []
    for n, kind in enumerate(structure):
        sections.append({"type": kind, "lines": [f"{kind} {n} line {i}, \"quoted\" {{braces}}" for i in range(1, 5)]})
    return {"title": "Fake Song", "sections": sections}


def content_for(body):
    messages = body.get("messages", [])
    system = next((m["content"] for m in messages if m.get("role") == "system"), "")
    user = next((m["content"] for m in messages if m.get("role") == "user"), "")
    properties = (body.get("format") or {}).get("properties", {})
    if "tempo_bpm" in properties:
        return json.dumps({"language": "es", "genre": "latin", "mood": "happy", "tempo_bpm": 101, "keywords": ["fiesta", "playa"], "energy": 0.8})
    if "translate" in system.lower():
        sections = json.loads(user.split("\n", 1)[1])
        return json.dumps({"sections": [{"type": s["type"], "lines": ["(fr) " + l for l in s["lines"]]} for s in sections]})
    return json.dumps(lyrics_for(user))


def chunk(model, piece, done=False, **extra):
    line = {"model": model, "created_at": "2026-11-22T12:00:00.000000Z", "message": {"role": "assistant", "content": piece}, "done": done}
    line.update(extra)
    return (json.dumps(line) + "\n").encode()


FINAL = {"done_reason": "stop", "total_duration": 1200000000, "load_duration": 1000000, "prompt_eval_count": 42,
         "prompt_eval_duration": 100000000, "eval_count": 128, "eval_duration": 900000000}


class Handler(fakeserver.Handler):
    def do_GET(self):
        if self.path == "/api/version":
            return self.send(200, b'{"version": "0.6.0"}')
        super().do_GET()

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
        fakeserver.record({"path": self.path, "body": body})
        if self.path != "/api/chat":
            return self.send(404, b'{"error": "not found"}')
        model = body.get("model", "")
        if model not in ("good", "broken", "broken-late", "slow"):
            return self.send(404, json.dumps({"error": f'model "{model}" not found, try pulling it first'}).encode())
        if model == "slow":
            time.sleep(5)
        content = content_for(body)
        if not body.get("stream", True):
            answer = json.loads(chunk(model, content, True, **FINAL))
            return self.send(200, json.dumps(answer).encode())
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

        def write(data):
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

        first_section_end = content.find("]}") + 2 if '"sections"' in content else len(content)
        if model == "broken":
            write(chunk(model, content[:first_section_end // 2]))
            write(json.dumps({"error": "llama runner process has terminated"}).encode() + b"\n")
        else:
            pieces = [content[i:i + 16] for i in range(0, len(content), 16)]
            sent = 0
            paused = False
            for piece in pieces:
                write(chunk(model, piece))
                sent += len(piece)
                if sent >= first_section_end and not paused:
                    paused = True
                    if model == "broken-late":
                        write(json.dumps({"error": "llama runner process has terminated"}).encode() + b"\n")
                        break
                    time.sleep(PAUSE)
            else:
                write(chunk(model, "", True, **FINAL))
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


fakeserver.serve(Handler)
