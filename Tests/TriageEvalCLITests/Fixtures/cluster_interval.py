"""An independent cluster bootstrap, in plain Python (no NumPy on the CI machine), for the end-to-end tests.

Reads a JSON object from argv[1]: {"clusters": [[hits, rows], ...], "resamples": B, "seed": S} and prints
{"lower": …, "upper": …}. Each resample draws len(clusters) cluster indices with SplitMix64 (index = (x * n) >> 64);
the rate of a resample is the drawn clusters' hits over their rows (a resample without rows is skipped); the
interval is the 2.5th and 97.5th percentile with linear interpolation between order statistics (NumPy's default:
position (m - 1) * q). Written from those definitions, not from triage-eval's code.
"""
import json
import sys

MASK = (1 << 64) - 1


def splitmix64(seed):
    state = seed
    while True:
        state = (state + 0x9E3779B97F4A7C15) & MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        yield z ^ (z >> 31)


def percentile(values, q):
    values = sorted(values)
    position = (len(values) - 1) * q
    below = int(position)
    if below + 1 >= len(values):
        return values[-1]
    fraction = position - below
    return values[below] + (values[below + 1] - values[below]) * fraction


def main():
    spec = json.loads(sys.argv[1])
    clusters = spec["clusters"]
    n = len(clusters)
    draws = splitmix64(spec["seed"])
    rates = []
    for _ in range(spec["resamples"]):
        hits = rows = 0
        for _ in range(n):
            h, r = clusters[(next(draws) * n) >> 64]
            hits += h
            rows += r
        if rows:
            rates.append(hits / rows)
    print(json.dumps({"lower": percentile(rates, 0.025), "upper": percentile(rates, 0.975)}))


main()
