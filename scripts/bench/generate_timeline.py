#!/usr/bin/env python3
"""Generates a pipeline corpus for scripts/bench-pipeline: INCIDENTS alert groups of MESSAGES deliveries each, in
receive order over one production week — the first firing, then repeats (the last firing body again, byte for
byte) and updates (one more alert joins the group) in turn, and a resolved notification — with a receive-time
sidecar, one labelling rule, the seed's catalog, and one cached reply per distinct user message (the shape of real
history: many incidents, few messages and samples each).

Bodies are built like the real captures' (corpora/k8s-real): a webhook of version 4 with labels, annotations and
a generator URL per alert, in one of 97 namespaces. Replies: 90% valid decisions (restart_pods of the group's pods
in its namespace, confidence 0.5–0.95), 10% invalid JSON.
A deploy timeline (deploys.jsonl: a deploy of one of the alerts' 500 services every half hour) gives the
pipeline's deploy suppression something to match.

With WEEKS, the week's history goes on for longer at the same pace: INCIDENTS × WEEKS groups over WEEKS weeks, a
deploy every half hour throughout (a corpus whose messages grow while its incidents open and resolve at the same
rate; the first week's incidents are not the one-week corpus's).

    generate_timeline.py OUT_DIR INCIDENTS MESSAGES [WEEKS]
                                                    prints {"messages": n, "replies": r, "incidents": k}
"""
import hashlib
import json
import os
import random
import shutil
import sys
import time

out, per = sys.argv[1], int(sys.argv[3])
weeks = int(sys.argv[4]) if len(sys.argv) > 4 else 1
incidents = int(sys.argv[2]) * weeks
repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.makedirs(os.path.join(out, "deliveries"), exist_ok=True)
shutil.copy(os.path.join(repo, "corpora/handwritten/catalog.yaml"), os.path.join(out, "catalog.yaml"))
with open(os.path.join(out, "labels.yaml"), "w") as f:
    f.write("rules:\n  - match: {alertname: KubePodCrashLooping}\n    expect: human\n")
random.seed(7)
span = 7 * 86400 * weeks
start = 1_796_000_000.0


def alert(group, index, status, minute):
    pod = f"web-{group:06d}-{index}"
    return {"status": status,
            "labels": {"alertname": "KubePodCrashLooping", "cluster": "prod-eu1", "namespace": f"ns-{group % 97}",
                       "pod": pod, "container": "web", "service": f"svc-{group % 500}", "severity": "warning"},
            "annotations": {"description": f"Pod ns-{group % 97}/{pod} (web) is in waiting state (reason: "
                                           "\"CrashLoopBackOff\").",
                            "runbook_url": "https://runbooks.prometheus-operator.dev/runbooks/kubernetes/"
                                           "kubepodcrashlooping",
                            "summary": "Pod is crash looping."},
            "startsAt": f"2026-12-01T{minute // 60 % 24:02d}:{minute % 60:02d}:00.000Z",
            "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2026-12-08T00:00:00.000Z",
            "generatorURL": "https://prometheus.example.com/graph?g0.expr=max_over_time%28kube_pod_container_"
                            "status_waiting_reason%5B5m%5D%29+%3E%3D+1",
            "fingerprint": hashlib.sha256(pod.encode()).hexdigest()[:16]}


def body(group, alerts, status):
    key = '{}/{severity="warning"}:{alertname="KubePodCrashLooping", namespace="ns-%d", pod="web-%06d"}' % (
        group % 97, group)
    return {"receiver": "sre-webhook", "status": status, "alerts": alerts,
            "groupLabels": {"alertname": "KubePodCrashLooping", "namespace": f"ns-{group % 97}"},
            "commonLabels": {"alertname": "KubePodCrashLooping", "cluster": "prod-eu1", "severity": "warning"},
            "commonAnnotations": {"summary": "Pod is crash looping."},
            "externalURL": "http://alertmanager.example.com:9093", "version": "4", "groupKey": key,
            "truncatedAlerts": 0}


def incident_id(payload):
    earliest = min(a["startsAt"] for a in payload["alerts"] if a["status"] == "firing")
    text = payload["receiver"] + "\n" + payload["groupKey"] + "\n" + earliest
    return "inc-" + hashlib.sha256(text.encode()).hexdigest()[:16]


messages = []  # (time, line)
distinct = {}  # (incident, user sha) -> the group
for group in range(incidents):
    minute = random.randrange(0, 60 * 24)
    t = start + random.uniform(0, span - per * 900)
    alerts = [alert(group, 0, "firing", minute)]
    first = body(group, alerts, "firing")
    incident = incident_id(first)
    current = first
    sequence = [first]
    for step in range(1, per - 1):
        if step % 2 == 1:
            sequence.append(current)  # a repeat: the same bytes again
        else:
            alerts = alerts + [alert(group, len(alerts), "firing", minute)]
            current = body(group, alerts, "firing")
            sequence.append(current)
    if per > 1:
        sequence.append(body(group, [dict(a, status="resolved", endsAt="2026-12-08T00:00:00.000Z") for a in alerts],
                             "resolved"))
    for payload in sequence:
        line = json.dumps(payload, separators=(",", ":"))
        messages.append((t, line))
        event = {"incident_id": incident, **payload}
        distinct[(incident, hashlib.sha256(json.dumps(event).encode()).hexdigest())] = group
        t += random.uniform(240, 900)
messages.sort()
with open(os.path.join(out, "deliveries", "timeline.jsonl"), "w") as bodies, \
        open(os.path.join(out, "deliveries", "timeline.headers.jsonl"), "w") as times:
    for seq, (t, line) in enumerate(messages, 1):
        bodies.write(line + "\n")
        times.write('{"seq": %d, "recv_unix": %.3f}\n' % (seq, t))
with open(os.path.join(out, "replies-bench.jsonl"), "w") as f:
    for index, ((incident, sha), group) in enumerate(distinct.items()):
        if index % 10 == 9:
            text = '{"incident_id": "%s", "actions": [' % incident
        else:
            text = json.dumps({"incident_id": incident, "actions": [
                {"name": "restart_pods", "params": {"namespace": f"ns-{group % 97}", "selector": f"app=web-{group:06d}"},
                 "rationale": "crash loop"}], "confidence": 0.5 + (index % 10) * 0.05, "needs_human": False})
        f.write(json.dumps({"incident_id": incident, "sample": 0, "provider": "openai", "model": "bench",
                            "text": text, "user_sha256": sha, "usage": {"input_tokens": 1500, "output_tokens": 60}})
                + "\n")
# A deploy timeline for the pipeline's deploy suppression: a deploy of one of the services every half hour of the
# corpus's weeks, 5 to 20 minutes long.
with open(os.path.join(out, "deploys.jsonl"), "w") as f:
    for index in range(int(span / 1800)):
        begin = start + index * 1800 + random.uniform(0, 600)
        end = begin + random.uniform(300, 1200)

        def stamp(t):
            return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % int(t % 1 * 1000)

        f.write(json.dumps({"service": f"svc-{random.randrange(500)}", "namespace": None, "cluster": "prod-eu1",
                            "start": stamp(begin), "end": stamp(end), "revision": f"r{index}"}) + "\n")
print(json.dumps({"messages": len(messages), "replies": len(distinct), "incidents": incidents}))
