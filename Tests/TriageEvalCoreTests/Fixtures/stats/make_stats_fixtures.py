#!/usr/bin/env python3
"""Writes stats-cases.json: the expected values of every statistic triage-eval reports, computed with SciPy,
scikit-learn and NumPy — not with triage-eval's code.

Run from this folder with those packages installed (versions are recorded in the output):

    python3 -m venv /tmp/statsvenv && /tmp/statsvenv/bin/pip install scipy scikit-learn numpy
    /tmp/statsvenv/bin/python make_stats_fixtures.py

Conventions checked here, as triage-eval documents them:
- Wilson interval: scipy.stats.binomtest(k, n).proportion_ci(method="wilson") (no continuity correction).
- One-sided exact binomial test: scipy.stats.binomtest(k, n, p, alternative="greater").pvalue.
- Exact McNemar: the binomial test of the discordant pairs at p = 1/2, one-sided each way, two-sided as SciPy's.
- AUROC: sklearn.metrics.roc_auc_score (ties count half).
- Brier: sklearn.metrics.brier_score_loss.
- Equal-mass bins: sklearn.calibration.calibration_curve(strategy="quantile"), counts from the same edges.
- Equal-width bins: [k/B, (k+1)/B), the last closed — numpy.digitize(x, edges[1:-1], right=False), which puts
  0.7 in [0.7, 0.8). (scikit-learn's "uniform" strategy closes bins on the right instead.)
- ECE = sum over non-empty bins of n_b/N * |accuracy_b - mean confidence_b|; MCE = the largest such gap.
- Paired bootstrap: SplitMix64 seeded, index = (x * n) >> 64, NumPy's default (linear) percentiles.
- Cluster bootstrap: the same draws, one per cluster (incident); the ratio of the drawn clusters' sums. Several
  rates share one set of draws; a resample where a rate has no row is left out of its percentiles.
"""
import json
import random

import numpy as np
import scipy
import sklearn
from scipy.stats import binomtest
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss, roc_auc_score

MASK = (1 << 64) - 1


def splitmix64(seed):
    state = seed
    while True:
        state = (state + 0x9E3779B97F4A7C15) & MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        yield z ^ (z >> 31)


def bootstrap(differences, resamples, seed):
    n = len(differences)
    generator = splitmix64(seed)
    means = []
    for _ in range(resamples):
        total = 0
        for _ in range(n):
            total += differences[(next(generator) * n) >> 64]
        means.append(total / n)
    means = np.array(means)
    return {
        "delta": sum(differences) / n,
        "lower": float(np.percentile(means, 2.5)),
        "upper": float(np.percentile(means, 97.5)),
    }


def cluster_bootstrap(totals, counts, resamples, seed):
    """Resamples whole clusters (incidents): one index per cluster, as the paired bootstrap draws them; the
    statistic is the ratio of sums."""
    n = len(totals)
    generator = splitmix64(seed)
    ratios = []
    for _ in range(resamples):
        total = count = 0
        for _ in range(n):
            index = (next(generator) * n) >> 64
            total += totals[index]
            count += counts[index]
        ratios.append(total / count if count else 0.0)
    ratios = np.array(ratios)
    return {
        "delta": sum(totals) / sum(counts),
        "lower": float(np.percentile(ratios, 2.5)),
        "upper": float(np.percentile(ratios, 97.5)),
    }


def cluster_rates(rates, clusters, resamples, seed):
    """Several rates over one set of drawn clusters: each resample draws `clusters` cluster indices; a rate's
    value is the sum of its hits over the drawn clusters (a cluster drawn twice counting twice) divided by the sum
    of its rows; a resample where the rate has no row is left out of its percentiles."""
    generator = splitmix64(seed)
    values = [[] for _ in rates]
    for _ in range(resamples):
        drawn = [(next(generator) * clusters) >> 64 for _ in range(clusters)]
        for k, rate in enumerate(rates):
            by_cluster = {c: (h, r) for c, h, r in zip(rate["cluster"], rate["hits"], rate["rows"])}
            hits = sum(by_cluster[c][0] for c in drawn if c in by_cluster)
            rows = sum(by_cluster[c][1] for c in drawn if c in by_cluster)
            if rows:
                values[k].append(hits / rows)
    out = []
    for rate, v in zip(rates, values):
        out.append({**rate, "lower": float(np.percentile(v, 2.5)), "upper": float(np.percentile(v, 97.5))})
    return out


def equal_width(conf, correct, bins):
    conf = np.asarray(conf, dtype=float)
    correct = np.asarray(correct, dtype=float)
    edges = np.array([k / bins for k in range(bins + 1)])
    ids = np.digitize(conf, edges[1:-1], right=False)
    rows = []
    for b in range(bins):
        mask = ids == b
        count = int(mask.sum())
        rows.append({
            "count": count,
            "meanConfidence": float(conf[mask].mean()) if count else None,
            "accuracy": float(correct[mask].mean()) if count else None,
        })
    return rows


