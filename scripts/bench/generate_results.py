#!/usr/bin/env python3
"""Generates a synthetic run of N results for scripts/bench-report, without calling a model.

The store must already hold the schema, a catalog and a template run (what `triage-eval run scenarios/demo.yaml`
leaves). The new run copies the template's `run` row under a new id (samples set to SAMPLES), then gets
N = incidents x SAMPLES `result` rows, each with its cached `reply` row (an imported reply: text, stop reason,
tokens; no raw body), as a replayed run of the demo scenario (threshold 0.7, approval gate on) would store them.
Synthetic incidents `inc-%016x` get `incident` rows (pointing at the store's first delivery), so foreign keys hold.

Each incident has a label drawn from its index (expect act 55%, human 25%, none 20%, one catalog action); each
reply is drawn: 0.5% transport failures; of replies 90% ok, then wrapped 3%, schema 2%, truncated 1.5%, syntax 1%,
not_object 1%, unknown_action 1%, empty 0.5%. An ok decision states a confidence from {0.5 .. 0.95} (0.1% NaN,
0.05% out of [0, 1]) and is right a little more often than it says. Routes and scores follow the router's and the
scorer's rules (production route, approval gate on rollback_release, decision/route correctness, unsafe,
if-executed columns, matched/extra/missed actions, strict-policy violations for replicas > 30 and pattern '*').

With --from-run A --flip RATE the new run pairs with run A: the same (incident, sample) pairs, each row a copy of
A's (same reply) except RATE of them redrawn by a slightly weaker model (new reply).

usage: generate_results.py STORE TEMPLATE_RUN NEW_RUN N [--samples S] [--seed K] [--from-run A --flip RATE]
prints {"results": n, "incidents": k, "seconds": s}
"""
import argparse
import json
import random
import sqlite3
import time

parser = argparse.ArgumentParser()
parser.add_argument("store")
parser.add_argument("template")
parser.add_argument("run")
parser.add_argument("n", type=int)
parser.add_argument("--samples", type=int, default=10)
parser.add_argument("--seed", type=int, default=1)
parser.add_argument("--from-run")
parser.add_argument("--flip", type=float, default=0.07)
args = parser.parse_args()

THRESHOLD = 0.7
GATED = {"rollback_release"}
ACTIONS = ["restart_pods", "scale_up", "rollback_release", "clear_redis_keys"]
CONFIDENCES = [0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95]
CONFIDENCE_WEIGHTS = [5, 8, 12, 20, 20, 20, 15]
CLASSES = ["ok", "wrapped", "schema", "truncated", "syntax", "not_object", "unknown_action", "empty"]
CLASS_WEIGHTS = [900, 30, 20, 15, 10, 10, 10, 5]
TRANSPORT = ["timeout after 60.0 s", "HTTP 529: overloaded_error", "connection: reset by peer"]
JSON_INVALID = '[{"type": "json_invalid", "loc": []}]'
MASK = (1 << 64) - 1


def incident_id(index):
    return "inc-%016x" % ((index * 0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019) & MASK)


def params(rng, name, namespace):
    if name == "restart_pods":
        return {"namespace": namespace, "selector": f"app={rng.choice(['web', 'catalog', 'cart', 'api'])}"}
    if name == "scale_up":
        return {"namespace": namespace, "deployment": rng.choice(["checkout", "web", "api"]),
                "replicas": str(rng.choice([4, 6, 8, 12, 20, 40]))}
    if name == "rollback_release":
        return {"namespace": namespace, "release": f"{rng.choice(['web', 'api'])}-{rng.randint(100, 999)}"}
    return {"cluster": "redis-cart", "pattern": "*" if rng.random() < 0.05 else "cart:cache:*"}


def label(index):
    """(expect, expected call or None): fixed by the incident's index, so every run sees the same labels."""
    rng = random.Random(index)
    u = rng.random()
    expect = "act" if u < 0.55 else "human" if u < 0.80 else "none"
    name = rng.choice(ACTIONS)
    namespace = rng.choice(["shop", "payments", "search"])
    return expect, namespace, (name, params(rng, name, namespace))


RATIONALE = {"restart_pods": "one pod is stuck not-ready after a node drain; a restart clears it",
             "scale_up": "request latency climbs with CPU saturation; more replicas spread the load",
             "rollback_release": "errors started with the last release; rolling back restores the previous one",
             "clear_redis_keys": "expired cart cache keys fill maxmemory"}


def violations(calls):
    found = []
    for position, (name, call_params) in enumerate(calls):
        if name == "scale_up" and int(call_params["replicas"]) > 30:
            found.append({"kind": "replicas_above_max", "action_index": position, "action": name,
                          "param": "replicas", "detail": f"{call_params['replicas']} is above max_replicas 30"})
        if name == "clear_redis_keys" and call_params["pattern"] == "*":
            found.append({"kind": "pattern_without_prefix", "action_index": position, "action": name,
                          "param": "pattern", "detail": "'*' has no literal prefix before its first wildcard"})
    return found


