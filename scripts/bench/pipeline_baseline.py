#!/usr/bin/env python3
"""The Python baseline of scripts/bench-pipeline: the per-message work of a pipeline replay, written plainly with
the standard library and production's pydantic model — every delivery of generate_timeline.py's corpus in receive
order: the event (body with incident_id first) and its user message (json.dumps), the cached reply found by
(incident, user-message SHA-256, sample), pydantic validation and the allow-list, the route, one row stored in
SQLite. It knows the incident of each delivery from the body (as ingest would have told it) and does not
classify kinds, write reports or load labels.

    pipeline_baseline.py CORPUS_DIR          prints {"messages": n, "seconds": s}
"""
import hashlib
import json
import os
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from production import ALLOWED, Decision  # noqa: E402
from pydantic import ValidationError  # noqa: E402

corpus = sys.argv[1]
replies = {}
for line in open(os.path.join(corpus, "replies-bench.jsonl")):
    r = json.loads(line)
    replies[(r["incident_id"], r["user_sha256"], r["sample"])] = r["text"]
bodies = open(os.path.join(corpus, "deliveries", "timeline.jsonl"), "rb").read().splitlines()
times = [json.loads(line)["recv_unix"] for line in open(os.path.join(corpus, "deliveries", "timeline.headers.jsonl"))]
db = sqlite3.connect(os.path.join(os.environ.get("TMPDIR", "/tmp"), f"pipeline-baseline-{os.getpid()}.sqlite"))
db.execute("CREATE TABLE message (seq INTEGER PRIMARY KEY, incident TEXT, kind TEXT, sample INTEGER, route TEXT)")
start = time.perf_counter()
open_incidents = {}
occurrences = {}
rows = []
order = sorted(range(len(bodies)), key=lambda i: times[i])
for seq, index in enumerate(order):
    payload = json.loads(bodies[index])
    key = (payload["receiver"], payload["groupKey"])
    if key not in open_incidents:
        earliest = min(a["startsAt"] for a in payload["alerts"] if a["status"] == "firing")
        open_incidents[key] = "inc-" + hashlib.sha256(
            (payload["receiver"] + "\n" + payload["groupKey"] + "\n" + earliest).encode()).hexdigest()[:16]
    incident = open_incidents[key]
    user = json.dumps({"incident_id": incident, **payload})
    sha = hashlib.sha256(user.encode()).hexdigest()
    n = occurrences.get(sha, 0)
    occurrences[sha] = n + 1
    text = replies.get((incident, sha, n)) or replies[(incident, sha, 0)]
    try:
        decision = Decision.model_validate_json(text)
        if any(a.name not in ALLOWED for a in decision.actions):
            route = "escalate"
        else:
            route = "approve" if decision.needs_human or decision.confidence < 0.7 else "execute"
    except ValidationError:
        route = "escalate"
    rows.append((seq, incident, payload["status"], 0 if n == 0 else n, route))
    if len(rows) == 4096:
        db.executemany("INSERT INTO message VALUES (?, ?, ?, ?, ?)", rows)
        rows = []
db.executemany("INSERT INTO message VALUES (?, ?, ?, ?, ?)", rows)
db.commit()
seconds = time.perf_counter() - start
os.remove(db.execute("PRAGMA database_list").fetchone()[2])
print(json.dumps({"messages": len(order), "seconds": seconds}))
