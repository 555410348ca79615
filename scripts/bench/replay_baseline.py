#!/usr/bin/env python3
"""Baseline for scripts/bench-runner's offline replay: a plain Python loop doing the same work as a replay run —
read each cached reply from SQLite, validate it with pydantic (production's Decision model) and the allow-list,
route it, score it against its label, and store a result row.

usage: replay_baseline.py STORE.sqlite MODEL
"""
import json
import sqlite3
import sys
import time

from pydantic import ValidationError

from production import ALLOWED, Decision
db = sqlite3.connect(sys.argv[1])
db.execute("CREATE TABLE IF NOT EXISTS pyresult (incidentId TEXT, sample INTEGER, route TEXT, correct INTEGER,"
           " PRIMARY KEY (incidentId, sample))")
db.execute("DELETE FROM pyresult")
labels = {row[0]: row[1] for row in db.execute("SELECT incidentId, expect FROM label")}
start = time.perf_counter()
count = 0
rows = db.execute("SELECT incidentId, sample, text FROM reply WHERE model = ?", (sys.argv[2],)).fetchall()
for incident, sample, text in rows:
    expect = labels.get(incident)
    if expect is None:
        continue
    try:
        decision = Decision.model_validate_json(text)
        if any(a.name not in ALLOWED for a in decision.actions):
            raise ValueError("unknown action")
        route = "approve" if decision.needs_human or decision.confidence < 0.7 else "execute"
        correct = (expect == "human" and route == "approve") or (expect == "none" and not decision.actions)
    except (ValidationError, ValueError):
        route, correct = "escalate", False
    db.execute("INSERT INTO pyresult VALUES (?, ?, ?, ?)", (incident, sample, route, int(correct)))
    count += 1
db.commit()
print(json.dumps({"samples": count, "seconds": time.perf_counter() - start}))