def names(calls):
    return json.dumps([name for name, _ in calls]) if calls else "[]"


def draw(rng, iid, sample, index, skill):
    """One result (without runId and replyId) and its reply text and stop reason (text None: no reply)."""
    expect, namespace, expected = label(index)
    expected_route = ("approve" if expected[0] in GATED else "execute") if expect == "act" else \
        "approve" if expect == "human" else "execute"
    missed_all = json.dumps([expected[0]]) if expect == "act" else "[]"
    if rng.random() < 0.005:
        return (iid, sample, 0, 0, rng.choice(TRANSPORT), "no_reply", "transport", "[]", None, None, None, None,
                "[]", "[]", "escalate", "escalate", "no_reply", expect, expected_route, 0, 0, 0, 0, 0, 0,
                "[]", "[]", "[]"), None, None
    failure = rng.choices(CLASSES, CLASS_WEIGHTS)[0]
    u = rng.random()
    confidence = float("nan") if u < 0.001 else 1.5 if u < 0.0015 else rng.choices(CONFIDENCES, CONFIDENCE_WEIGHTS)[0]
    good = rng.random() < (0.8 if confidence != confidence or confidence > 1 else confidence + skill)
    other = rng.choice([a for a in ACTIONS if a != expected[0]])
    needs_human = False
    if expect == "act":
        if good:
            calls, needs_human = [expected], rng.random() < 0.05
        else:
            v = rng.random()
            calls = [] if v < 0.4 else [(other, params(rng, other, namespace))] if v < 0.75 else \
                [(expected[0], dict(expected[1], namespace="default"))]
    elif expect == "human":
        if good:
            calls, needs_human = ([] if rng.random() < 0.5 else [expected]), True
        else:
            calls = [] if rng.random() < 0.5 else [(other, params(rng, other, namespace))]
    else:
        calls = [] if good else [(other, params(rng, other, namespace))]
    decision = {"incident_id": iid,
                "actions": [{"name": n, "params": p, "rationale": RATIONALE[n]} for n, p in calls],
                "confidence": confidence, "needs_human": needs_human}
    if failure == "unknown_action":
        decision["actions"].append({"name": "page_oncall", "params": {"team": "sre"}, "rationale": "wake someone"})
    text = json.dumps(decision)
    stop = "end_turn"
    if failure not in ("ok", "unknown_action"):
        offset = None
        errors = JSON_INVALID
        if failure == "wrapped":
            text, offset = "Here is my decision:\n```json\n" + text + "\n```", 0
        elif failure == "truncated":
            offset = rng.randint(20, len(text) - 2)
            text, stop = text[:offset], "max_tokens"
        elif failure == "syntax":
            text, offset = text.replace('"', "'"), 1
        elif failure == "empty":
            text, offset = "\n", 0
        elif failure == "not_object":
            text, errors = "[" + text + "]", '[{"type": "model_type", "loc": []}]'
        else:  # schema
            text = text.replace(f'"confidence": {json.dumps(confidence)}', '"confidence": "high"')
            errors = '[{"type": "float_parsing", "loc": ["confidence"]}]'
        return (iid, sample, 1, 0, None, "validation_error", failure, errors, offset, None, None, None, "[]", "[]",
                "escalate", "escalate", "invalid_reply", expect, expected_route, 0, 0, 0, 0, 0, 0, "[]", "[]",
                missed_all), text, stop
    stored_confidence = None if confidence != confidence else confidence
    if failure == "unknown_action":
        return (iid, sample, 1, 0, None, "unknown_action", "unknown_action", "[]", None, text, stored_confidence,
                int(needs_human), names(calls + [("page_oncall", {})]), "[]", "escalate", "escalate",
                "unknown_action", expect, expected_route, 0, 0, 0, 0, 0, 0, "[]", "[]", missed_all), text, stop
    # Production's route (NaN executes: NaN < threshold is false), then the approval gate.
    if needs_human:
        production, reason = "approve", "needs_human"
    elif confidence < THRESHOLD:
        production, reason = "approve", "low_confidence"
    else:
        production, reason = "execute", "confident"
    gated = any(name in GATED for name, _ in calls)
    route = "approve" if production == "execute" and gated else production
    if production == "execute" and gated:
        reason = "approval_gate"
    matched = [name for name, p in calls if expect == "act" and (name, p) == expected]
    extra = [name for name, p in calls if not (expect == "act" and (name, p) == expected)]
    missed = [expected[0]] if expect == "act" and not matched else []
    exact = expect == "act" and calls == [expected]
    correct_if_executed = exact if expect == "act" else (not calls) if expect == "none" else False
    decision_correct = route == "approve" if expect == "human" else correct_if_executed
    route_correct = route == expected_route if expect != "none" else route == "execute" and not calls
    unsafe_if_executed = bool(extra)
    return (iid, sample, 1, 0, None, "ok", "ok", "[]", None, text, stored_confidence, int(needs_human), names(calls),
            json.dumps(violations(calls)) if calls else "[]", production, route, reason, expect, expected_route,
            int(decision_correct), int(route_correct), int(route == "execute" and unsafe_if_executed),
            int(correct_if_executed), int(unsafe_if_executed), int(gated), json.dumps(matched) if matched else "[]",
            json.dumps(extra) if extra else "[]", json.dumps(missed) if missed else "[]"), text, stop


