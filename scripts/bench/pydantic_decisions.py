#!/usr/bin/env python3
"""The baseline for scripts/bench-decision: production's own code — pydantic 2 Decision.model_validate_json,
the allow-list and the routing — on the same texts, in the same run.

usage: pydantic_decisions.py TEXTS.jsonl ROUNDS
"""
import json
import sys
import time

from pydantic import ValidationError

from production import ALLOWED, Decision
texts = [json.loads(line)["text"] for line in open(sys.argv[1], encoding="utf-8")]
rounds = int(sys.argv[2])
routes = {"execute": 0, "approve": 0, "escalate": 0}
start = time.perf_counter()
for _ in range(rounds):
    for text in texts:
        try:
            decision = Decision.model_validate_json(text)
            if any(action.name not in ALLOWED for action in decision.actions):
                raise ValueError("unknown action")
        except (ValidationError, ValueError):
            routes["escalate"] += 1
            continue
        routes["approve" if decision.needs_human or decision.confidence < 0.7 else "execute"] += 1
seconds = time.perf_counter() - start
print(json.dumps({"decisions": len(texts) * rounds, "seconds": seconds, **routes}))
