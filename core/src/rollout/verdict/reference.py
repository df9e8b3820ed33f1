"""Where the verdict's numbers come from (not run by the tests).

`python3 reference.py` prints scipy's Mann-Whitney results for the data
sets that `tests.rs` holds as constants (SCIPY). `python3 reference.py
calibrate` reruns the simulation that chose which effects count when a
result is not significant (the module doc of verdict.rs): the share of
fail (F), significant marginal (M), insignificant marginal (m) and pass (P)
over equal and shifted cohorts. Needs scipy and numpy (pip install scipy).
"""

import sys

import numpy as np
from scipy.stats import mannwhitneyu, norm

SETS = {
    "apart": ([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]),
    "ties": ([1, 2, 2, 3, 3, 3, 4], [2, 3, 3, 4, 4, 5, 5, 6]),
    "fractions": ([0.5, 1.5, 1.5, 2.0, 7.25, 3.0], [1.5, 1.5, 2.0, 2.0, 9.0]),
    "mostly_zero": ([0, 0, 0, 1, 0, 2, 0, 0], [0, 0, 1, 0, 0, 0, 0, 0, 0, 3]),
    "signed_zeros": ([-1.0, -0.0, 0.0, 2.5], [0.0, 0.0, -3.0, 2.5, 2.5]),
    "equal": ([1, 2, 3, 4], [4, 3, 2, 1]),
}


def test(c, b):
    return mannwhitneyu(c, b, alternative="two-sided", use_continuity=True, method="asymptotic")


def references():
    rng = np.random.default_rng(17)
    sets = dict(SETS, integers=(list(rng.integers(0, 8, 30)), list(rng.integers(1, 9, 25))))
    for name, (c, b) in sets.items():
        r = test(c, b)
        z = np.sign(r.statistic - len(c) * len(b) / 2) * norm.isf(r.pvalue / 2)
        print(name, [float(x) for x in c], [float(x) for x in b],
              repr(float(r.statistic)), repr(float(r.pvalue)), repr(float(z)))


def relative(c, b):
    return (c - b) / abs(b) if b != 0 else (0.0 if c == 0 else None)


def classify(c, b, median_when_insignificant, alpha=0.05, max_shift=0.147, max_change=0.10):
    """The decision table for a lower-is-better metric."""
    r = test(c, b)
    shift = 2 * r.statistic / (len(c) * len(b)) - 1
    p = r.pvalue if np.isfinite(r.pvalue) else 1.0
    median = relative(np.median(c), np.median(b))
    changes = [x for x in (median, relative(c.mean(), b.mean())) if x is not None]
    large = shift > max_shift or any(x > max_change for x in changes)
    if p < alpha and shift > 0:
        return "F" if large else "M"
    worrying = shift > max_shift or (median_when_insignificant and median is not None and median > max_change)
    return "m" if worrying else "P"


def calibrate():
    rng = np.random.default_rng(1)
    models = {
        "normal": lambda n, s: rng.normal(100 * (1 + s), 20, n),
        "lognormal": lambda n, s: rng.lognormal(np.log(50 * (1 + s)), 0.8, n),
        "errors 1%": lambda n, s: (rng.random(n) < 0.01 * (1 + 10 * s)).astype(float),
        "poisson 3": lambda n, s: rng.poisson(3 * (1 + s), n).astype(float),
    }
    for shift in [0.0, 0.03, 0.15]:
        for name, model in models.items():
            for n in [50, 200, 1000]:
                for with_median in [True, False]:
                    counts = {"F": 0, "M": 0, "m": 0, "P": 0}
                    for _ in range(200):
                        counts[classify(model(n, shift), model(n, 0), with_median)] += 1
                    print(f"shift {shift} {name:10s} n={n:5d} median when insignificant: {with_median!s:5s} {counts}")


if __name__ == "__main__":
    calibrate() if sys.argv[1:] == ["calibrate"] else references()
