#!/usr/bin/env python3
"""Writes vectors.jsonl: decision vectors beyond the shared ones, each found as a defect, with the verdicts of
production's own code (scripts/bench/production.py: pydantic 2.13.4, the seed's allow-list), in the shared
vectors' format (see ../parity/README.upstream.md).

    python3 Tests/TriageEvalCoreTests/Fixtures/parity-extra/make_vectors.py
"""
import json
import math
import pathlib
import sys

here = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(here.parents[3] / "scripts" / "bench"))
from production import ALLOWED, Decision  # noqa: E402
from pydantic import ValidationError  # noqa: E402


def decision_json(value):
    """Non-finite floats as the strings the vectors use."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: decision_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decision_json(v) for v in value]
    return value


def verdict(case_id, category, text):
    try:
        decision = Decision.model_validate_json(text)
    except ValidationError as error:
        errors = [{"type": e["type"], "loc": list(e["loc"])} for e in error.errors()]
        return dict(id=case_id, category=category, text=text, outcome="validation_error", errors=errors,
                    decision=None, route="escalate")
    if any(action.name not in ALLOWED for action in decision.actions):
        return dict(id=case_id, category=category, text=text, outcome="unknown_action", errors=[],
                    decision=None, route="escalate")
    route = "approve" if decision.needs_human or decision.confidence < 0.7 else "execute"
    return dict(id=case_id, category=category, text=text, outcome="ok", errors=[],
                decision=decision_json(decision.model_dump()), route=route)


def reply(confidence):
    return '{"incident_id":"INC-1","actions":[],"confidence":%s,"needs_human":false}' % confidence


cases = [
    # jiter's integer limit counts the sign: "-" and 4300 digits is json_invalid, 4300 digits alone is not.
    ("int-limit-negative-4300-digits", "number-limits", reply("-" + "1" * 4300)),
    ("int-limit-negative-4299-digits", "number-limits", reply("-" + "1" * 4299)),
    ("int-limit-positive-4300-digits", "number-limits", reply("1" * 4300)),
    ("int-limit-positive-4301-digits", "number-limits", reply("1" * 4301)),
    ("int-limit-negative-zero", "number-limits", reply("-0")),
    ("int-limit-negative-4300-digits-in-params", "number-limits",
     '{"incident_id":"INC-1","actions":[{"name":"scale_up","params":{"replicas":-%s},"rationale":"r"}],'
     '"confidence":0.9,"needs_human":false}' % ("9" * 4300)),
]

with open(here / "vectors.jsonl", "w") as out:
    for case in cases:
        out.write(json.dumps(verdict(*case)) + "\n")
