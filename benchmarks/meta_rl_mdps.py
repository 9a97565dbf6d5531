"""Chapter 7's limits and baselines on MDPs: RL² Table 2's tabular MDPs and VariBAD's gridworld.

**Random tabular MDPs** (Duan et al. 2016, Table 2: 10 states, 5 actions, episodes of 10 steps from
state 0, rewards N(μ, 1) with μ ~ N(1, 1), transitions ~ Dirichlet(1)): mean total reward over a
trial of n episodes ± 95 % CI on ``--mdps`` test MDPs (seed 0; outcomes drawn with seed 2, the same
for every policy), for ``random``, ``greedy``, ``epsilon_greedy``, ``psrl``, ``ucrl2`` and the
``oracle`` (value iteration on the true MDP, played; ``oracle_exact`` is n·V₀(0) exactly). ε and
UCRL2's width scale c are tuned on ``--tune-mdps`` validation MDPs (seed 1). The policies that hold a
belief use the MDPs' true prior (N(1, 1), Dirichlet(1)); the ``*_paper_prior`` rows use the priors
the RL² paper's baselines ran with (TabulaRL's defaults: PSRL with N(0, 1) on the reward means,
greedy and ε-greedy with a vanishing prior, ε tuned without 0), which reproduce its table.

**Gridworld** (Zintgraf et al. 2020: 5 × 5, goal uniform over 21 cells, 4 episodes of 15 steps):
the exact expected return of the ``bayes_optimal`` policy (dynamic programming over belief states),
of ``posterior_sampling`` and of ``random``, with the Bayes-optimal return per episode.

Usage::

    .venv/bin/python benchmarks/meta_rl_mdps.py --quick --json /tmp/meta_rl_mdps_quick.json   # ~15 s
    .venv/bin/python benchmarks/meta_rl_mdps.py --json benchmarks/results/meta_rl_mdps_full.json   # ~2 min

``--json PATH`` writes rows ``{"env": "tabular", "episodes", "policy", "mean_reward", "ci95"}`` and
``{"env": "gridworld", "policy", "mean_return", "ci95"}`` as JSON, and the markdown table beside the
published one to ``PATH`` with the suffix ``.md``.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from _report import machine_info, utc_now, write_report  # benchmarks/ is on sys.path when a script runs

from metalearn_lib import seed_everything, tf  # tf: TensorFlow, imported quietly
from metalearn_lib.meta_rl_mdps import (
    PARAMETER_GRID,
    RL2_PAPER_GREEDY_PRIOR,
    RL2_PAPER_PSRL_PRIOR,
    RL2_RECIPES,
    UCRL2_SCALE_GRID,
    EpsilonGreedyPolicy,
    GreedyPolicy,
    Gridworld,
    OraclePolicy,
    PSRLPolicy,
    RandomPolicy,
    RandomTabularMDPs,
    TabularMDP,
    UCRL2Policy,
    evaluate_rl2_mdp,
    gridworld_bayes_optimal,
    load_shipped_rl2,
    oracle_total_reward,
    posterior_sampling_expected_return,
    run_policy,
    save_rl2,
    shipped_rl2_info,
    shipped_rl2_path,
    train_rl2_mdp,
    tune_policy,
)

#: RL² paper, Table 2 (../shared/notes/published-results.md): episodes n → policy → total reward.
PUBLISHED_TABULAR: dict[int, dict[str, float]] = {
    10: {"random": 100.1, "psrl": 138.1, "ucrl2": 146.6, "epsilon_greedy": 132.8, "greedy": 134.8, "rl2": 156.2},
    25: {"random": 250.2, "psrl": 408.8, "ucrl2": 424.1, "epsilon_greedy": 377.3, "greedy": 368.8, "rl2": 445.7},
    50: {"random": 499.7, "psrl": 904.4, "ucrl2": 918.9, "epsilon_greedy": 823.3, "greedy": 769.3, "rl2": 936.1},
    75: {"random": 749.9, "psrl": 1417.1, "ucrl2": 1427.6, "epsilon_greedy": 1293.9, "greedy": 1172.9,
         "rl2": 1428.8},
    100: {"random": 999.4, "psrl": 1939.5, "ucrl2": 1942.1, "epsilon_greedy": 1778.2, "greedy": 1578.5,
          "rl2": 1913.7},
}
TEST_SEED, TUNE_SEED, OUTCOME_SEED = 0, 1, 2
LABELS = {"random": "random", "greedy": "greedy (posterior mean)", "epsilon_greedy": "ε-greedy",
          "psrl": "PSRL", "ucrl2": "UCRL2 (finite horizon)", "oracle": "oracle (knows the MDP)",
          "oracle_exact": "oracle, exact n·V₀(0)", "greedy_paper_prior": "greedy, the paper's prior",
          "epsilon_greedy_paper_prior": "ε-greedy, the paper's prior", "psrl_paper_prior": "PSRL, the paper's prior",
          "rl2": "RL² (A2C, GRU 128)"}


def tabular_rows(num_episodes: int, num_mdps: int, tune_mdps: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Tune, then play every baseline on the same test MDPs; returns the rows and the tuned parameters."""
    family = RandomTabularMDPs(num_episodes=num_episodes)
    mdps = TabularMDP(*(np.asarray(x) for x in family.sample_tasks(num_mdps, TEST_SEED, tf.float64)))
    start = time.perf_counter()
    epsilon, _ = tune_policy(EpsilonGreedyPolicy, PARAMETER_GRID, family, tune_mdps, seed=TUNE_SEED)
    epsilon_paper, _ = tune_policy(lambda e: EpsilonGreedyPolicy(e, RL2_PAPER_GREEDY_PRIOR), PARAMETER_GRID[1:],
                                   family, tune_mdps, seed=TUNE_SEED)
    scale, _ = tune_policy(UCRL2Policy, UCRL2_SCALE_GRID, family, tune_mdps, seed=TUNE_SEED)
    tuning = {"epsilon": epsilon, "epsilon_paper_prior": epsilon_paper, "ucrl2_scale": scale,
              "tune_s": time.perf_counter() - start}
    policies = {"random": RandomPolicy(), "greedy": GreedyPolicy(), "epsilon_greedy": EpsilonGreedyPolicy(epsilon),
                "psrl": PSRLPolicy(), "ucrl2": UCRL2Policy(scale), "oracle": OraclePolicy(mdps),
                "greedy_paper_prior": GreedyPolicy(RL2_PAPER_GREEDY_PRIOR),
                "epsilon_greedy_paper_prior": EpsilonGreedyPolicy(epsilon_paper, RL2_PAPER_GREEDY_PRIOR),
                "psrl_paper_prior": PSRLPolicy(RL2_PAPER_PSRL_PRIOR)}
    rows = []
    for name, policy in policies.items():
        mean, ci95 = run_policy(policy, family, mdps, seed=OUTCOME_SEED).mean_ci95()
        rows.append({"env": "tabular", "episodes": num_episodes, "policy": name, "mean_reward": float(mean),
                     "ci95": float(ci95)})
    exact = oracle_total_reward(family, mdps)
    rows.append({"env": "tabular", "episodes": num_episodes, "policy": "oracle_exact",
                 "mean_reward": float(exact.mean()), "ci95": float(1.96 * exact.std(ddof=1) / np.sqrt(num_mdps))})
    return rows, tuning


