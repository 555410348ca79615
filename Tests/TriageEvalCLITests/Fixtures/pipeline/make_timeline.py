#!/usr/bin/env python3
"""Writes a small hand-built pipeline corpus for PipelineReplayTests: seven deliveries of two alert groups, a
receive-time sidecar that orders them differently from the file, a 60x time scale, labels, and one reply per
message written with production's own semantics in Python (independently of triage-eval):

  incident id   "inc-" + sha256(receiver LF groupKey LF earliest firing startsAt)[:16]
  event         {"incident_id": id, **body}          user message  json.dumps(event)

    make_timeline.py CORPUS_DIR [--no-sidecar] [--stragglers]
    make_timeline.py CORPUS_DIR --extra-replies SYSTEM_SHA256     writes replies-extra.jsonl only (see the end)

The timeline (recorded seconds after 1000; production time is 60x):

  line  body                      recv   kind      reply (sample)                      production route
  2     B firing                  0      first     not JSON (0)                        escalate
  1     A firing                  10     first     restart_pods 0.9 (0)                execute
  3     A firing (same bytes)     20     repeat    needs_human (1)                     approve
  4     A firing + a second alert 30     update    confidence 0.5 (0)                  approve
  5     A firing (same bytes)     40     repeat    sample 0 again: reused              execute
  6     A resolved                120    resolved  restart_pods 0.9 (0)                execute
  7     B resolved                180    resolved  incident_id "inc-other", 0.3 (0)   approve

With --stragglers, two more lines: A's first body again after A resolved (a late HTTP retry), and a resolved
body of a group C that never fired here (the corpus starts mid-incident: no incident takes it), received at the
same second as line 7 (a tie: file order decides):

  8     A firing (same bytes)     150    repeat    4th planning, sample 3 mod 2 = 1:   approve
                                                   needs_human (1), reused
  9     C resolved                180    resolved  not planned (no incident)
"""
import hashlib
import json
import os
import sys

out = sys.argv[1]
sidecar = "--no-sidecar" not in sys.argv
stragglers = "--stragglers" in sys.argv
os.makedirs(os.path.join(out, "deliveries"), exist_ok=True)


def alert(name, fingerprint, status, starts, ends="0001-01-01T00:00:00Z"):
    return {"status": status, "labels": {"alertname": name, "namespace": "shop", "pod": fingerprint},
            "annotations": {"summary": name + " on " + fingerprint}, "startsAt": starts, "endsAt": ends,
            "generatorURL": "http://prometheus/graph", "fingerprint": fingerprint}


def body(name, group, status, alerts):
    return {"receiver": "sre", "status": status, "alerts": alerts,
            "groupLabels": {"alertname": name}, "commonLabels": {"alertname": name, "namespace": "shop"},
            "commonAnnotations": {}, "externalURL": "http://alertmanager", "version": "4",
            "groupKey": group, "truncatedAlerts": 0}


ga = '{}:{alertname="KubePodCrashLooping"}'
gb = '{}:{alertname="RedisDown"}'
a1 = alert("KubePodCrashLooping", "a1", "firing", "2026-12-01T10:00:00Z")
a2 = alert("KubePodCrashLooping", "a2", "firing", "2026-12-01T10:01:00Z")
b1 = alert("RedisDown", "b1", "firing", "2026-12-01T09:59:00Z")
a_firing = body("KubePodCrashLooping", ga, "firing", [a1])
a_update = body("KubePodCrashLooping", ga, "firing", [a1, a2])
a_resolved = body("KubePodCrashLooping", ga, "resolved",
                  [dict(a1, status="resolved", endsAt="2026-12-01T12:00:00Z"),
                   dict(a2, status="resolved", endsAt="2026-12-01T12:00:00Z")])
b_firing = body("RedisDown", gb, "firing", [b1])
b_resolved = body("RedisDown", gb, "resolved", [dict(b1, status="resolved", endsAt="2026-12-01T13:00:00Z")])
c_resolved = body("NodeDown", '{}:{alertname="NodeDown"}', "resolved",
                  [alert("NodeDown", "c1", "resolved", "2026-12-01T08:00:00Z", "2026-12-01T10:00:00Z")])

