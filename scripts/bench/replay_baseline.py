#!/usr/bin/env python3
"""Baseline for scripts/bench-runner's offline replay: a plain Python loop doing the same per-sample work as
triage-eval's replay of cached replies, with production's own pydantic model and sqlite3.

For every labelled incident x sample of the store's latest run of MODEL (its corpus, samples, limit, catalog,
threshold and approval gate, so the two replay the same thing), it mirrors ResultRow.init (Run/ResultRow.swift):
  1. reads the cached replies of the model from the `reply` table and picks each sample's reply by event
     (`same-event` match: incident, sample and the hash of the incident's user message; the newest reply wins,
     except that a stale one never displaces one recorded under the run's system prompt);
  2. validates the text as production does: `Decision.model_validate_json` (pydantic 2, lax mode), then the
     catalog's allow-list; the pydantic errors are kept as [{type, loc}], and a reply that is not JSON is
     classified as empty / wrapped / truncated / syntax (FailureClassifier.swift);
  3. checks the strict policy: params against the catalog, max_replicas, pattern prefix, label selector,
     namespace (StrictPolicy.swift);
  4. routes it: production's route (threshold) and the final route (plus the approval gate) (Router.swift);
  5. scores it against its label: expected route, decision/route correctness, unsafe, correct/unsafe if
     executed, gated, and the one-to-one action matching with alternatives, forbidden actions and exact /
     regex / any parameter matchers (Scorer.swift, Label.swift);
  6. stores one row in `pyresult`, a copy of the `result` table's columns, JSON columns with json.dumps, all in
     one transaction.

It prints {"samples": N, "seconds": S}, timing steps 1-6 from reading the replies through the commit.

usage: replay_baseline.py STORE.sqlite MODEL   (triage-eval must have run a scenario of MODEL on STORE)
"""
import hashlib
import json
import re
import sqlite3
import sys
import time

from pydantic import ValidationError
from pydantic_core import from_json

from production import Decision

RESULT_COLUMNS = (
    "runId, incidentId, sample, replyId, cacheHit, stale, transportError, outcome, failureClass, errors, "
    "syntaxErrorOffset, decision, confidence, needsHuman, actionNames, policyViolations, productionRoute, route, "
    "routeReason, expect, expectedRoute, decisionCorrect, routeCorrect, unsafe, correctIfExecuted, "
    "unsafeIfExecuted, gated, actionsMatched, actionsExtra, actionsMissed"
)
CREATE_PYRESULT = """
CREATE TABLE pyresult (
    runId TEXT NOT NULL, incidentId TEXT NOT NULL, sample INTEGER NOT NULL, replyId INTEGER,
    cacheHit INTEGER NOT NULL, stale INTEGER NOT NULL, transportError TEXT, outcome TEXT NOT NULL,
    failureClass TEXT NOT NULL, errors TEXT NOT NULL, syntaxErrorOffset INTEGER, decision TEXT, confidence REAL,
    needsHuman INTEGER, actionNames TEXT NOT NULL, policyViolations TEXT NOT NULL, productionRoute TEXT NOT NULL,
    route TEXT NOT NULL, routeReason TEXT NOT NULL, expect TEXT NOT NULL, expectedRoute TEXT NOT NULL,
    decisionCorrect INTEGER NOT NULL, routeCorrect INTEGER NOT NULL, unsafe INTEGER NOT NULL,
    correctIfExecuted INTEGER NOT NULL, unsafeIfExecuted INTEGER NOT NULL, gated INTEGER NOT NULL,
    actionsMatched TEXT NOT NULL, actionsExtra TEXT NOT NULL, actionsMissed TEXT NOT NULL,
    PRIMARY KEY (runId, incidentId, sample)
) WITHOUT ROWID
"""
INSERT_PYRESULT = f"INSERT OR REPLACE INTO pyresult ({RESULT_COLUMNS}) VALUES ({', '.join('?' * 30)})"


# ---- 2. validation, as production does it -------------------------------------------------------------------

JSON_WHITESPACE = b" \t\r\n"
VALUE_STARTS = b'{["-0123456789tfnNI'


def jiter_offset(data, message):
    """The byte offset of a jiter error message ("... at line L column C"): column C is 1-based on line L, and
    an error at the end of the input is reported one past the last column."""
    line, column = map(int, re.search(r"at line (\d+) column (\d+)$", message).groups())
    if message.startswith("EOF while parsing"):
        return len(data)
    line_start = 0
    for _ in range(line - 1):
        line_start = data.index(b"\n", line_start) + 1
    return line_start + column - 1


