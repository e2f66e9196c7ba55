#!/usr/bin/env python3
"""Fills the community pool of a running deployment with N synthetic items for the benchmark.

Usage: seed_pool.py DATABASE N

The pool plugin's tables exist once the server has started (its migrations ran). Items are
written straight into SQLite (WAL mode lets this process write beside the server): going
through the API would need N real generations first, which is not what the benchmark
measures. Contributors, genres, qualities, plays and likes vary so every sort order has work.
"""
import random
import sqlite3
import sys
import time

GENRES = ["pop", "rock", "jazz", "electronic", "hip-hop", "classical", "ambient", "folk", "latin", "reggae", "metal", "blues"]
QUALITIES = [("standard", 1), ("high", 2), ("ultra", 3)]


def main() -> None:
    path, count = sys.argv[1], int(sys.argv[2])
    rng = random.Random(1)
    db = sqlite3.connect(path, timeout=30)
    db.executemany(
        "INSERT OR IGNORE INTO pool_profiles (user_id, username, avatar) VALUES (?, ?, NULL)",
        [(f"usr_bench{n}", f"contributor{n}") for n in range(50)],
    )
    now_ms = int(time.time() * 1000)
    rows = []
    for n in range(count):
        quality, points = rng.choice(QUALITIES)
        ms = now_ms - rng.randrange(60 * 86_400_000)
        at = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + f".{ms % 1000:03d}Z"
        rows.append((f"pit_bench{n:06d}", f"gen_bench{n:06d}", f"usr_bench{n % 50}", "PRO", "auto", quality, points,
                     rng.choice(GENRES), 30.0, f"blob_bench{n}", rng.randrange(500), rng.randrange(100), ms, at))
    db.executemany(
        """INSERT INTO pool_items (id, generation_id, contributor_id, contributor_tier, source, quality, points, genre,
               duration_s, audio_blob_id, plays, likes, contributed_ms, contributed_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        rows,
    )
    db.commit()
    db.close()


if __name__ == "__main__":
    main()