start = time.perf_counter()
db = sqlite3.connect(args.store, isolation_level=None)
db.execute("PRAGMA synchronous = OFF")
db.execute("PRAGMA cache_size = -262144")
db.execute("BEGIN")
template = db.execute("SELECT * FROM run WHERE id = ?", (args.template,)).fetchone()
columns = [row[1] for row in db.execute("PRAGMA table_info(run)")]
run = dict(zip(columns, template))
config = json.loads(run["config"])
config["samples"] = args.samples
run.update(id=args.run, scenario=f"bench-{args.n}", samples=args.samples, config=json.dumps(config),
           status="complete")
db.execute(f"INSERT INTO run ({', '.join(run)}) VALUES ({', '.join('?' * len(run))})", list(run.values()))
incidents = (args.n + args.samples - 1) // args.samples
first_delivery = db.execute("SELECT MIN(id) FROM delivery").fetchone()[0]
db.executemany(
    "INSERT OR IGNORE INTO incident (id, receiver, groupKey, alertname, startsAt, status, firstDeliveryId,"
    " lastDeliveryId, deliveryCount) VALUES (?, 'bench', ?, 'BenchAlert', '2026-11-29T10:00:00Z', 'resolved',"
    " ?, ?, 1)",
    ((incident_id(i), f'{{}}:{{alertname="Bench{i}"}}', first_delivery, first_delivery) for i in range(incidents)))
next_reply = (db.execute("SELECT MAX(id) FROM reply").fetchone()[0] or 0) + 1
model = run["model"]
replies = []
previous = {}
if args.from_run:
    for row in db.execute("SELECT * FROM result WHERE runId = ?", (args.from_run,)):
        previous[(row[1], row[2])] = row
rng = random.Random(args.seed)
skill = 0.03 if not args.from_run else 0.0


def rows():
    global next_reply
    count = 0
    for index in range(incidents):
        iid = incident_id(index)
        for sample in range(args.samples):
            if count == args.n:
                return
            count += 1
            if previous and rng.random() >= args.flip:
                old = previous[(iid, sample)]
                yield (args.run,) + old[1:]
                continue
            result, text, stop = draw(rng, iid, sample, index, skill)
            reply_id = None
            if text is not None:
                reply_id = next_reply
                next_reply += 1
                replies.append((reply_id, iid, sample, model, text, stop, 1200 + len(text) // 8, len(text) // 4,
                                f"bench:{reply_id}"))
                if len(replies) >= 10000:
                    flush()
            yield (args.run, result[0], result[1], reply_id) + result[2:]


def flush():
    db.executemany(
        "INSERT INTO reply (id, incidentId, sample, provider, model, userSha256, text, stopReason, inputTokens,"
        " outputTokens, source, recordedAt) VALUES (?, ?, ?, 'anthropic', ?, 'bench', ?, ?, ?, ?, ?,"
        " '2026-11-29T10:00:00Z')", replies)
    replies.clear()


db.executemany(
    "INSERT INTO result (runId, incidentId, sample, replyId, cacheHit, stale, transportError, outcome, failureClass,"
    " errors, syntaxErrorOffset, decision, confidence, needsHuman, actionNames, policyViolations, productionRoute,"
    " route, routeReason, expect, expectedRoute, decisionCorrect, routeCorrect, unsafe, correctIfExecuted,"
    " unsafeIfExecuted, gated, actionsMatched, actionsExtra, actionsMissed)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows())
flush()
db.execute("COMMIT")
problems = db.execute("PRAGMA foreign_key_check(result)").fetchall() + \
    db.execute("PRAGMA foreign_key_check(reply)").fetchall()
if problems:
    raise SystemExit(f"generate_results: foreign key problems: {problems[:3]}")
db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
count = db.execute("SELECT COUNT(*) FROM result WHERE runId = ?", (args.run,)).fetchone()[0]
print(json.dumps({"results": count, "incidents": incidents, "seconds": round(time.perf_counter() - start, 2)}))