def gridworld_rows() -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The gridworld's exact expected returns (no sampling: CI 0)."""
    env = Gridworld()
    solver = gridworld_bayes_optimal(env)
    start = time.perf_counter()
    posterior_sampling = posterior_sampling_expected_return(env)
    rows = [{"env": "gridworld", "policy": "bayes_optimal", "mean_return": float(solver.expected_return), "ci95": 0.0},
            {"env": "gridworld", "policy": "posterior_sampling", "mean_return": float(posterior_sampling),
             "ci95": 0.0},
            {"env": "gridworld", "policy": "random", "mean_return": float(env.random_policy_expected_return()),
             "ci95": 0.0}]
    info = {"bayes_optimal_episode_returns": [float(v) for v in solver.episode_returns()],
            "bayes_optimal_fraction": str(solver.expected_return_fraction),
            "num_belief_states": int(solver.num_belief_states), "solve_s": float(solver.solve_seconds),
            "posterior_sampling_s": time.perf_counter() - start}
    return rows, info


GRIDWORLD_TEST_TRIALS, GRIDWORLD_TEST_SEED, RL2_EVAL_SEED = 10_000, 3, 4


def rl2_row(name: str, num_mdps: int, args: argparse.Namespace, command: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Train (or, with ``--shipped``, load) the RL² agent of recipe ``name`` and evaluate it on the test tasks
    (the baselines' test MDPs; 10,000 gridworld trials); with ``--ship``, write it to the library."""
    recipe = RL2_RECIPES[name]
    if args.shipped:
        params = load_shipped_rl2(name)
        training = {"source": f"shipped weights {shipped_rl2_path(name).name}",
                    "wall_s": shipped_rl2_info(name)["wall_s"]}
    else:
        iterations = max(1, recipe.num_iterations // 10) if args.quick else recipe.num_iterations
        result = train_rl2_mdp(name, num_iterations=iterations, progress=args.progress)
        params = result.params
        training = {"source": "trained", "num_iterations": iterations, "wall_s": result.wall_s,
                    "iterations_per_s": result.iterations_per_s,
                    "learning_curve": [float(v) for v in np.asarray(result.rewards).reshape(100, -1).mean(axis=1)]
                    if iterations % 100 == 0 else None}
    if name == "gridworld":
        tasks = recipe.env.sample_tasks(GRIDWORLD_TEST_TRIALS, GRIDWORLD_TEST_SEED)
    else:
        tasks = recipe.env.sample_tasks(num_mdps, TEST_SEED)
    sampled = evaluate_rl2_mdp(params, name, tasks=tasks, seed=RL2_EVAL_SEED)
    greedy = evaluate_rl2_mdp(params, name, tasks=tasks, seed=RL2_EVAL_SEED, greedy=True)
    evaluation = {"sampled": sampled.as_dict(), "greedy": greedy.as_dict(), "tasks": len(sampled.episode_returns),
                  "task_seed": GRIDWORLD_TEST_SEED if name == "gridworld" else TEST_SEED, "seed": RL2_EVAL_SEED}
    if args.ship and not args.shipped and not args.quick:
        save_rl2(shipped_rl2_path(name), result,
                 {"command": command, "recipe": name, "description": recipe.description,
                  "seed": recipe.config.seed, "num_iterations": iterations,
                  "config": dataclasses.asdict(recipe.config), "wall_s": result.wall_s,
                  "iterations_per_s": result.iterations_per_s, "evaluation": evaluation,
                  "learning_curve": training["learning_curve"], "machine": machine_info(), "date": utc_now()})
        print(f"shipped {shipped_rl2_path(name)}", flush=True)
    if name == "gridworld":
        row = {"env": "gridworld", "policy": "rl2", "mean_return": sampled.mean_return, "ci95": sampled.ci95}
    else:
        row = {"env": "tabular", "episodes": recipe.env.num_episodes, "policy": "rl2",
               "mean_reward": sampled.mean_return, "ci95": sampled.ci95}
    return row, {**training, "evaluation": evaluation}


def markdown(results: dict[str, Any], command: str) -> str:
    tabular = [r for r in results["rows"] if r["env"] == "tabular"]
    episodes = sorted({r["episodes"] for r in tabular})
    cell = {(r["policy"], r["episodes"]): f"{r['mean_reward']:.1f} ± {r['ci95']:.1f}" for r in tabular}
    lines = [f"Random tabular MDPs (RL² Table 2): mean total reward over n episodes ± 95 % CI on "
             f"{results['num_mdps']} test MDPs; published values in brackets. `{command}`", "",
             "| policy | " + " | ".join(f"n = {n}" for n in episodes) + " |", "|---|" + "---|" * len(episodes)]
    for policy in dict.fromkeys(r["policy"] for r in tabular):
        published_key = policy.removesuffix("_paper_prior")
        cells = []
        for n in episodes:
            published = PUBLISHED_TABULAR.get(n, {}).get(published_key)
            text = cell.get((policy, n), "not trained")
            cells.append(text + (f" ({published})" if published is not None else ""))
        lines.append(f"| {LABELS.get(policy, policy)} | " + " | ".join(cells) + " |")
    if not any(r["policy"] == "rl2" for r in tabular):
        lines.append("| RL², published | " + " | ".join(str(PUBLISHED_TABULAR[n]["rl2"]) for n in episodes) + " |")
    lines.append("")
    cpus = results["machine"].get("cpus", "?")
    lines += [f"RL² {name} ({t['source']}): training took {t['wall_s'] / 60:.1f} min on {cpus} CPUs."
              for name, t in results["rl2_training"].items()]
    grid = [r for r in results["rows"] if r["env"] == "gridworld"]
    info = results["gridworld"]
    lines += ["", "Gridworld (VariBAD): exact expected return of the 4-episode task", "", "| policy | return |",
              "|---|---|"]
    lines += [f"| {LABELS.get(r['policy'], r['policy'].replace('_', ' '))} | {r['mean_return']:.3f}"
              + (f" ± {r['ci95']:.3f} |" if r["ci95"] else " (exact) |") for r in grid]
    per_episode = ", ".join(f"{v:.3f}" for v in info["bayes_optimal_episode_returns"])
    lines += ["", f"Bayes-optimal return per episode: {per_episode} (exactly {info['bayes_optimal_fraction']} in all; "
              f"{info['num_belief_states']} belief states, solved in {info['solve_s']:.2f} s).", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="200 MDPs, 100 for tuning, n = 10 only")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH", help="write rows as JSON (+ .md table)")
    parser.add_argument("--mdps", type=int, default=None, help="test MDPs (default 1000, quick 200)")
    parser.add_argument("--tune-mdps", type=int, default=None, help="validation MDPs for tuning (default 300)")
    parser.add_argument("--episodes", type=int, nargs="+", default=None, help="trial lengths n (default 10 25 50)")
    parser.add_argument("--rl2", nargs="*", default=None, choices=tuple(RL2_RECIPES),
                        help="RL² agents to train or evaluate (default all; none with --skip-rl2)")
    parser.add_argument("--skip-rl2", action="store_true", help="baselines and exact limits only")
    parser.add_argument("--shipped", action="store_true", help="evaluate the shipped RL² agents; train none")
    parser.add_argument("--ship", action="store_true", help="write the trained RL² agents to the library")
    parser.add_argument("--no-progress", dest="progress", action="store_false", help="no tqdm progress bars")
    args = parser.parse_args(argv)
    seed_everything(0)
    num_mdps = args.mdps or (200 if args.quick else 1000)
    tune_mdps = args.tune_mdps or (100 if args.quick else 300)
    episodes = args.episodes or ([10] if args.quick else [10, 25, 50])
    start = time.perf_counter()
    rows: list[dict[str, Any]] = []
    tuning: dict[str, Any] = {}
    command = ("python benchmarks/meta_rl_mdps.py " + " ".join(sys.argv[1:] if argv is None else argv)).strip()
    rl2_names = [] if args.skip_rl2 else (list(RL2_RECIPES) if args.rl2 is None else args.rl2)
    rl2_training: dict[str, Any] = {}
    for n in episodes:
        n_rows, tuning[str(n)] = tabular_rows(n, num_mdps, tune_mdps)
        rows += n_rows
        for name in rl2_names:
            if name != "gridworld" and RL2_RECIPES[name].env.num_episodes == n:
                row, rl2_training[name] = rl2_row(name, num_mdps, args, command)
                rows.append(row)
        print(f"n = {n}: done ({time.perf_counter() - start:.0f} s)", flush=True)
    grid, grid_info = gridworld_rows()
    rows += grid
    if "gridworld" in rl2_names:
        row, rl2_training["gridworld"] = rl2_row("gridworld", num_mdps, args, command)
        rows.append(row)
    results = {"rows": rows, "tuning": tuning, "gridworld": grid_info, "rl2_training": rl2_training,
               "num_mdps": num_mdps, "tune_mdps": tune_mdps,
               "seeds": {"test": TEST_SEED, "tune": TUNE_SEED, "outcomes": OUTCOME_SEED,
                         "gridworld_test": GRIDWORLD_TEST_SEED, "rl2_evaluation": RL2_EVAL_SEED}, "quick": args.quick,
               "published": {str(n): v for n, v in PUBLISHED_TABULAR.items()}, "wall_s": time.perf_counter() - start,
               "machine": machine_info(), "date": utc_now()}
    text = markdown(results, command)
    print(text)
    if args.json is not None:
        write_report(args.json, results, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