def gaps(rows, total):
    filled = [r for r in rows if r["count"]]
    ece = sum(r["count"] / total * abs(r["accuracy"] - r["meanConfidence"]) for r in filled)
    mce = max(abs(r["accuracy"] - r["meanConfidence"]) for r in filled)
    return ece, mce


def equal_mass(conf, correct, bins):
    conf = np.asarray(conf, dtype=float)
    correct = np.asarray(correct, dtype=float)
    prob_true, prob_pred = calibration_curve(correct, conf, n_bins=bins, strategy="quantile") if len(
        set(correct)) > 1 else (None, None)
    edges = np.percentile(conf, np.linspace(0, 1, bins + 1) * 100)
    ids = np.searchsorted(edges[1:-1], conf)
    counts = np.bincount(ids, minlength=bins)
    sums = np.bincount(ids, weights=conf, minlength=bins)
    trues = np.bincount(ids, weights=correct, minlength=bins)
    nonzero = counts != 0
    rows = [{"count": int(c), "meanConfidence": float(s / c), "accuracy": float(t / c)}
            for c, s, t in zip(counts[nonzero], sums[nonzero], trues[nonzero])]
    if prob_true is not None:  # scikit-learn's own numbers, to be sure the counts above follow its edges
        assert np.allclose(prob_true, [r["accuracy"] for r in rows], rtol=0, atol=1e-12)
        assert np.allclose(prob_pred, [r["meanConfidence"] for r in rows], rtol=0, atol=1e-12)
    return rows


def calibration_case(name, conf, correct, bins=10, threshold=0.7):
    width = equal_width(conf, correct, bins)
    mass = equal_mass(conf, correct, bins)
    ece, mce = gaps(width, len(conf))
    ece_mass, mce_mass = gaps(mass, len(conf))
    wrong = [c for c, ok in zip(conf, correct) if not ok]
    return {
        "name": name,
        "confidence": conf,
        "correct": correct,
        "bins": bins,
        "threshold": threshold,
        "equalWidth": width,
        "equalMass": mass,
        "ece": ece,
        "mce": mce,
        "eceEqualMass": ece_mass,
        "mceEqualMass": mce_mass,
        "brier": float(brier_score_loss(correct, conf)) if len(set(correct)) > 1 else float(
            np.mean((np.asarray(conf) - np.asarray(correct, dtype=float)) ** 2)),
        "auroc": float(roc_auc_score(correct, conf)) if len(set(correct)) > 1 else None,
        "confidentErrors": sum(1 for c in wrong if c >= threshold),
        "errors": len(wrong),
    }


