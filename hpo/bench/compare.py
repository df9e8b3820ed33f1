#!/usr/bin/env python3
"""Optimizer quality: ArqonHPO against random search and Optuna's TPE.

For Branin and the noisy quadratic (spaces: bench/branin.toml and
bench/quadratic.toml), over seeds 0..S-1, each method gets N evaluations;
the figure is the best *true* (noise-free) value among the points it
evaluated, after 25 and after N evaluations: median and quartiles.

Ours runs through the real `arqonbus-hpo ask-tell` binary (auto = random
warm-up then the GP, and --algo random). Optuna's TPESampler runs with its
defaults and with multivariate=True. Every method sees the same noise
sequence for a given seed (noise is drawn per evaluation index).

Run it through bench/compare.sh, which makes the venv and builds the binary.
"""

import argparse
import json
import math
import random
import statistics
import subprocess
import sys
from pathlib import Path

import optuna

HERE = Path(__file__).resolve().parent


def branin(p):
    x1, x2 = p["x1"], p["x2"]
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1 * x1 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


def quadratic(p):
    return (p["x"] - 1.3) ** 2 + 0.25 * (p["n"] - 3) ** 2 + (math.log10(p["lr"]) + 2) ** 2


OBJECTIVES = {
    # name: (true function, noise sd, optimum, Optuna's suggest calls)
    "branin": (
        branin,
        0.0,
        0.397887,
        lambda t: {"x1": t.suggest_float("x1", -5, 10), "x2": t.suggest_float("x2", 0, 15)},
    ),
    "quadratic": (
        quadratic,
        1.0,
        0.0,
        lambda t: {
            "x": t.suggest_float("x", -5, 5),
            "n": t.suggest_int("n", -10, 10),
            "lr": t.suggest_float("lr", 1e-4, 1.0, log=True),
        },
    ),
}


class Noise:
    """The same N(0, sd) sequence for every method under one seed."""

    def __init__(self, seed, sd):
        self.rng, self.sd = random.Random(1_000_003 * seed + 17), sd

    def __call__(self):
        return self.rng.gauss(0, self.sd) if self.sd > 0 else 0.0


def curve(trues):
    best, out = math.inf, []
    for v in trues:
        best = min(best, v)
        out.append(best)
    return out


def run_ours(binary, name, seed, budget, algo):
    f, sd, _, _ = OBJECTIVES[name]
    noise = Noise(seed, sd)
    cmd = [binary, "ask-tell", "--space", str(HERE / f"{name}.toml"),
           "--seed", str(seed), "--budget", str(budget), "--algo", algo]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    trues = []
    for line in proc.stdout:
        msg = json.loads(line)
        if "done" in msg:
            break
        if "error" in msg:
            raise RuntimeError(f"engine error: {msg}")
        true = f(msg["parameters"])
        trues.append(true)
        proc.stdin.write(json.dumps({"id": msg["id"], "value": true + noise()}) + "\n")
        proc.stdin.flush()
    proc.stdin.close()
    if proc.wait() != 0:
        raise RuntimeError(f"{cmd} exited {proc.returncode}")
    return curve(trues)


def run_optuna(name, seed, budget, multivariate):
    f, sd, _, suggest = OBJECTIVES[name]
    noise = Noise(seed, sd)
    trues = []

    def objective(trial):
        p = suggest(trial)
        true = f(p)
        trues.append(true)
        return true + noise()

    sampler = optuna.samplers.TPESampler(seed=seed, multivariate=multivariate)
    study = optuna.create_study(sampler=sampler, direction="minimize")
    study.optimize(objective, n_trials=budget)
    return curve(trues)


def quartiles(values):
    q1, med, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return med, q1, q3


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--binary", required=True)
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--budget", type=int, default=50)
    ap.add_argument("--early", type=int, default=25)
    ap.add_argument("--json", help="also write every curve here")
    args = ap.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    methods = {
        "arqonbus-hpo (auto: GP-EI)": lambda n, s: run_ours(args.binary, n, s, args.budget, "auto"),
        "arqonbus-hpo random": lambda n, s: run_ours(args.binary, n, s, args.budget, "random"),
        "Optuna TPE (default)": lambda n, s: run_optuna(n, s, args.budget, False),
        "Optuna TPE (multivariate)": lambda n, s: run_optuna(n, s, args.budget, True),
    }
    curves = {}
    for name, (_, sd, optimum, _) in OBJECTIVES.items():
        print(f"\n{name}: optimum {optimum}, noise sd {sd}, {args.seeds} seeds;"
              " best true value (median [q1, q3])")
        print(f"{'method':30} {'after ' + str(args.early):>30} {'after ' + str(args.budget):>30}")
        for method, run in methods.items():
            runs = [run(name, seed) for seed in range(args.seeds)]
            curves[f"{name}/{method}"] = runs
            cells = []
            for n in (args.early, args.budget):
                med, q1, q3 = quartiles([r[n - 1] for r in runs])
                cells.append(f"{med:.4f} [{q1:.4f}, {q3:.4f}]")
            print(f"{method:30} {cells[0]:>30} {cells[1]:>30}", flush=True)
        ours = curves[f"{name}/arqonbus-hpo (auto: GP-EI)"]
        tpe = curves[f"{name}/Optuna TPE (default)"]
        for n in (args.early, args.budget):
            wins = sum(o[n - 1] < t[n - 1] for o, t in zip(ours, tpe))
            print(f"  after {n}: ours better than default TPE on {wins} of {args.seeds} seeds")
    if args.json:
        Path(args.json).write_text(json.dumps(curves))


if __name__ == "__main__":
    sys.exit(main())