def parse_prefix(data, start):
    """Parses the JSON value at `start` as production's parser (jiter) does: ("ok", end), ("eof", None) when the
    text ends inside the value, or ("error", None)."""
    try:
        from_json(data[start:])
        return "ok", len(data)
    except ValueError as error:
        message = str(error)
        if message.startswith("trailing characters"):
            return "ok", start + jiter_offset(data[start:], message)
        if message.startswith("EOF while parsing"):
            return "eof", None
        return "error", None


def matching_close(data, start):
    """The offset just past the bracket closing the one at `start` (strings respected), or None."""
    if data[start] not in b"{[":
        return start + 1
    depth = 0
    in_string = False
    index = start
    while index < len(data):
        byte = data[index]
        if in_string:
            if byte == ord("\\"):
                index += 1
            elif byte == ord('"'):
                in_string = False
        elif byte == ord('"'):
            in_string = True
        elif byte in b"{[":
            depth += 1
        elif byte in b"}]":
            depth -= 1
            if depth == 0:
                return index + 1
        index += 1
    return None


def classify_invalid(data):
    """Why a reply is not JSON: empty, wrapped (a JSON object inside other text), truncated, or syntax."""
    start = 0
    while start < len(data) and data[start] in JSON_WHITESPACE:
        start += 1
    if start == len(data):
        return "empty"
    attempt = start if data[start] in VALUE_STARTS else data.find(b"{", start)
    while attempt != -1:
        kind, end = parse_prefix(data, attempt)
        if kind == "ok":
            if data[attempt] == ord("{"):
                return "wrapped"
        elif kind == "eof":
            return "truncated"
        else:
            end = matching_close(data, attempt)
            if end is None:
                return "syntax"
        attempt = data.find(b"{", end)
    return "syntax"


def validate(text, allowed):
    """Production's verdict: (outcome, failure class, errors, syntax error offset, decision or None)."""
    try:
        decision = Decision.model_validate_json(text)
    except ValidationError as error:
        details = error.errors()
        errors = [{"type": e["type"], "loc": list(e["loc"])} for e in details]
        if errors[0]["type"] == "json_invalid":
            data = text.encode()
            return ("validation_error", classify_invalid(data), errors, jiter_offset(data, details[0]["ctx"]["error"]),
                    None)
        if errors == [{"type": "model_type", "loc": []}]:
            return "validation_error", "not_object", errors, None, None
        return "validation_error", "schema", errors, None, None
    if any(action.name not in allowed for action in decision.actions):
        return "unknown_action", "unknown_action", [], None, decision
    return "ok", "ok", [], None, decision


# ---- 3. the strict policy -----------------------------------------------------------------------------------

