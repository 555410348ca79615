#!/usr/bin/env python3
"""Baselines for scripts/bench-ingest: the same work as `triage-eval ingest` done by a plain Python loop, and the
limit — the bare SQLite insert of the same bodies with their sha256, no parsing.

usage: python_ingest.py plain|bare IN.jsonl OUT.sqlite
"""
import hashlib
import json
import sqlite3
import sys
import time

mode, source, database = sys.argv[1:4]
db = sqlite3.connect(database)
db.execute("PRAGMA journal_mode = WAL")
db.execute("PRAGMA synchronous = NORMAL")
db.execute("CREATE TABLE delivery (id INTEGER PRIMARY KEY, sha256 TEXT NOT NULL UNIQUE, body BLOB NOT NULL,"
           " receiver TEXT, groupKey TEXT, status TEXT)")
db.execute("CREATE TABLE alert (deliveryId INTEGER, position INTEGER, fingerprint TEXT, status TEXT,"
           " startsAt TEXT, labels TEXT, annotations TEXT, PRIMARY KEY (deliveryId, position)) WITHOUT ROWID")
start = time.perf_counter()
count = 0
stored = 0
size = 0
with open(source, "rb") as lines:
    if mode == "bare":
        def rows():
            global count, size
            for line in lines:
                body = line.rstrip(b"\n")
                count += 1
                size += len(line)
                yield (hashlib.sha256(body).hexdigest(), body)
        db.executemany("INSERT OR IGNORE INTO delivery (sha256, body) VALUES (?, ?)", rows())
    else:
        for line in lines:
            body = line.rstrip(b"\n")
            count += 1
            size += len(line)
            sha = hashlib.sha256(body).hexdigest()
            if db.execute("SELECT 1 FROM delivery WHERE sha256 = ?", (sha,)).fetchone():
                continue
            payload = json.loads(body)
            cursor = db.execute(
                "INSERT INTO delivery (sha256, body, receiver, groupKey, status) VALUES (?, ?, ?, ?, ?)",
                (sha, body, payload["receiver"], payload["groupKey"], payload["status"]))
            delivery = cursor.lastrowid
            for position, alert in enumerate(payload["alerts"]):
                db.execute("INSERT INTO alert VALUES (?, ?, ?, ?, ?, ?, ?)",
                           (delivery, position, alert["fingerprint"], alert["status"], alert["startsAt"],
                            json.dumps(alert["labels"]), json.dumps(alert["annotations"])))
            stored += 1
db.commit()
elapsed = time.perf_counter() - start
print(json.dumps({"read": count, "seconds": elapsed, "bytes": size}))
