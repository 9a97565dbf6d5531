"""Which RL² training recipe learns to explore at n = 100 pulls? An ablation (chapter 5).

Trains the same agent (64 GRU units, batch 128, seed 0) on (n = 100, k) Bernoulli bandit trials
with each recipe of :data:`RECIPES` for the same number of iterations (entropy bonus 0.01 → 0 over
the run) and evaluates it every third of the way on validation bandits (seed 7, never the test
seed): mean total reward ± 95 % CI with the policy sampled, and the policy's mean entropy at the
end. The greedy policy and the tuned Gittins policy (γ = 0.99) play the same bandits for scale.

Recipes (what each changes from the one before is what it tests):

- ``gamma0.9``: γ = 0.9, λ = 0.3, Adam 3e-3 — the short discount that works at n = 10;
- ``gamma0.99``: γ = 0.99, λ = 0.3, Adam 3e-3 — the RL² paper's discount with A2C;
- ``gamma1_lam1``: γ = 1, λ = 1 (Monte-Carlo returns), standardised advantages, critic in units
  of 40, Adam 2e-3 — the true objective, unbiased and noisy;
- ``gamma1_lam0.95``: the same with λ = 0.95 — a little bootstrapping from the critic;
- ``expected``: the same with returns from the pulled arms' means (``expected_rewards``) —
  the shipped agents' recipe (``benchmarks/train_rl2.py``).

Usage::

    .venv/bin/python benchmarks/rl2_recipes.py --json benchmarks/results/rl2_recipes.json   # ~15 min, 2 cores
    .venv/bin/python benchmarks/rl2_recipes.py --iterations 300 --recipes gamma0.9 expected --json /tmp/r.json
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import platform
import sys
from pathlib import Path
from typing import Any

import numpy as np
from _report import write_report  # benchmarks/ is on sys.path when a script runs
from train_rl2 import DEFAULTS

from metalearn_lib import seed_everything, tf  # tf: TensorFlow, imported quietly
from metalearn_lib.bandits import BernoulliBandits, GittinsPolicy, GreedyPolicy, run_policy
from metalearn_lib.bandits.rl2 import evaluate_rl2, train_rl2

COMMON: dict[str, Any] = dict(hidden_size=64, batch_size=128, entropy_coef=0.01, entropy_coef_final=0.0)
MONTE_CARLO: dict[str, Any] = dict(learning_rate=2e-3, gamma=1.0, lam=1.0, value_scale=40.0,
                                   normalize_advantages=True)
#: name → the keyword arguments of ``train_rl2`` that define the recipe.
RECIPES: dict[str, dict[str, Any]] = {
    "gamma0.9": dict(learning_rate=3e-3, gamma=0.9, lam=0.3),
    "gamma0.99": dict(learning_rate=3e-3, gamma=0.99, lam=0.3),
    "gamma1_lam1": MONTE_CARLO,
    "gamma1_lam0.95": {**MONTE_CARLO, "lam": 0.95},
    "expected": {**MONTE_CARLO, "lam": 0.95, "expected_rewards": True},
}
# the last recipe is the shipped agents' one: the same settings as train_rl2's (100, 5) defaults
assert {**COMMON, **RECIPES["expected"]} == {k: v for k, v in DEFAULTS[(100, 5)].items() if k != "num_iterations"}
VALIDATION_SEED = 7


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Train and evaluate every chosen recipe; returns the JSON-ready results."""
    checkpoints = sorted({max(1, args.iterations * i // 3) for i in (1, 2, 3)})
    rows = []
    for name in args.recipes:
        seed_everything(args.seed)
        result, done, curve = None, 0, []
        for stop in checkpoints:
            kwargs = {**COMMON, **RECIPES[name], "entropy_anneal_iterations": args.iterations}
            result = train_rl2(args.arms, 100, num_iterations=stop - done, seed=args.seed, resume=result,
                               progress=args.progress, **kwargs)
            done = stop
            ev = evaluate_rl2(result.params, args.arms, 100, num_bandits=args.eval_bandits, seed=VALIDATION_SEED)
            curve.append({"iteration": stop, "mean_reward": ev.mean_reward, "ci95": ev.ci95})
            print(f"{name:15s} {stop:6d} iterations: {ev.mean_reward:.2f} ± {ev.ci95:.2f}", flush=True)
        assert result is not None
        rows.append({"recipe": name, "config": result.config, "curve": curve,
                     "final_entropy": float(np.mean(result.entropies[-100:]))})
    means = BernoulliBandits(args.arms).sample_means(args.eval_bandits, VALIDATION_SEED).numpy()
    references = {}
    for label, policy in (("greedy", GreedyPolicy()), ("Gittins (γ = 0.99)", GittinsPolicy(0.99))):
        trial = run_policy(policy, means, 100, seed=2)
        references[label] = {"mean_reward": trial.mean_total_reward, "ci95": trial.ci95}
    return {"arms": args.arms, "pulls": 100, "iterations": args.iterations, "seed": args.seed,
            "eval_bandits": args.eval_bandits, "validation_seed": VALIDATION_SEED, "rows": rows,
            "references": references,
            "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "platform": {"tensorflow": tf.__version__, "cpus": os.cpu_count(), "machine": platform.machine()}}


def markdown(results: dict[str, Any], command: str) -> str:
    """The ablation as a markdown table."""
    its = [point["iteration"] for point in results["rows"][0]["curve"]] if results["rows"] else []
    lines = [f"Command: `{command}`", "",
             f"RL² at n = 100, k = {results['arms']}: mean total reward ± 95 % CI on {results['eval_bandits']:,} "
             f"validation bandits (seed {results['validation_seed']}), policy sampled, after each number of "
             f"iterations; entropy in nats at the end.", "",
             "| recipe | " + " | ".join(f"{i:,} it" for i in its) + " | final entropy |",
             "|---|" + "---|" * (len(its) + 1)]
    for row in results["rows"]:
        cells = " | ".join(f"{p['mean_reward']:.2f} ± {p['ci95']:.2f}" for p in row["curve"])
        lines.append(f"| {row['recipe']} | {cells} | {row['final_entropy']:.3f} |")
    lines += ["", "On the same bandits: " + "; ".join(f"{label} {ref['mean_reward']:.2f} ± {ref['ci95']:.2f}"
                                                     for label, ref in results["references"].items()) + ".",
              "", f"TensorFlow {results['platform']['tensorflow']}, {results['platform']['cpus']} CPU cores, "
              f"{results['date']}.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arms", type=int, default=5, help="k")
    parser.add_argument("--iterations", type=int, default=6000, help="training iterations per recipe")
    parser.add_argument("--recipes", nargs="+", choices=list(RECIPES), default=list(RECIPES))
    parser.add_argument("--eval-bandits", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None, metavar="PATH", help="write JSON (+ .md table)")
    parser.add_argument("--progress", action="store_true", help="tqdm progress bars")
    args = parser.parse_args(argv)
    if args.iterations < 1 or args.eval_bandits < 2:
        parser.error("--iterations must be ≥ 1 and --eval-bandits ≥ 2")
    results = run(args)
    text = markdown(results, "benchmarks/rl2_recipes.py " + " ".join(sys.argv[1:] if argv is None else argv))
    print(text)
    if args.json is not None:
        write_report(args.json, results, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
