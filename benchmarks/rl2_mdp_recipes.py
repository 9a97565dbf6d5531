"""Which RL² training recipe learns fastest on the random tabular MDPs (n = 10)? A screen (chapter 7).

Trains the agent with each recipe of :data:`RECIPES` — the shipped recipe
(``RL2_RECIPES["tabular_n10"]``) with one change each — for the same short run (``--iterations``,
the entropy bonus annealed 0.01 → 0 over it, seed 0) and evaluates it on 1,000 validation MDPs (seed
7, never the test seed): mean total reward ± 95 % CI over a trial of 10 episodes, actions sampled.
A screen, not the full training: what it ranks is how fast each recipe starts to learn.

Recipes:

- ``shipped``: the shipped recipe (128 GRU units, Adam 2e-3, γ = 1, λ = 0.95, mean-reward returns);
- ``sampled_returns``: returns from the sampled rewards instead of the means μ(s, a);
- ``paper_discount``: γ = 0.99 and λ = 0.3, the RL² paper's;
- ``gru256``: 256 GRU units (the paper's width) with Adam 1e-3;
- ``lr_annealed``: Adam's step size annealed linearly to 0 with the entropy bonus;
- ``task_baseline``: the oracle's reward-to-go added to the critic (a task-aware baseline: the trainer
  drew the MDP);
- ``task_baseline_lam1``: the same with Monte-Carlo returns (λ = 1), which keep the gradient unbiased.

Usage::

    .venv/bin/python benchmarks/rl2_mdp_recipes.py --json benchmarks/results/rl2_mdp_recipes.json   # ~20 min, 2 cores
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Any

from _report import machine_info, utc_now, write_report  # benchmarks/ is on sys.path when a script runs

from metalearn_lib import seed_everything
from metalearn_lib.meta_rl_mdps import RL2_RECIPES, evaluate_rl2_mdp
from metalearn_lib.rl import train_a2c

#: recipe name → the changes to the shipped tabular config.
RECIPES: dict[str, dict[str, Any]] = {
    "shipped": {},
    "sampled_returns": {"expected_rewards": False},
    "paper_discount": {"gamma": 0.99, "lam": 0.3},
    "gru256": {"hidden_size": 256, "learning_rate": 1e-3},
    "lr_annealed": {"learning_rate_final": 0.0},
    "task_baseline": {"task_baseline": True},
    "task_baseline_lam1": {"task_baseline": True, "lam": 1.0},
}
VALIDATION_SEED, EVALUATION_SEED = 7, 8


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=4000, help="iterations per recipe (default 4000)")
    parser.add_argument("--recipes", nargs="+", default=list(RECIPES), choices=list(RECIPES))
    parser.add_argument("--mdps", type=int, default=1000, help="validation MDPs")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH", help="write rows as JSON (+ .md table)")
    args = parser.parse_args(argv)
    seed_everything(0)
    recipe = RL2_RECIPES["tabular_n10"]
    env = recipe.env
    tasks = env.sample_tasks(args.mdps, VALIDATION_SEED)
    rows = []
    for name in args.recipes:
        config = dataclasses.replace(recipe.config, entropy_anneal_iterations=args.iterations, **RECIPES[name])
        result = train_a2c(env, config, num_iterations=args.iterations)
        evaluation = evaluate_rl2_mdp(result.params, "tabular_n10", tasks=tasks, seed=EVALUATION_SEED)
        rows.append({"recipe": name, "changes": RECIPES[name], "iterations": args.iterations,
                     "mean_reward": evaluation.mean_return, "ci95": evaluation.ci95, "wall_s": result.wall_s})
        print(f"{name:20s} {evaluation.mean_return:6.1f} ± {evaluation.ci95:.1f}  ({result.wall_s:.0f} s)", flush=True)
    command = ("python benchmarks/rl2_mdp_recipes.py " + " ".join(sys.argv[1:] if argv is None else argv)).strip()
    lines = [f"RL² recipes on random tabular MDPs, n = 10: mean total reward ± 95 % CI on {args.mdps} validation "
             f"MDPs after {args.iterations:,} iterations. `{command}`", "", "| recipe | change | reward | train time |",
             "|---|---|---|---|"]
    lines += [f"| {r['recipe']} | {r['changes'] or '—'} | {r['mean_reward']:.1f} ± {r['ci95']:.1f} | "
              f"{r['wall_s']:.0f} s |" for r in rows]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.json is not None:
        write_report(args.json, {"rows": rows, "command": command, "validation_seed": VALIDATION_SEED,
                                 "machine": machine_info(), "date": utc_now()}, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