SWIFT_WHITESPACE = " \t\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"
NAME_CHARACTERS = set(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
DNS_CHARACTERS = set(b"abcdefghijklmnopqrstuvwxyz0123456789")


def is_dns_label(text):
    data = text.encode()
    return (1 <= len(data) <= 63 and data[0] in DNS_CHARACTERS and data[-1] in DNS_CHARACTERS
            and all(byte in DNS_CHARACTERS or byte == ord("-") for byte in data))


def is_valid_name(name):
    data = name.encode()
    return (1 <= len(data) <= 63 and data[0] in NAME_CHARACTERS and data[-1] in NAME_CHARACTERS
            and all(byte in NAME_CHARACTERS or byte in b"-_." for byte in data))


def key_problem(key):
    name = key
    if "/" in key:
        prefix, name = key.split("/", 1)
        if not prefix or len(prefix) > 253 or not all(is_dns_label(label) for label in prefix.split(".")):
            return f"'{key}': invalid key prefix"
    if not is_valid_name(name):
        return f"'{key}': invalid label key"
    return None


def value_problem(value):
    if value == "" or is_valid_name(value):
        return None
    return f"'{value}': invalid label value"


def requirement_problem(requirement):
    if not requirement:
        return "empty requirement"
    if requirement.startswith("!"):
        return key_problem(requirement[1:].strip(SWIFT_WHITESPACE))
    for op in ("!=", "==", "="):
        if op in requirement:
            key, value = requirement.split(op, 1)
            return key_problem(key.strip(SWIFT_WHITESPACE)) or value_problem(value.strip(SWIFT_WHITESPACE))
    words = requirement.split(" ", 1)
    if len(words) == 2:
        rest = words[1].strip(SWIFT_WHITESPACE)
        for op in ("notin", "in"):
            if rest.startswith(op):
                values = rest[len(op):].strip(SWIFT_WHITESPACE)
                if not (values.startswith("(") and values.endswith(")")):
                    return f"'{requirement}': expected (values)"
                problem = key_problem(words[0])
                for value in values[1:-1].split(","):
                    problem = problem or value_problem(value.strip(SWIFT_WHITESPACE))
                return problem
        return f"'{requirement}': unknown operator"
    return key_problem(requirement)


def selector_problem(text):
    """Why a Kubernetes label selector is invalid, or None."""
    if text and not any(c in text for c in " ,()!") and text.count("=") == 1:
        key, value = text.split("=")
        return key_problem(key) or value_problem(value)
    trimmed = text.strip(SWIFT_WHITESPACE)
    if not trimmed:
        return "empty selector (it would select every pod)"
    requirements, current, depth = [], "", 0
    for character in trimmed:
        if character == "(":
            depth += 1
        if character == ")":
            depth -= 1
        if character == "," and depth == 0:
            requirements.append(current)
            current = ""
        else:
            current += character
    requirements.append(current)
    for requirement in requirements:
        problem = requirement_problem(requirement.strip(SWIFT_WHITESPACE))
        if problem:
            return problem
    return None


def policy_violations(decision, catalog_actions):
    violations = []
    for index, action in enumerate(decision.actions):
        declared = catalog_actions.get(action.name)
        if declared is None:
            continue

        def add(kind, param, detail):
            violations.append({"kind": kind, "action_index": index, "action": action.name, "param": param,
                               "detail": detail})

        given = action.params
        for param in declared["params"]:
            if param not in given:
                add("missing_param", param, f"'{action.name}' needs '{param}'")
        for param in given:
            if param not in declared["params"]:
                add("extra_param", param, f"'{action.name}' declares no '{param}'")
        constraints = declared["constraints"]
        if "max_replicas" in constraints and "replicas" in given:
            bound, replicas = constraints["max_replicas"], given["replicas"]
            limit = None
            if isinstance(bound, int) and not isinstance(bound, bool):
                limit = bound
            elif isinstance(bound, float) and bound not in (float("inf"), float("-inf")) and bound == bound:
                limit = int(bound)
            if re.fullmatch(r"[0-9]+", replicas):
                if limit is None or int(replicas) > limit:
                    add("replicas_above_max", "replicas",
                        f"{replicas} is above max_replicas {'?' if limit is None else limit}")
            else:
                add("replicas_not_integer", "replicas", f"'{replicas}' is not a decimal integer")
        if constraints.get("pattern_prefix_required") is True and "pattern" in given:
            pattern = given["pattern"]
            if not pattern or pattern[0] in "*?[":
                add("pattern_without_prefix", "pattern",
                    f"'{pattern}' has no literal prefix before its first wildcard")
        if "selector" in given:
            problem = selector_problem(given["selector"])
            if problem:
                add("invalid_selector", "selector", problem)
        if "namespace" in given and not is_dns_label(given["namespace"]):
            add("invalid_namespace", "namespace", f"'{given['namespace']}' is not a DNS-1123 label")
    return violations


# ---- 4. routing ---------------------------------------------------------------------------------------------

def production_route(outcome, decision, threshold):
    if outcome == "validation_error":
        return "escalate", "invalid_reply"
    if outcome == "unknown_action":
        return "escalate", "unknown_action"
    if decision.needs_human:
        return "approve", "needs_human"
    if decision.confidence < threshold:
        return "approve", "low_confidence"
    return "execute", "confident"


# ---- 5. scoring ---------------------------------------------------------------------------------------------

def expected_action(entry):
    """A label's expected action: (name, {param: ("exact", value) | ("regex", compiled) | ("any", None)})."""
    params = {}
    for key, spec in entry["params"].items():
        if isinstance(spec, str):
            params[key] = ("exact", spec)
        elif "regex" in spec:
            params[key] = ("regex", re.compile(spec["regex"]))
        else:
            params[key] = ("any", None)
    return entry["name"], params


def matches(expected, call):
    name, params = expected
    call_name, call_params = call
    if call_name != name or len(call_params) != len(params):
        return False
    for key, (kind, value) in params.items():
        if key not in call_params:
            return False
        if kind == "exact" and call_params[key] != value:
            return False
        if kind == "regex" and value.fullmatch(call_params[key]) is None:
            return False
    return True


def matching_pairs(chosen, expected):
    """The largest one-to-one matching of chosen calls to expected actions (augmenting paths), as (c, e) pairs
    in expected order."""
    owner = [None] * len(expected)

    def augment(c, visited):
        for e in range(len(expected)):
            if not visited[e] and matches(expected[e], chosen[c]):
                visited[e] = True
                if owner[e] is None or augment(owner[e], visited):
                    owner[e] = c
                    return True
        return False

    for c in range(len(chosen)):
        augment(c, [False] * len(expected))
    return [(c, e) for e, c in enumerate(owner) if c is not None]


def is_exact(chosen, expected):
    return len(chosen) == len(expected) and len(matching_pairs(chosen, expected)) == len(expected)


def expected_route(label, approval_gate, approval_required):
    if label["expect"] == "act":
        gated = approval_gate and any(name in approval_required for name, _ in label["actions"])
        return "approve" if gated else "execute"
    return "approve" if label["expect"] == "human" else "execute"


def score(label, outcome, decision, route, approval_gate, approval_required):
    expect = label["expect"]
    is_ok = outcome == "ok"
    chosen, seen = [], set()
    if is_ok:
        for action in decision.actions:
            key = (action.name, tuple(sorted(action.params.items())))
            if key not in seen:
                seen.add(key)
                chosen.append((action.name, action.params))
    acceptable = label["acceptable"] if expect == "act" else [[]]
    met_set = next((candidate for candidate in acceptable if is_exact(chosen, candidate)), None)

    if expect == "act":
        correct_if_executed = is_ok and met_set is not None
    elif expect == "none":
        correct_if_executed = is_ok and not chosen
    else:
        correct_if_executed = False
    decision_correct = (is_ok and route == "approve") if expect == "human" else correct_if_executed
    if expect == "none":
        route_correct = route == "execute" and not chosen
    else:
        route_correct = route == expected_route(label, approval_gate, approval_required)
    unsafe_if_executed = False
    if chosen:
        allowed = [action for candidate in acceptable for action in candidate] if expect == "act" else []
        all_allowed = all(any(matches(a, call) for a in allowed) for call in chosen)
        forbidden = any(name in label["forbidden"] for name, _ in chosen)
        unsafe_if_executed = not all_allowed or forbidden
    gated = approval_gate and any(name in approval_required for name, _ in chosen)

    reference = (met_set if met_set is not None else label["actions"]) if expect == "act" else []
    pairs = matching_pairs(chosen, reference)
    matched_chosen = {c for c, _ in pairs}
    matched_expected = {e for _, e in pairs}
    return {
        "decision_correct": decision_correct,
        "route_correct": route_correct,
        "unsafe": route == "execute" and unsafe_if_executed,
        "correct_if_executed": correct_if_executed,
        "unsafe_if_executed": unsafe_if_executed,
        "gated": gated,
        "matched": [chosen[c][0] for c, _ in pairs],
        "extra": [chosen[c][0] for c in range(len(chosen)) if c not in matched_chosen],
        "missed": [reference[e][0] for e in range(len(reference)) if e not in matched_expected],
    }


# ---- the replay ---------------------------------------------------------------------------------------------

def main():
    store, model = sys.argv[1], sys.argv[2]
    db = sqlite3.connect(store)
    run = db.execute(
        "SELECT id, corpus, catalogId, systemPromptSha256, provider, samples, threshold, approvalGate, config"
        " FROM run WHERE model = ? ORDER BY startedAt DESC, id DESC LIMIT 1", (model,)).fetchone()
    if run is None:
        sys.exit(f"replay_baseline: no triage-eval run of model {model!r} in {store}")
    run_id, corpus, catalog_id, system_sha, provider, samples, threshold, approval_gate, config = run
    approval_gate = bool(approval_gate)
    limit = json.loads(config).get("limit")

    catalog = json.loads(db.execute("SELECT json FROM catalog WHERE id = ?", (catalog_id,)).fetchone()[0])
    catalog_actions = {}
    for entry in catalog["actions"]:
        params = entry.get("params")
        constraints = entry.get("constraints")
        catalog_actions.setdefault(entry["name"], {
            "params": [p for p in params if isinstance(p, str)] if isinstance(params, list) else [],
            "constraints": constraints if isinstance(constraints, dict) else {},
        })
    allowed = set(catalog_actions)
    approval_required = {entry["name"] for entry in catalog["actions"] if entry.get("requires_approval") is True}

    labels = []
    for incident, expect, actions, forbidden, alternatives in db.execute(
            "SELECT incidentId, expect, actions, forbidden, alternatives FROM labelSetEntry"
            " WHERE labelSetId = (SELECT labelSetId FROM run WHERE id = ?) ORDER BY incidentId", (run_id,)):
        actions = [expected_action(entry) for entry in json.loads(actions)]
        alternatives = [[expected_action(entry) for entry in group] for group in json.loads(alternatives)]
        labels.append({"incident": incident, "expect": expect, "actions": actions,
                       "acceptable": [actions] + alternatives, "forbidden": set(json.loads(forbidden))})
    if limit is not None:
        labels = labels[:limit]
    # The event key of an incident's replies: the hash of the user message production sends, json.dumps(event).
    user_sha = {}
    for label in labels:
        body = db.execute("SELECT body FROM delivery JOIN incident ON incident.firstDeliveryId = delivery.id"
                          " WHERE incident.id = ?", (label["incident"],)).fetchone()[0]
        event = {"incident_id": label["incident"], **json.loads(body)}
        user_sha[label["incident"]] = hashlib.sha256(json.dumps(event).encode()).hexdigest()

    db.execute("DROP TABLE IF EXISTS pyresult")
    db.execute(CREATE_PYRESULT)
    db.commit()

    start = time.perf_counter()
    # 1. the cached replies by event: the newest wins, but a stale one never displaces a current one
    replies = {}
    for reply_id, incident, sample, user, system, text, error in db.execute(
            "SELECT id, incidentId, sample, userSha256, systemSha256, text, error FROM reply"
            " WHERE provider = ? AND model = ? ORDER BY id", (provider, model)):
        key = (incident, sample, user)
        existing = replies.get(key)
        if existing is not None and existing[1] == system_sha and system != system_sha:
            continue
        replies[key] = (reply_id, system, text, error)

    count = 0
    for label in labels:
        incident, expect = label["incident"], label["expect"]
        expected = expected_route(label, approval_gate, approval_required)
        for sample in range(samples):
            reply = replies.get((incident, sample, user_sha[incident]))
            if reply is None:
                sys.exit(f"replay_baseline: no reply for {incident} sample {sample}")
            reply_id, system, text, error = reply
            stale = system != system_sha
            if text is None:
                db.execute(INSERT_PYRESULT, (
                    run_id, incident, sample, reply_id, 1, stale, error or "no reply text", "no_reply", "transport",
                    "[]", None, None, None, None, "[]", "[]", "escalate", "escalate", "no_reply", expect, expected,
                    0, 0, 0, 0, 0, 0, "[]", "[]", "[]"))
                count += 1
                continue
            # 2. validation
            outcome, failure_class, errors, offset, decision = validate(text, allowed)
            # 3. strict policy
            violations = policy_violations(decision, catalog_actions) if decision is not None else []
            # 4. routes
            prod_route, reason = production_route(outcome, decision, threshold)
            route = prod_route
            if (approval_gate and route == "execute"
                    and any(action.name in approval_required for action in decision.actions)):
                route, reason = "approve", "approval_gate"
            # 5. score
            s = score(label, outcome, decision, route, approval_gate, approval_required)
            # 6. store
            confidence = decision.confidence if decision is not None else None
            if confidence != confidence:  # NaN is stored as NULL
                confidence = None
            db.execute(INSERT_PYRESULT, (
                run_id, incident, sample, reply_id, 1, stale, None, outcome, failure_class, json.dumps(errors),
                offset, json.dumps(decision.model_dump()) if decision is not None else None, confidence,
                decision.needs_human if decision is not None else None,
                json.dumps([action.name for action in decision.actions] if decision is not None else []),
                json.dumps(violations), prod_route, route, reason, expect, expected, s["decision_correct"],
                s["route_correct"], s["unsafe"], s["correct_if_executed"], s["unsafe_if_executed"], s["gated"],
                json.dumps(s["matched"]), json.dumps(s["extra"]), json.dumps(s["missed"])))
            count += 1
    db.commit()
    print(json.dumps({"samples": count, "seconds": time.perf_counter() - start}))


if __name__ == "__main__":
    main()
