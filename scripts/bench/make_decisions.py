#!/usr/bin/env python3
"""Writes N realistic model replies (JSON Lines {"text"}) for scripts/bench-decision: mostly valid decisions of
the seed catalog's actions, pretty-printed or compact, with the mix of invalid replies a real model produces.

usage: make_decisions.py N OUT.jsonl
"""
import json
import random
import sys

n, out_path = int(sys.argv[1]), sys.argv[2]
rng = random.Random(7)
actions = [
    ("restart_pods", {"namespace": "shop", "selector": "app=frontend"}),
    ("scale_up", {"namespace": "shop", "deployment": "checkout", "replicas": "6"}),
    ("rollback_release", {"namespace": "payments", "release": "checkout-v42"}),
    ("clear_redis_keys", {"cluster": "redis-cart", "pattern": "cart:cache:*"}),
]
with open(out_path, "w") as out:
    for index in range(n):
        chosen = rng.sample(actions, rng.choice([0, 1, 1, 1, 2]))
        decision = {
            "incident_id": f"inc-{index:016x}",
            "actions": [{"name": name, "params": params,
                         "rationale": "Pods have been crash looping since the last rollout; restarting clears "
                                      "the stuck state without touching the release."} for name, params in chosen],
            "confidence": rng.choice([0.55, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95]),
            "needs_human": rng.random() < 0.2,
        }
        text = json.dumps(decision, indent=2) if rng.random() < 0.5 else json.dumps(decision)
        roll = rng.random()
        if roll < 0.02:
            text = "```json\n" + text + "\n```"
        elif roll < 0.03:
            text = text[: len(text) // 2]
        out.write(json.dumps({"text": text}) + "\n")
