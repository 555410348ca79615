#!/usr/bin/env python3
"""Generates N distinct, realistic Alertmanager webhook bodies (JSON Lines) by varying the real captured ones.

Each group of the captured run (its sequence of deliveries: first flush, repeats, partial resolves, resolve) is
replayed under a new identity: the service label, the group key, the fingerprints and the start times are
rewritten per copy, so every copy is a new incident with the same shape. Repeats stay byte-identical, as real
repeats are (about a third of the captured POSTs), so the output exercises deduplication too.

usage: generate_deliveries.py N OUT.jsonl [CAPTURED.jsonl]
"""
import hashlib
import json
import re
import sys

n = int(sys.argv[1])
out_path = sys.argv[2]
source = sys.argv[3] if len(sys.argv) > 3 else "corpora/handwritten/deliveries/alertmanager-0.25-loopback-run3-exact-bytes.jsonl"

bodies = [line.rstrip("\n") for line in open(source, encoding="utf-8") if line.strip()]
groups = {}
for body in bodies:
    key = json.loads(body)["groupKey"]
    groups.setdefault(key, []).append(body)
flows = list(groups.values())

fingerprint = re.compile(r'"fingerprint":"([0-9a-f]{16})"')
starts = re.compile(r'"startsAt":"2026-11-29T(\d\d):(\d\d):(\d\d)')

written = 0
copy = 0
with open(out_path, "w", encoding="utf-8") as out:
    while written < n:
        for flow in flows:
            tag = f"{copy:07d}"
            for body in flow:
                if written >= n:
                    break
                varied = body.replace('service\\":\\"', f'service\\":\\"c{tag}-').replace(
                    '"service":"', f'"service":"c{tag}-').replace('alertname=\\"', f'alertname=\\"c{tag}')
                varied = fingerprint.sub(
                    lambda m: '"fingerprint":"' + hashlib.sha256((m.group(1) + tag).encode()).hexdigest()[:16] + '"',
                    varied)
                day = 1 + (copy // 1000) % 28
                varied = starts.sub(lambda m: f'"startsAt":"2026-10-{day:02d}T{m.group(1)}:{m.group(2)}:{m.group(3)}', varied)
                out.write(varied + "\n")
                written += 1
            copy += 1
            if written >= n:
                break
print(f"generated {written} deliveries ({copy} incident copies)", file=sys.stderr)