# File order, and each line's receive time (recorded seconds after 1000).
lines = [(a_firing, 10), (b_firing, 0), (a_firing, 20), (a_update, 30), (a_firing, 40), (a_resolved, 120),
         (b_resolved, 180)] + ([(a_firing, 150), (c_resolved, 180)] if stragglers else [])
with open(os.path.join(out, "deliveries", "timeline.jsonl"), "w") as f:
    for payload, _ in lines:
        f.write(json.dumps(payload, separators=(",", ":")) + "\n")
if sidecar:
    with open(os.path.join(out, "deliveries", "timeline.headers.jsonl"), "w") as f:
        for seq, (_, at) in enumerate(lines, 1):
            f.write(json.dumps({"seq": seq, "recv_unix": 1000 + at}) + "\n")

with open(os.path.join(out, "corpus.yaml"), "w") as f:
    f.write("time_scale: 60\n")
with open(os.path.join(out, "labels.yaml"), "w") as f:
    f.write("rules:\n"
            "  - match: {alertname: KubePodCrashLooping}\n"
            "    expect: act\n"
            "    actions: [{name: restart_pods, params: {namespace: shop, selector: {any: true}}}]\n"
            "  - match: {alertname: RedisDown}\n"
            "    expect: human\n")


def incident_id(payload):
    earliest = min((a for a in payload["alerts"] if a["status"] == "firing"), key=lambda a: a["startsAt"])
    text = payload["receiver"] + "\n" + payload["groupKey"] + "\n" + earliest["startsAt"]
    return "inc-" + hashlib.sha256(text.encode()).hexdigest()[:16]


def user_sha(payload, incident):
    # The stored body is the line's exact bytes: json.loads of them gives this dict, key order kept.
    event = {"incident_id": incident, **payload}
    return hashlib.sha256(json.dumps(event).encode()).hexdigest()


ia = incident_id(a_firing)
ib = incident_id(b_firing)


def decision(incident, confidence, needs_human, actions):
    return json.dumps({"incident_id": incident, "actions": actions, "confidence": confidence,
                       "needs_human": needs_human})


restart = [{"name": "restart_pods", "params": {"namespace": "shop", "selector": "app=web"}, "rationale": "loop"}]
replies = [
    (ia, a_firing, 0, decision(ia, 0.9, False, restart)),
    (ia, a_firing, 1, decision(ia, 0.9, True, restart)),
    (ia, a_update, 0, decision(ia, 0.5, False, restart)),
    (ia, a_resolved, 0, decision(ia, 0.9, False, restart)),
    (ib, b_firing, 0, "I think Redis is down."),
    (ib, b_resolved, 0, decision("inc-other", 0.3, False, [])),
]
if "--extra-replies" in sys.argv:
    # Later replies, each newer than every reply above: to A's update, a stale one (no system prompt recorded, as
    # all above) that replaces the older stale one, confidence 0.95 (execute, was approve at 0.5); to A's resolved
    # message, one under the current system prompt (needs_human: approve), then a newer stale one (0.91, execute)
    # that must not displace it.
    current = sys.argv[sys.argv.index("--extra-replies") + 1]
    extra = [(ia, a_update, decision(ia, 0.95, False, restart), None),
             (ia, a_resolved, decision(ia, 0.9, True, restart), current),
             (ia, a_resolved, decision(ia, 0.91, False, restart), None)]
    with open(os.path.join(out, "replies-extra.jsonl"), "w") as f:
        for number, (incident, payload, text, system) in enumerate(extra, 1):
            # Each its own request (another prompt, another recording), so that the cache holds them side by side.
            line = {"incident_id": incident, "sample": 0, "provider": "openai", "model": "fixture", "text": text,
                    "user_sha256": user_sha(payload, incident), "request_sha256": "%064x" % number,
                    "usage": {"input_tokens": 100, "output_tokens": 10}}
            if system:
                line["system_sha256"] = system
            f.write(json.dumps(line) + "\n")
    sys.exit(0)
with open(os.path.join(out, "replies-timeline.jsonl"), "w") as f:
    for incident, payload, sample, text in replies:
        f.write(json.dumps({"incident_id": incident, "sample": sample, "provider": "openai", "model": "fixture",
                            "text": text, "user_sha256": user_sha(payload, incident),
                            "usage": {"input_tokens": 100, "output_tokens": 10}}) + "\n")
print(json.dumps({"a": ia, "b": ib}))
