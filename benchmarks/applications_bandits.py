"""Chapter 8's bandit experiments: chapter 5's agents under a shifted prior, and switching bandits.

**Cross-domain shift** (:func:`bandit_shift_rows`): for each (k, n) with a shipped RL² agent and each
arm prior of :data:`SHIFTS` (the training prior U[0, 1] as the control, Beta(0.5, 0.5), U[0.4, 0.6],
one very good arm), 1000 test bandits (seed 1,000,000) drawn from that prior are played by the
shipped RL² agent, UCB1 with chapter 5's c (tuned on U[0, 1]), Thompson sampling with its Beta(1, 1)
prior, random, and — where the exact DP is tractable — the Bayes-optimal policy of the *true* prior
and that of the *training* prior U[0, 1] (:func:`metalearn_lib.applications.bandit_shift.evaluate_under_prior`).

**Switching bandits** (:func:`switching_bandit_rows`): k = 2, n = 100, all means redrawn with
probability h = 0.03 before every pull after the first (about three switches a trial). On 1000 test
bandits (seed 1,000,000): the RL² agent trained on switching bandits (shipped in
``metalearn_lib/applications/weights``), chapter 5's stationary (k, n) = (2, 100) agent,
sliding-window UCB with (τ < n, c) tuned on 1000 validation bandits (seed 1), UCB1 (c tuned the
same way: the window τ = ∞), Thompson sampling and random; mean dynamic regret ± 95 % CI, and the mean cumulative regret
every 10th pull (the curve rows).

Usage::

    .venv/bin/python benchmarks/applications_bandits.py --quick --json /tmp/applications_bandits_quick.json
    .venv/bin/python benchmarks/applications_bandits.py --json /tmp/bandits.json  # rows: applications.py
    nice -n 10 nohup .venv/bin/python benchmarks/applications_bandits.py --train-switching > /tmp/train.log &

``--train-switching`` trains the switching agent (:data:`SWITCHING_RL2_CONFIG`,
:data:`SWITCHING_RL2_ITERATIONS` iterations, seed 0, one CPU thread) and writes
``metalearn_lib/applications/weights/rl2_switching_k2_n100.{npz,json}``; nothing else runs.
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
from metalearn_lib.applications.bandit_shift import (
    METHOD_LABELS,
    ArmPrior,
    BetaPrior,
    SparseGoodPrior,
    UniformPrior,
    evaluate_under_prior,
)
from metalearn_lib.applications.bandit_switching import (
    SWITCHING_RL2_CONFIG,
    SWITCHING_RL2_ITERATIONS,
    SwitchingBanditTrials,
    evaluate_switching_methods,
    load_switching_rl2,
    run_switching_policy,
    switching_rl2_info,
    switching_rl2_path,
    train_switching_rl2,
    tune_sliding_window_ucb,
)
from metalearn_lib.bandits import PARAMETER_GRID, RandomPolicy, ThompsonPolicy, UCB1Policy
from metalearn_lib.bandits.rl2 import RL2Agent, load_pretrained_rl2
from metalearn_lib.rl import mean_ci95

TEST_SEED = 1_000_000
VALIDATION_SEED = 1
TRAIN_SEED = 0
#: The switching experiment: k = 2 arms, n = 100 pulls, hazard h = 0.03 — (n − 1)·h ≈ 3 switches a
#: trial (5 % of trials have none), segments of 33 pulls on average: long enough to tell two arms
#: apart (~10 pulls), short enough that counts kept since the start of the trial go stale.
SWITCHING_ENV = SwitchingBanditTrials(num_arms=2, num_pulls=100, switch_probability=0.03)
#: Sliding-window UCB's grid: windows τ < n (τ ≥ n is UCB1, tuned on its own) × c over chapter 5's
#: {0, 0.1, …, 1}.
SW_UCB_WINDOWS: tuple[int, ...] = (10, 15, 20, 30, 40, 50, 75)
CURVE_EVERY = 10


def _wrap(params: Any, env: SwitchingBanditTrials) -> RL2Agent:
    return RL2Agent(params, env.num_arms, env.num_pulls)


def train_switching(argv: list[str]) -> dict[str, Any]:
    """Train the switching agent on one CPU thread, evaluate it, write the weights and the record."""
    import json

    tf.config.threading.set_intra_op_parallelism_threads(1)
    env = SWITCHING_ENV
    config = dataclasses.replace(SWITCHING_RL2_CONFIG, seed=TRAIN_SEED)
    cpu_start = time.process_time()
    result = train_switching_rl2(env, config, num_iterations=SWITCHING_RL2_ITERATIONS)
    cpu_s = time.process_time() - cpu_start
    print(f"trained {SWITCHING_RL2_ITERATIONS} iterations in {result.wall_s:.1f} s wall, {cpu_s:.1f} s CPU "
          f"({result.iterations_per_s:.1f} it/s)", flush=True)
    stationary = load_pretrained_rl2(env.num_arms, env.num_pulls)
    evaluation = evaluate_switching_methods(env, agents={"rl2_switching": result.params, "rl2_stationary": stationary},
                                            num_bandits=1000, seed=TEST_SEED)
    curve = [float(b.mean()) for b in np.array_split(result.rewards, 100)]
    record = {
        "command": " ".join(["nice -n 10 python", "benchmarks/applications_bandits.py", *argv]),
        "date": utc_now(),
        "num_arms": env.num_arms,
        "num_pulls": env.num_pulls,
        "switch_probability": env.switch_probability,
        "seed": TRAIN_SEED,
        "config": {"num_iterations": SWITCHING_RL2_ITERATIONS, **result.checkpoint.config.to_dict()},
        "recipe": "chapter 5's (n, k) = (100, 2) recipe of benchmarks/train_rl2.py, unchanged, on switching bandits",
        "wall_s": result.wall_s,
        "cpu_s": cpu_s,
        "iterations_per_s": result.iterations_per_s,
        "intra_op_threads": 1,
        "evaluation": {"num_bandits": 1000, "seed": TEST_SEED, "metric": "dynamic regret, mean ± 1.96·s/√B",
                       **{name: {"dynamic_regret": ev["regret"], "ci95": ev["ci95"],
                                 "total_reward": ev["total_reward"], "total_reward_ci95": ev["total_reward_ci95"]}
                          for name, ev in evaluation.items()}},
        "learning_curve": {"blocks": len(curve), "mean_trial_reward": curve},
        "machine": machine_info(),
    }
    path = switching_rl2_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    _wrap(result.params, env).save(path, seed=TRAIN_SEED, switch_probability=env.switch_probability,
                                   config=record["config"])
    path.with_suffix(".json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    for name, ev in evaluation.items():
        print(f"{name}: dynamic regret {ev['regret']:.3f} ± {ev['ci95']:.3f}", flush=True)
    print(f"wrote {path} and {path.with_suffix('.json')}")
    return record


# --------------------------------------------------------------------------------------------
# cross-domain shift
# --------------------------------------------------------------------------------------------
#: (k, n) of the shipped RL² agents; the exact DP is tractable for the first three.
SHIFT_CONFIGS: tuple[tuple[int, int], ...] = ((5, 10), (10, 10), (2, 100), (5, 100), (10, 100))
QUICK_SHIFT_CONFIGS: tuple[tuple[int, int], ...] = ((5, 10), (2, 100))


def shifts(num_arms: int) -> list[ArmPrior]:
    """The test priors: the training prior U[0, 1] (control), extremes, a narrow band, one good arm."""
    return [BetaPrior(1.0, 1.0), BetaPrior(0.5, 0.5), UniformPrior(0.4, 0.6), SparseGoodPrior.one_good_arm_in(num_arms)]


def bandit_shift_rows(quick: bool) -> list[dict[str, Any]]:
    """One row per (k, n), test prior and method: mean total reward ± CI, regret ± CI on the same bandits.

    Rows also carry the exact Bayes-optimal value of the true prior (``bayes_value``, None where the DP
    is intractable), the oracle's n·E[max p] (``expected_best``), UCB1's c, and where the true prior's
    Bayes-optimal policy ran, the paired gap ``total − Bayes-optimal(true prior)`` ± CI per bandit.
    """
    num_bandits = 200 if quick else 1000
    rows: list[dict[str, Any]] = []
    for num_arms, num_pulls in QUICK_SHIFT_CONFIGS if quick else SHIFT_CONFIGS:
        for prior in shifts(num_arms):
            start = time.perf_counter()
            ev = evaluate_under_prior(prior, num_arms, num_pulls, num_bandits=num_bandits, seed=TEST_SEED)
            for method, score in ev.methods.items():
                row = {"experiment": "bandit_shift", "method": method, "label": METHOD_LABELS[method],
                       "shift": prior.name, "num_arms": num_arms, "num_pulls": num_pulls,
                       "total_reward": score.total_reward, "ci95": score.ci95, "regret": score.regret,
                       "regret_ci95": score.regret_ci95, "num_bandits": num_bandits, "bayes_value": ev.bayes_value,
                       "expected_best": ev.expected_best, "ucb1_c": ev.ucb1_c}
                if "bayes_true_prior" in ev.methods:
                    row["gap_to_bayes"], row["gap_ci95"] = ev.gap(method, "bayes_true_prior")
                if "ucb1" in ev.methods:
                    row["gap_to_ucb1"], row["gap_to_ucb1_ci95"] = ev.gap(method, "ucb1")
                rows.append(row)
            summary = ", ".join(f"{m} {s.total_reward:.2f}±{s.ci95:.2f}" for m, s in ev.methods.items())
            print(f"shift (k={num_arms}, n={num_pulls}) {prior.name}: {summary} "
                  f"[{time.perf_counter() - start:.1f} s]", flush=True)
    return rows


# --------------------------------------------------------------------------------------------
# switching bandits
# --------------------------------------------------------------------------------------------
def switching_bandit_rows(quick: bool) -> list[dict[str, Any]]:
    """Summary rows (dynamic regret ± CI per method) and curve rows (``round``: the mean cumulative
    regret after that many pulls, every :data:`CURVE_EVERY`-th) on the same test bandits."""
    env = SWITCHING_ENV
    num_bandits = 200 if quick else 1000
    start = time.perf_counter()
    sw_ucb, sw_regrets = tune_sliding_window_ucb(SW_UCB_WINDOWS, PARAMETER_GRID, env, num_bandits, VALIDATION_SEED)
    validation = env.sample_tasks(num_bandits, VALIDATION_SEED, dtype=tf.float64).numpy()
    ucb1_regrets = [run_switching_policy(UCB1Policy(c), validation, VALIDATION_SEED).dynamic_regret.mean()
                    for c in PARAMETER_GRID]
    ucb1_c = PARAMETER_GRID[int(np.argmin(ucb1_regrets))]
    print(f"switching: tuned SW-UCB τ={sw_ucb.window}, c={sw_ucb.c:g} (validation regret {sw_regrets.min():.2f}), "
          f"UCB1 c={ucb1_c:g} ({min(ucb1_regrets):.2f}) [{time.perf_counter() - start:.1f} s]", flush=True)
    policies = {"sw_ucb": sw_ucb, "ucb1": UCB1Policy(ucb1_c), "thompson": ThompsonPolicy(), "random": RandomPolicy()}
    agents = {"rl2_switching": load_switching_rl2(), "rl2_stationary": load_pretrained_rl2(env.num_arms, env.num_pulls)}
    results = evaluate_switching_methods(env, policies=policies, agents=agents, num_bandits=num_bandits,
                                         seed=TEST_SEED)
    settings = {"sw_ucb": {"window": sw_ucb.window, "c": sw_ucb.c}, "ucb1": {"c": ucb1_c}}
    common = {"experiment": "switching_bandit", "num_arms": env.num_arms, "num_pulls": env.num_pulls,
              "switch_probability": env.switch_probability, "num_bandits": num_bandits}
    reference = results["rl2_switching"]["dynamic_regret"]
    rows: list[dict[str, Any]] = []
    for method, res in results.items():
        gap, gap_ci = mean_ci95(res["dynamic_regret"] - reference)
        rows.append({**common, "method": method, "label": SWITCHING_LABELS[method], "regret": res["regret"],
                     "ci95": res["ci95"], "total_reward": res["total_reward"],
                     "total_reward_ci95": res["total_reward_ci95"], "gap_to_rl2_switching": gap,
                     "gap_ci95": gap_ci, **settings.get(method, {})})
        print(f"switching {SWITCHING_LABELS[method]}: dynamic regret {res['regret']:.2f} ± {res['ci95']:.2f}",
              flush=True)
    for method, res in results.items():
        for pulls in range(CURVE_EVERY, env.num_pulls + 1, CURVE_EVERY):
            rows.append({**common, "method": method, "round": pulls, "regret": float(res["regret_curve"][pulls - 1]),
                         "ci95": float(res["curve_ci95"][pulls - 1])})
    return rows


SWITCHING_LABELS = {"rl2_switching": "RL² (trained on switching bandits)",
                    "rl2_stationary": "RL² (chapter 5, stationary)", "sw_ucb": "sliding-window UCB (tuned)",
                    "ucb1": "UCB1 (tuned)", "thompson": "Thompson (Beta(1, 1))", "random": "random"}


# --------------------------------------------------------------------------------------------
# the report
# --------------------------------------------------------------------------------------------
def markdown(shift_rows: list[dict[str, Any]], switching_rows: list[dict[str, Any]], command: str) -> str:
    lines = [f"Command: `{command}`", "", "## Chapter 5's bandit agents under a shifted arm prior", "",
             "Mean total reward ± 95 % CI (1.96·s/√B) on the same B test bandits per prior (seed 1,000,000); "
             "in brackets the paired gap to the Bayes-optimal policy of the true prior (total − Bayes, ± CI, per "
             "bandit), where its DP is tractable, else the paired gap to UCB1. UCB1's c is chapter 5's, tuned on "
             "U[0, 1].", ""]
    configs = sorted({(r["num_arms"], r["num_pulls"]) for r in shift_rows}, key=lambda c: (c[1], c[0]))
    for k, n in configs:
        rows = [r for r in shift_rows if (r["num_arms"], r["num_pulls"]) == (k, n)]
        names = list(dict.fromkeys(r["shift"] for r in rows))
        methods = list(dict.fromkeys(r["method"] for r in rows))
        lines += [f"### k = {k} arms, n = {n} pulls ({rows[0]['num_bandits']} bandits, UCB1 c = {rows[0]['ucb1_c']:g})",
                  "", "| method | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
        for method in methods:
            cells = []
            for name in names:
                r = next(x for x in rows if x["method"] == method and x["shift"] == name)
                cell = f"{r['total_reward']:.2f} ± {r['ci95']:.2f}"
                if "gap_to_bayes" in r and method != "bayes_true_prior":
                    cell += f" [{r['gap_to_bayes']:+.2f} ± {r['gap_ci95']:.2f}]"
                elif "gap_to_bayes" not in r and "gap_to_ucb1" in r and method != "ucb1":
                    cell += f" [{r['gap_to_ucb1']:+.2f} ± {r['gap_to_ucb1_ci95']:.2f} vs UCB1]"
                cells.append(cell)
            lines.append(f"| {METHOD_LABELS[method]} | " + " | ".join(cells) + " |")
        firsts = [next(x for x in rows if x["shift"] == name) for name in names]
        if firsts[0]["bayes_value"] is not None:
            lines.append("| *exact V\\* of the true prior* | " + " | ".join(f"{r['bayes_value']:.3f}" for r in firsts)
                         + " |")
        lines.append("| *oracle n·E[max p]* | " + " | ".join(f"{r['expected_best']:.3f}" for r in firsts) + " |")
        lines.append("")
    summary = [r for r in switching_rows if "round" not in r]
    if summary:
        first = summary[0]
        lines += ["## Switching bandits", "",
                  f"k = {first['num_arms']}, n = {first['num_pulls']}, hazard h = {first['switch_probability']:g} "
                  f"({(first['num_pulls'] - 1) * first['switch_probability']:.2f} switches a trial on average); "
                  f"{first['num_bandits']} test bandits (seed 1,000,000). Dynamic regret Σ_t (max_a p_t[a] − p_t[a_t]) "
                  "± 95 % CI; the paired gap is this method's regret minus the switching RL² agent's, per bandit.", "",
                  "| method | dynamic regret | total reward | gap to RL² (switching) |", "|---|---|---|---|"]
        for r in summary:
            tuned = [f"{symbol}={r[key]:g}" for key, symbol in (("window", "τ"), ("c", "c")) if key in r]
            label = f"{r['label']}: {', '.join(tuned)}" if tuned else r["label"]
            lines.append(f"| {label} | {r['regret']:.2f} ± {r['ci95']:.2f} "
                         f"| {r['total_reward']:.2f} ± {r['total_reward_ci95']:.2f} | "
                         f"{r['gap_to_rl2_switching']:+.2f} ± {r['gap_ci95']:.2f} |")
        curve = [r for r in switching_rows if "round" in r]
        methods = list(dict.fromkeys(r["method"] for r in curve))
        rounds = sorted({r["round"] for r in curve})
        lines += ["", "Mean cumulative dynamic regret after t pulls (± 95 % CI):", "",
                  "| t | " + " | ".join(SWITCHING_LABELS[m] for m in methods) + " |", "|---|" + "---|" * len(methods)]
        for t in rounds:
            cells = [next(f"{r['regret']:.2f} ± {r['ci95']:.2f}" for r in curve if r["method"] == m and r["round"] == t)
                     for m in methods]
            lines.append(f"| {t} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="200 test bandits, (k, n) = (5, 10) and (2, 100) only")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH", help="write rows as JSON (+ .md table)")
    parser.add_argument("--train-switching", action="store_true", help="train and ship the switching RL² agent")
    args = parser.parse_args(argv)
    seed_everything(0)
    if args.train_switching:
        train_switching(argv)
        return 0
    start = time.perf_counter()
    shift = bandit_shift_rows(args.quick)
    shift_s = time.perf_counter() - start
    switching = switching_bandit_rows(args.quick)
    command = ("benchmarks/applications_bandits.py " + " ".join(argv)).strip()
    text = markdown(shift, switching, command)
    wall = time.perf_counter() - start
    text += f"\nWall time: {wall:.0f} s ({shift_s:.0f} s for the shift rows); {utc_now()}.\n"
    print(text)
    if args.json is not None:
        results = {"command": command, "rows": shift + switching, "wall_s": wall, "shift_wall_s": shift_s,
                   "switching_agent": {k: v for k, v in switching_rl2_info().items() if k != "learning_curve"},
                   "machine": machine_info(), "date": utc_now()}
        write_report(args.json, results, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
