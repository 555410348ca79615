#!/usr/bin/env python3
"""Baselines for scripts/bench-report: plain Python loops over `triage-eval export --format csv` output.

  report RESULTS.csv [BINS]   the report's headline numbers: replies (transport failures apart), invalid JSON
                              (empty + wrapped + truncated + syntax) count and rate, decision and route accuracy,
                              unsafe executions, equal-width ECE (BINS bins, default 10) and Brier over ok
                              decisions with a finite confidence in [0, 1], correct = decision_correct.
  compare A.csv B.csv [RESAMPLES] [SEED]
                              what `triage-eval compare` computes from the pairs: pairs with a reply in both runs,
                              accuracy of each, worse/better flips (McNemar's counts) — in a plain loop — and,
                              when NumPy is installed, the paired bootstrap of accuracy(B) − accuracy(A) with the
                              very draws triage-eval makes (SplitMix64, index = high 64 bits of draw × n), each
                              draw an incident with all its pairs (the runs have several samples per incident),
                              vectorised in NumPy (a plain Python loop of 10^8 draws would take minutes).

Prints one JSON object; "seconds" is the loop's own time (reading the CSV included), "bootstrapSeconds" NumPy's.
"""
import csv
import json
import math
import sys
import time

INVALID = {"empty", "wrapped", "truncated", "syntax"}


def report(path, bins=10):
    start = time.perf_counter()
    replies = invalid = decision_correct = route_correct = unsafe = 0
    counts = [0] * bins
    confidence_sums = [0.0] * bins
    correct_counts = [0] * bins
    brier_sum = 0.0
    included = 0
    edges = [k / bins for k in range(bins + 1)]
    with open(path, newline="") as f:
        rows = csv.reader(f)
        header = next(rows)
        col = {name: i for i, name in enumerate(header)}
        fc, conf, dc, rc, un = (col[k] for k in
                                ("failure_class", "confidence", "decision_correct", "route_correct", "unsafe"))
        for row in rows:
            failure = row[fc]
            if failure == "transport":
                continue
            replies += 1
            if failure in INVALID:
                invalid += 1
            correct = row[dc] == "true"
            decision_correct += correct
            route_correct += row[rc] == "true"
            unsafe += row[un] == "true"
            if failure != "ok" or not row[conf]:
                continue
            c = float(row[conf])
            if not math.isfinite(c) or not 0 <= c <= 1:
                continue
            b = bins - 1
            while b > 0 and c < edges[b]:
                b -= 1
            counts[b] += 1
            confidence_sums[b] += c
            correct_counts[b] += correct
            outcome = 1.0 if correct else 0.0
            brier_sum += (c - outcome) * (c - outcome)
            included += 1
    ece = 0.0
    for b in range(bins):
        if counts[b]:
            ece += counts[b] / included * abs(correct_counts[b] / counts[b] - confidence_sums[b] / counts[b])
    return {"seconds": time.perf_counter() - start, "replies": replies, "invalid": invalid,
            "invalidRate": invalid / replies if replies else None, "decisionCorrect": decision_correct,
            "decisionAccuracy": decision_correct / replies if replies else None, "routeCorrect": route_correct,
            "routeAccuracy": route_correct / replies if replies else None, "unsafeExecutions": unsafe,
            "included": included, "ece": ece if included else None, "brier": brier_sum / included if included else None}


def compare(path_a, path_b, resamples=1000, seed=20261129):
    start = time.perf_counter()

    def load(path):
        with open(path, newline="") as f:
            rows = csv.reader(f)
            header = next(rows)
            i, s, fc, dc = (header.index(k) for k in ("incident_id", "sample", "failure_class", "decision_correct"))
            return {f"{row[i]}#{row[s]}": row[dc] == "true" for row in rows if row[fc] != "transport"}

    a, b = load(path_a), load(path_b)
    differences = []
    correct_a = correct_b = worse = better = 0
    for key in sorted(a):
        if key not in b:
            continue
        x, y = a[key], b[key]
        correct_a += x
        correct_b += y
        differences.append(y - x)
        if x and not y:
            worse += 1
        elif y and not x:
            better += 1
    result = {"seconds": time.perf_counter() - start, "pairs": len(differences), "correctA": correct_a,
              "correctB": correct_b, "worse": worse, "better": better}
    try:
        import numpy as np
    except ImportError:
        return result
    start = time.perf_counter()
    # With several samples per incident triage-eval resamples incidents: a draw picks an incident, which brings all
    # its pairs (the mean difference is Σ drawn totals / Σ drawn pair counts). With one sample each, the two agree.
    totals, counts, incidents = [], [], {}
    for key, difference in zip((k for k in sorted(a) if k in b), differences):
        incident = key.rsplit("#", 1)[0]
        if incident not in incidents:
            incidents[incident] = len(totals)
            totals.append(0)
            counts.append(0)
        totals[incidents[incident]] += difference
        counts[incidents[incident]] += 1
    order = sorted(incidents)
    totals = np.array([totals[incidents[i]] for i in order], dtype=np.int64)
    counts = np.array([counts[incidents[i]] for i in order], dtype=np.int64)
    n = len(order)
    golden, m1, m2 = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
    low32, n64 = np.uint64(0xFFFFFFFF), np.uint64(n)
    means = np.empty(resamples)
    chunk = max(1, 2_000_000 // n)
    with np.errstate(over="ignore"):
        for first in range(0, resamples, chunk):
            count = min(chunk, resamples - first)
            # The k-th draw (from 1) of SplitMix64 seeded s is mix(s + k·golden).
            k = np.arange(first * n + 1, (first + count) * n + 1, dtype=np.uint64)
            z = np.uint64(seed) + k * golden
            z = (z ^ (z >> np.uint64(30))) * m1
            z = (z ^ (z >> np.uint64(27))) * m2
            z ^= z >> np.uint64(31)
            # high 64 bits of z·n (n < 2^32): (hi·n + (lo·n >> 32)) >> 32
            index = ((z >> np.uint64(32)) * n64 + (((z & low32) * n64) >> np.uint64(32))) >> np.uint64(32)
            drawn = index.astype(np.int64)
            means[first:first + count] = (totals[drawn].reshape(count, n).sum(axis=1)
                                          / counts[drawn].reshape(count, n).sum(axis=1))
    means.sort()
    lower, upper = np.percentile(means, [2.5, 97.5])
    result.update(bootstrapSeconds=time.perf_counter() - start, delta=sum(differences) / len(differences),
                  lower=float(lower),
                  upper=float(upper), resamples=resamples)
    return result


if __name__ == "__main__":
    if sys.argv[1] == "report":
        print(json.dumps(report(sys.argv[2], *(int(a) for a in sys.argv[3:4]))))
    else:
        print(json.dumps(compare(sys.argv[2], sys.argv[3], *(int(a) for a in sys.argv[4:6]))))