def main():
    rng = random.Random(7)
    verbal = [0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0]
    ties = [rng.choice(verbal) for _ in range(300)]
    ties_correct = [rng.random() < c - 0.1 for c in ties]
    continuous = [round(rng.random(), 6) for _ in range(500)]
    continuous_correct = [rng.random() < c for c in continuous]
    calibration = [
        calibration_case("verbalised ties", ties, ties_correct),
        calibration_case("continuous", continuous, continuous_correct),
        calibration_case("empty bins", [0.9, 0.9, 0.95, 0.1, 0.92], [True, False, True, False, True]),
        calibration_case("all correct", [0.6, 0.7, 0.7, 0.8, 0.9], [True] * 5),
        calibration_case("all wrong", [0.6, 0.7, 0.7, 0.8, 0.9], [False] * 5),
        calibration_case("one value", [0.8] * 7, [True, True, False, True, False, True, True]),
        calibration_case("edges", [0.0, 0.1, 0.3, 0.7, 1.0, 0.69999, 0.2], [False, False, True, True, True,
                                                                              False, True], bins=5,
                         threshold=0.3),
    ]
    for case in calibration:
        case["correct"] = [bool(x) for x in case["correct"]]

    wilson = []
    for k, n in [(0, 1), (1, 1), (0, 10), (3, 10), (10, 10), (1, 200), (6, 32), (18, 32), (5, 1000),
                 (4999, 1000000), (123456, 1000000)]:
        ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
        wilson.append({"k": k, "n": n, "lower": float(ci.low), "upper": float(ci.high)})

    binomial = []
    for k, n, p in [(0, 10, 0.3), (1, 10, 0.3), (3, 10, 0.3), (10, 10, 0.3), (6, 32, 0.005), (1, 200, 0.005),
                    (2, 200, 0.005), (0, 200, 0.005), (5, 1000, 0.005), (9, 1000, 0.005), (15, 1000, 0.005),
                    (520, 100000, 0.005), (5400, 1000000, 0.005), (4900, 1000000, 0.005), (7, 7, 0.5),
                    (40, 100, 0.5), (60, 100, 0.5), (1, 1, 0.999)]:
        binomial.append({"k": k, "n": n, "p": p,
                         "pGreater": float(binomtest(k, n, p, alternative="greater").pvalue)})

    mcnemar = []
    for worse, better in [(0, 0), (1, 0), (5, 0), (5, 1), (3, 3), (10, 2), (2, 10), (30, 18), (120, 95)]:
        n = worse + better
        mcnemar.append({
            "worse": worse, "better": better,
            "pWorse": float(binomtest(worse, n, 0.5, alternative="greater").pvalue) if n else 1.0,
            "pBetter": float(binomtest(better, n, 0.5, alternative="greater").pvalue) if n else 1.0,
            "pTwoSided": float(binomtest(worse, n, 0.5).pvalue) if n else 1.0,
        })

    auroc = []
    for name, scores, labels in [
        ("ties", [0.7, 0.7, 0.8, 0.8, 0.9, 0.9, 0.7, 0.8], [1, 0, 1, 1, 0, 1, 0, 0]),
        ("perfect", [0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]),
        ("inverted", [0.1, 0.2, 0.8, 0.9], [1, 1, 0, 0]),
        ("all tied", [0.5] * 6, [1, 0, 1, 0, 0, 1]),
        ("random", [round(rng.random(), 3) for _ in range(400)], [rng.random() < 0.6 for _ in range(400)]),
    ]:
        auroc.append({"name": name, "scores": scores, "labels": [bool(x) for x in labels],
                      "auroc": float(roc_auc_score(labels, scores))})

    boot = []
    for name, differences, resamples, seed in [
        ("small", [1, 0, 0, -1, 1, 1, 0, 0, 0, -1], 200, 1),
        ("no change", [0] * 50, 100, 42),
        ("mixed", [rng.choice([-1, 0, 0, 0, 1]) for _ in range(300)], 500, 20261129),
    ]:
        boot.append({"name": name, "differences": differences, "resamples": resamples, "seed": seed,
                     **bootstrap(differences, resamples, seed)})

    clusters = []
    cluster_rng = random.Random(7)
    two = [cluster_rng.choice([-2, -1, 0, 0, 0, 1, 2]) for _ in range(120)]
    uneven_counts = [cluster_rng.choice([1, 2, 3]) for _ in range(80)]
    uneven = [cluster_rng.randint(-c, c) for c in uneven_counts]
    for name, totals, counts, resamples, seed in [
        ("two samples each", two, [2] * len(two), 500, 20261129),
        ("uneven clusters", uneven, uneven_counts, 300, 3),
        ("one sample each", boot[0]["differences"], [1] * len(boot[0]["differences"]), 200, 1),
    ]:
        clusters.append({"name": name, "totals": totals, "counts": counts, "resamples": resamples, "seed": seed,
                         **cluster_bootstrap(totals, counts, resamples, seed)})

    rates_rng = random.Random(11)
    cluster_sets = []
    for name, cluster_count, resamples, seed, sparse in [
        ("two samples each", 60, 400, 20261129, False),
        ("a subset of the clusters", 90, 300, 5, True),
    ]:
        rates = []
        for k in range(3):
            chosen = sorted(rates_rng.sample(range(cluster_count), cluster_count // 3)) if sparse else list(range(cluster_count))
            rows = [rates_rng.choice([1, 2, 2, 3]) for _ in chosen]
            hits = [rates_rng.randint(0, r) for r in rows]
            rates.append({"name": f"rate {k}", "cluster": chosen, "hits": hits, "rows": rows})
        cluster_sets.append({"name": name, "clusters": cluster_count, "resamples": resamples, "seed": seed,
                             "rates": cluster_rates(rates, cluster_count, resamples, seed)})

    quantiles = []
    for values in [[0.5, 0.6, 0.7, 0.7, 0.9], [0.1 * i for i in range(11)], [0.8] * 4 + [0.9] * 3]:
        for q in [0.0, 0.1, 0.25, 0.3, 0.5, 0.7, 0.9, 1.0]:
            quantiles.append({"values": sorted(values), "q": q,
                              "value": float(np.percentile(values, q * 100))})

    out = {
        "generator": "make_stats_fixtures.py",
        "versions": {"numpy": np.__version__, "scipy": scipy.__version__, "scikit-learn": sklearn.__version__},
        "wilson": wilson,
        "binomialUpperTail": binomial,
        "mcnemar": mcnemar,
        "auroc": auroc,
        "calibration": calibration,
        "bootstrap": boot,
        "clusterBootstrap": clusters,
        "clusterRates": cluster_sets,
        "quantile": quantiles,
    }
    with open("stats-cases.json", "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
