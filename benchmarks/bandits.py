"""Chapter 5 benchmark: Bernoulli bandits — every baseline, the Bayes-optimal limit and RL².

Reproduces the set-up of Duan et al. (2016), table 1: bandits with k arms whose means are drawn
p_a ~ U[0, 1], trials of n pulls, average total reward over 1000 trials (here: 1000 test bandits,
seed 1,000,000, the same bandits and the same reward draws for every baseline). For each (n, k):

- baselines of :mod:`metalearn_lib.bandits.policies`: random, greedy, ε-greedy, UCB1 (every arm
  once first, and started from the prior's counts), Thompson sampling, Gittins; ε and c tuned over
  {0, 0.1, …, 1} and γ over {0.9, 0.95, 0.99} on 1000 separate validation bandits (seed 1), as
  the paper tuned its baselines;
- the exact Bayes-optimal policy (:mod:`metalearn_lib.bandits.bayes_optimal`) where the dynamic
  program is tractable: its exact expected total reward V* and its simulated reward;
- RL² (:mod:`metalearn_lib.bandits.rl2`): trained here with the configuration of
  :data:`RL2_CONFIGS` (or, with ``--shipped``, the weights shipped with the library), then played
  on the same 1000 test bandits (its own reward draws, seeded).

Usage::

    python benchmarks/bandits.py --quick --json benchmarks/results/bandits_quick.json
    python benchmarks/bandits.py --json benchmarks/results/bandits_full.json
    python benchmarks/bandits.py --pulls 10 --arms 5 --json benchmarks/results/bandits_n10_k5.json

``--json PATH`` writes rows ``{"arms", "pulls", "policy", "mean_reward", "ci95"}`` and the RL²
training wall times as JSON, and the markdown table (beside the published one) to ``PATH`` with
the suffix ``.md``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

from _report import write_report  # benchmarks/ is on sys.path when a script runs
from train_rl2 import DEFAULTS

from metalearn_lib import seed_everything, tf  # tf: TensorFlow, imported quietly
from metalearn_lib.bandits import (
    PARAMETER_GRID,
    BayesOptimalPolicy,
    BernoulliBandits,
    EpsilonGreedyPolicy,
    GittinsPolicy,
    GreedyPolicy,
    RandomPolicy,
    ThompsonPolicy,
    UCB1Policy,
    bayes_optimal_solver,
    count_states,
    run_policy,
    tune_policy,
)
from metalearn_lib.bandits.rl2 import (
    PUBLISHED_RL2,
    evaluate_rl2,
    load_pretrained_rl2,
    pretrained_rl2_path,
    train_rl2,
)

#: The (n, k) the issue asks for, in this order.
CONFIGS: tuple[tuple[int, int], ...] = ((10, 5), (10, 10), (100, 5), (100, 10), (100, 2))
#: Duan et al. (2016), table 1 (n, k) → {policy: average total reward}.
PUBLISHED: dict[tuple[int, int], dict[str, float]] = {
    (10, 5): {"random": 5.0, "Gittins": 6.6, "Thompson": 5.7, "UCB1": 6.7, "ε-greedy": 6.6, "greedy": 6.6,
              "RL²": 6.7},
    (10, 10): {"random": 5.0, "Gittins": 6.6, "Thompson": 5.5, "UCB1": 6.7, "ε-greedy": 6.6, "greedy": 6.6,
               "RL²": 6.7},
    (100, 5): {"random": 49.9, "Gittins": 78.3, "Thompson": 74.7, "UCB1": 78.0, "ε-greedy": 75.4, "greedy": 74.8,
               "RL²": 78.7},
    (100, 10): {"random": 49.9, "Gittins": 82.8, "Thompson": 76.7, "UCB1": 82.4, "ε-greedy": 77.4,
                "greedy": 77.1, "RL²": 83.5},
}
#: RL² training configuration per (n, k): keyword arguments of ``train_rl2``, the same as the shipped
#: agents' (``benchmarks/train_rl2.py``); ``--quick`` divides the iterations by 10.
RL2_CONFIGS: dict[tuple[int, int], dict[str, Any]] = DEFAULTS
TEST_SEED = 1_000_000
VALIDATION_SEED = 1
GAMMAS = (0.9, 0.95, 0.99)
#: Short labels used in the table and matched to the published columns.
LABELS = {"random": "random", "greedy": "greedy", "epsilon": "ε-greedy", "ucb1": "UCB1",
          "ucb1_prior": "UCB1 from the prior", "thompson": "Thompson", "gittins": "Gittins",
          "bayes": "Bayes-optimal", "rl2": "RL²"}


def _tuned(make: Any, values: Any, bandits: BernoulliBandits, num_pulls: int, num_bandits: int) -> tuple[Any, Any]:
    best, _ = tune_policy(make, values, bandits, num_pulls, num_bandits=num_bandits, seed=VALIDATION_SEED)
    return make(best), best


def run_config(num_pulls: int, num_arms: int, args: argparse.Namespace) -> dict[str, Any]:
    """Every policy on one (n, k); returns rows, tuned parameters and RL² training details."""
    bandits = BernoulliBandits(num_arms)
    num_bandits = 200 if args.quick else 1000
    means = bandits.sample_means(num_bandits, seed=TEST_SEED).numpy()
    policies: dict[str, Any] = {"random": RandomPolicy(), "greedy": GreedyPolicy()}
    tuned: dict[str, Any] = {}
    policies["epsilon"], tuned["epsilon"] = _tuned(EpsilonGreedyPolicy, PARAMETER_GRID, bandits, num_pulls, num_bandits)
    policies["ucb1"], tuned["ucb1"] = _tuned(UCB1Policy, PARAMETER_GRID, bandits, num_pulls, num_bandits)
    policies["ucb1_prior"], tuned["ucb1_prior"] = _tuned(lambda c: UCB1Policy(c, prior=True), PARAMETER_GRID,
                                                         bandits, num_pulls, num_bandits)
    policies["thompson"] = ThompsonPolicy()
    policies["gittins"], tuned["gittins"] = _tuned(GittinsPolicy, GAMMAS, bandits, num_pulls, num_bandits)
    states = count_states(num_arms, num_pulls)
    exact = None
    if states <= 10_000_000:
        policies["bayes"] = BayesOptimalPolicy(num_arms, num_pulls)
        exact = bayes_optimal_solver(num_arms, num_pulls).expected_total_reward()
    rows = []
    for name, policy in policies.items():
        result = run_policy(policy, means, num_pulls, seed=2)
        rows.append({"arms": num_arms, "pulls": num_pulls, "policy": name, "mean_reward": result.mean_total_reward,
                     "ci95": result.ci95})
        print(f"(n={num_pulls}, k={num_arms}) {LABELS[name]}: {result.mean_total_reward:.3f} ± {result.ci95:.3f}",
              flush=True)
    training: dict[str, Any] = {}
    if not args.skip_rl2:
        if args.shipped:
            if not pretrained_rl2_path(num_arms, num_pulls).exists():
                print(f"(n={num_pulls}, k={num_arms}) RL²: no shipped agent, skipped", flush=True)
                return {"rows": rows, "tuned": tuned, "bayes_optimal_value": exact, "bayes_optimal_states": states,
                        "rl2_training": {"source": "no shipped agent (not evaluated)"}, "test_bandits": num_bandits}
            params = load_pretrained_rl2(num_arms, num_pulls).params
            training = {"source": f"shipped weights {pretrained_rl2_path(num_arms, num_pulls).name}"}
        else:
            config = dict(RL2_CONFIGS[(num_pulls, num_arms)])
            if args.quick:
                config["num_iterations"] = max(1, config["num_iterations"] // 10)
            result = train_rl2(num_arms, num_pulls, seed=args.seed, progress=args.progress, **config)
            params = result.params
            training = {"source": "trained by this run", "wall_s": result.wall_s,
                        "iterations_per_s": result.iterations_per_s, "config": result.config}
        evaluation = evaluate_rl2(params, num_arms, num_pulls, num_bandits=num_bandits, seed=TEST_SEED)
        rows.append({"arms": num_arms, "pulls": num_pulls, "policy": "rl2", "mean_reward": evaluation.mean_reward,
                     "ci95": evaluation.ci95})
        print(f"(n={num_pulls}, k={num_arms}) RL²: {evaluation.mean_reward:.3f} ± {evaluation.ci95:.3f} "
              f"({training.get('wall_s', 0):.0f} s of training)", flush=True)
    return {"rows": rows, "tuned": tuned, "bayes_optimal_value": exact, "bayes_optimal_states": states,
            "rl2_training": training, "test_bandits": num_bandits}


def markdown(results: dict[str, Any], command: str) -> str:
    lines = [f"Command: `{command}`", "",
             "Average total reward over the test bandits (mean ± 95 % CI = 1.96·std/√B); published: Duan et al. "
             "(2016), table 1. Tuned parameters in brackets.", ""]
    for key, result in results["configs"].items():
        n, k = (int(v) for v in key.split(","))
        published = PUBLISHED.get((n, k), {})
        lines += [f"### n = {n} pulls, k = {k} arms ({result['test_bandits']} test bandits)", "",
                  "| policy | mean total reward | published |", "|---|---|---|"]
        for row in result["rows"]:
            name = row["policy"]
            label = LABELS[name]
            if name in result["tuned"]:
                label += f" [{result['tuned'][name]:g}]"
            pub_key = {"epsilon": "ε-greedy", "ucb1_prior": "UCB1", "thompson": "Thompson", "gittins": "Gittins",
                       "random": "random", "greedy": "greedy", "rl2": "RL²"}.get(name)
            pub = published.get(pub_key) if pub_key else None
            lines.append(f"| {label} | {row['mean_reward']:.2f} ± {row['ci95']:.2f} | "
                         f"{'—' if pub is None else pub} |")
        if result["bayes_optimal_value"] is not None:
            rl2 = [r for r in result["rows"] if r["policy"] == "rl2"]
            gap = (f"; RL² is at {100 * rl2[0]['mean_reward'] / result['bayes_optimal_value']:.1f} % of it"
                   if rl2 else "")
            lines += ["", f"Exact Bayes-optimal expected total reward V* = {result['bayes_optimal_value']:.3f} "
                          f"({result['bayes_optimal_states']:,} exchangeable states){gap}."]
        else:
            lines += ["", f"Bayes-optimal: not computed ({result['bayes_optimal_states']:.2g} exchangeable states)."]
        if result["rl2_training"]:
            t = result["rl2_training"]
            if "wall_s" in t:
                keys = ("num_iterations", "hidden_size", "batch_size", "learning_rate", "gamma", "lam")
                shown = {key: t["config"][key] for key in keys if key in t["config"]}
                lines += [f"RL² training: {t['wall_s']:.0f} s ({t['iterations_per_s']:.1f} it/s), "
                          f"config {json.dumps(shown)}."]
            else:
                lines += [f"RL²: {t['source']}."]
        lines.append("")
    lines.append(f"TensorFlow {tf.__version__}, {os.cpu_count()} CPU cores, {platform.machine()}, "
                 f"{_dt.datetime.now(_dt.UTC).isoformat(timespec='seconds')}.")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="200 test bandits, a tenth of the RL² iterations")
    parser.add_argument("--arms", type=int, default=None, help="only this k (with --pulls)")
    parser.add_argument("--pulls", type=int, default=None, help="only this n (with --arms)")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH", help="write rows as JSON (+ .md table)")
    parser.add_argument("--seed", type=int, default=0, help="RL² training seed")
    parser.add_argument("--shipped", action="store_true", help="evaluate the shipped RL² agents; train none")
    parser.add_argument("--skip-rl2", action="store_true", help="baselines and Bayes-optimal only")
    parser.add_argument("--no-progress", dest="progress", action="store_false", help="no tqdm progress bars")
    args = parser.parse_args(argv)
    if (args.arms is None) != (args.pulls is None):
        parser.error("--arms and --pulls go together")
    configs = [(args.pulls, args.arms)] if args.arms is not None else list(CONFIGS)
    for n, k in configs:
        if (n, k) not in RL2_CONFIGS and not args.skip_rl2 and not args.shipped:
            parser.error(f"no RL² configuration for n={n}, k={k}: add one to RL2_CONFIGS or pass --skip-rl2")
    seed_everything(args.seed)
    start = time.perf_counter()
    results = {"configs": {f"{n},{k}": run_config(n, k, args) for n, k in configs}}
    results["wall_s"] = time.perf_counter() - start
    results["published"] = {f"{n},{k}": v for (n, k), v in PUBLISHED.items()}
    results["published_rl2"] = {f"{n},{k}": v for (n, k), v in PUBLISHED_RL2.items()}
    command = "benchmarks/bandits.py " + " ".join(sys.argv[1:] if argv is None else argv)
    text = markdown(results, command.strip())
    print(text)
    if args.json is not None:
        write_report(args.json, results, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
