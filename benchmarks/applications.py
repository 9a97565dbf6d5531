"""Chapter 8's experiments at full size: multi-task baselines, cross-domain shift, online adaptation.

**Multi-task baselines** (the MAML authors' project page, "New Comparisons"; numbers in
../shared/notes/published-results.md): 500 separate 1-40-40-1 ReLU regressors, one per random
sinusoid task, trained at once (:func:`metalearn_lib.applications.multi_task.train_separate_regressors`:
He init, fresh inputs every step, Adam 3e-3 → 3e-4 over 10,000 steps); their parameters averaged;
the average fine-tuned on K = 5 points with SGD α = 0.01 (the same points every step) over the 600
test tasks of chapter 2's 5-shot evaluation (seed 10,005), beside the shipped MAML and pretrained
starts on the same tasks. Three variants — no penalty, ℓ2 weight decay, a penalty towards the mean
parameters — with λ chosen, per penalty, as the largest of a grid for which at least 95 % of the
500 regressors still reach MSE < 0.02 on their own task (the published criterion).

**Sample efficiency**: points K needed on a new task to reach a target MSE, MAML and pretrained
fine-tuned with 10 SGD steps, a network from scratch with 1,000 Adam steps.

**Cross-domain shift**: 5-shot MSE after 1, 10 and 50 steps on sinusoid families shifted in
amplitude, phase and input range and on square waves and lines, for MAML, Meta-SGD, MAML trained on
a broader family (domain randomisation), the pretrained network and a fresh network.

**Bandits** and **online adaptation**: :mod:`applications_bandits` and :mod:`applications_online`.

Usage::

    .venv/bin/python benchmarks/applications.py --ship --json benchmarks/results/applications_full.json
    .venv/bin/python benchmarks/applications.py --quick --json /tmp/applications_quick.json

``--ship`` trains the sinusoid starts and writes them to ``metalearn_lib/applications/weights``;
without it the shipped starts are loaded. Rows: ``{"experiment", "method", "shift" or "round",
"steps", "mse" or "regret", "ci95", ...}``; the markdown tables go beside the JSON.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import applications_bandits  # benchmarks/ is on sys.path when a script runs
import applications_online
from _report import machine_info, utc_now, write_report

from metalearn_lib import seed_everything, tf  # noqa: F401  (tf: TensorFlow, imported quietly)
from metalearn_lib.applications.efficiency import sample_efficiency
from metalearn_lib.applications.families import SHIFT_GRIDS
from metalearn_lib.applications.multi_task import train_separate_regressors
from metalearn_lib.applications.shift import evaluate_start, shift_rows, tuned_inner_lr
from metalearn_lib.applications.starting_points import (
    TRAINED_STARTS,
    StartingPoint,
    load_shipped_start,
    save_start,
    scratch_start,
    shipped_start_path,
    train_start,
)
from metalearn_lib.tasks import SinusoidFamily

#: The MAML authors' project page: 5-shot MSE after 1 / 5 / 10 steps.
PUBLISHED_MULTI_TASK: dict[str, dict[int, float]] = {
    "maml": {1: 0.67, 5: 0.38, 10: 0.35},
    "pretrained": {1: 2.41, 5: 2.23, 10: 2.19},
    "multi_task_no_reg": {1: 4.19, 5: 3.85, 10: 3.69},
    "multi_task_l2": {1: 7.18, 5: 5.69, 10: 5.60},
    "multi_task_mean_reg": {1: 2.91, 5: 2.72, 10: 2.71},
}
#: The penalty of each multi-task variant and the λ grid searched for it.
MULTI_TASK_VARIANTS: dict[str, tuple[str, tuple[float, ...]]] = {
    "multi_task_no_reg": ("none", (0.0,)),
    "multi_task_l2": ("l2", (1e-4, 1e-3, 1e-2)),
    "multi_task_mean_reg": ("mean", (1e-3, 1e-2, 1e-1, 1.0)),
}
LABELS = {"maml": "MAML", "meta_sgd": "Meta-SGD", "pretrained": "pretrained on all tasks",
          "maml_broad": "MAML, broad family", "scratch": "from scratch",
          "multi_task_no_reg": "multi-task, no regularisation", "multi_task_l2": "multi-task, ℓ2",
          "multi_task_mean_reg": "multi-task, regularised to mean θ"}
TEST_SEED = 10_005  # chapter 2's 5-shot test tasks
OWN_TASK_TARGET, OWN_TASK_FRACTION = 0.02, 0.95
MULTI_TASK_STEPS = (0, 1, 5, 10)
SHIFT_STEPS = (1, 10, 50)
SHOTS_GRID = (1, 2, 3, 5, 10, 20, 40, 80, 160)
TARGET_MSES = (1.0, 0.5, 0.2)
#: The experiments (row kinds) each section writes; ``--update`` replaces only these.
SECTION_EXPERIMENTS: dict[str, tuple[str, ...]] = {
    "multi_task": ("multi_task",), "efficiency": ("sample_efficiency", "points_needed"),
    "shift": ("shift_sinusoid",), "bandits": ("bandit_shift", "switching_bandit"),
    "online": ("online_drift", "online_switching"),
}


def ship_starts(args: argparse.Namespace, command: str) -> dict[str, StartingPoint]:
    """Train every start with its recipe and write it (with its record) to the library."""
    starts = {name: load_shipped_start(name) for name in TRAINED_STARTS
              if name not in args.ship_starts and shipped_start_path(name).exists()}
    for name in args.ship_starts:
        start = train_start(name, num_iterations=200 if args.quick else None, progress=args.progress)
        ev = evaluate_start(start, SinusoidFamily(), steps=(0, 1, 5, 10), seed=TEST_SEED)
        evaluation = {"family": "MAML sinusoids", "test_tasks": 600, "seed": TEST_SEED, "num_shots": 5,
                      "steps": list(ev.steps), "mse": list(ev.mean_mse), "ci95": list(ev.ci95)}
        if not args.quick:
            save_start(start, shipped_start_path(name), command=command, date=utc_now(), evaluation=evaluation)
        print(f"{name}: {start.record['wall_s']:.0f} s, 5-shot MSE after 1/5/10 steps "
              + " / ".join(f"{m:.2f}" for m in ev.mean_mse[1:]), flush=True)
        starts[name] = start
    return starts


def multi_task_rows(starts: dict[str, StartingPoint], args: argparse.Namespace) -> tuple[list[dict], dict]:
    """The multi-task table: three averaged variants (λ chosen by the own-task criterion), MAML and
    pretrained, on chapter 2's 600 test tasks."""
    family = SinusoidFamily()
    num_steps = 300 if args.quick else 10_000
    num_regressors = 50 if args.quick else 500
    rows: list[dict[str, Any]] = []
    record: dict[str, Any] = {"num_regressors": num_regressors, "num_steps": num_steps, "selection": []}
    for method, (regulariser, grid) in MULTI_TASK_VARIANTS.items():
        chosen = None
        for reg_strength in sorted(grid, reverse=True):  # the largest λ that keeps the criterion
            run = train_separate_regressors(family, num_regressors, regulariser=regulariser,
                                            reg_strength=reg_strength, num_steps=num_steps, progress=args.progress)
            fraction = run.fraction_below(OWN_TASK_TARGET)
            record["selection"].append({"method": method, "reg_strength": reg_strength, "fraction_below": fraction,
                                        "wall_s": run.wall_s, "own_mse_mean": float(run.own_mse.mean())})
            print(f"  {method} λ={reg_strength:g}: {fraction:.1%} below {OWN_TASK_TARGET} ({run.wall_s:.0f} s)",
                  flush=True)
            chosen = (reg_strength, run, fraction)
            if fraction >= OWN_TASK_FRACTION or args.quick:
                break
        reg_strength, run, fraction = chosen
        extra = {"reg_strength": reg_strength, "own_task_fraction_below": fraction,
                 "own_task_mse_mean": float(run.own_mse.mean())}
        rows += _fine_tuned_rows(StartingPoint(method, run.average, 0.01), method, method, extra)
    for name in ("maml", "pretrained"):
        rows += _fine_tuned_rows(starts[name], name, name, {}, tune=name != "maml")
    return rows, record


def _fine_tuned_rows(start: StartingPoint, name: str, published: str, extra: dict[str, Any], *,
                     tune: bool = True) -> list[dict[str, Any]]:
    """Rows after 0/1/5/10 SGD steps on the test tasks, with α = 0.01 and (``tune``) with α tuned per
    step count on validation tasks (:func:`tuned_inner_lr`, the MAML paper's baselines)."""
    family = SinusoidFamily()
    rows = []
    ev = evaluate_start(start, family, steps=MULTI_TASK_STEPS, seed=TEST_SEED)
    for i, s in enumerate(ev.steps):
        rows.append({"experiment": "multi_task", "method": name, "inner_lr": start.inner_lr, "tuned": False,
                     "steps": s, "mse": ev.mean_mse[i], "ci95": ev.ci95[i],
                     "diverged_fraction": ev.diverged_fraction[i],
                     "published": None if tune else PUBLISHED_MULTI_TASK[published].get(s), **extra})
    if tune:
        for s, lr in tuned_inner_lr(start, family, steps=MULTI_TASK_STEPS[1:]).items():
            ev = evaluate_start(StartingPoint(name, start.params, lr), family, steps=(s,), seed=TEST_SEED)
            rows.append({"experiment": "multi_task", "method": name, "inner_lr": lr, "tuned": True, "steps": s,
                         "mse": ev.mean_mse[0], "ci95": ev.ci95[0], "diverged_fraction": ev.diverged_fraction[0],
                         "published": PUBLISHED_MULTI_TASK[published].get(s), **extra})
    return rows


def efficiency_rows(starts: dict[str, StartingPoint], args: argparse.Namespace) -> list[dict[str, Any]]:
    """MSE against K for MAML and pretrained (10 SGD steps) and scratch (1,000 Adam steps)."""
    family = SinusoidFamily()
    num_tasks = 50 if args.quick else 200
    plans = [(starts["maml"], "sgd", 10), (starts["pretrained"], "sgd", 10),
             (starts["pretrained"], "adam", 100 if args.quick else 1000),
             (scratch_start(0), "adam", 100 if args.quick else 1000)]
    rows = []
    for start, optimiser, num_steps in plans:
        result = sample_efficiency(start, family, shots=SHOTS_GRID, optimiser=optimiser, num_steps=num_steps,
                                   num_tasks=num_tasks)
        method = start.name if optimiser == "sgd" else f"{start.name}_adam"
        for k, m, c in zip(result.shots, result.mean_mse, result.ci95, strict=True):
            rows.append({"experiment": "sample_efficiency", "method": method, "num_shots": k, "mse": m,
                         "ci95": c, "protocol": result.protocol, "num_tasks": num_tasks})
        for target in TARGET_MSES:
            rows.append({"experiment": "points_needed", "method": method, "target_mse": target,
                         "num_shots": result.points_needed(target), "protocol": result.protocol})
    return rows


def _num(value: float | None) -> str:
    """A table cell: two decimals, or "diverged" for a non-finite value (stored as null in the JSON)."""
    return "diverged" if value is None or not math.isfinite(value) else f"{value:.2f}"


def markdown(results: dict[str, Any]) -> str:
    """The tables of the report."""
    rows = results["rows"]
    commands = results.get("commands", [results["command"]])
    lines = [f"Command{'s' * (len(commands) > 1)}: " + "; then ".join(f"`{c}`" for c in commands) + "  ",
             f"Date: {results['date']}; machine: {results['machine']}.", ""]
    lines += ["**Multi-task baselines** — 5-shot MSE ± 95 % CI on chapter 2's 600 test tasks after 1 / 5 / 10 SGD "
              "steps, beside the MAML authors' numbers: MAML with its α = 0.01, the baselines with α tuned per step "
              "count on validation tasks (shown).", "",
              "| method | λ | own task < 0.02 | 1 step | 5 steps | 10 steps | published 1 / 5 / 10 |",
              "|---|---|---|---|---|---|---|"]
    order = [*MULTI_TASK_VARIANTS, "maml", "pretrained"]
    for method in order:
        sel = [r for r in rows if r["experiment"] == "multi_task" and r["method"] == method]
        if not sel:
            continue
        tuned = any(r["tuned"] for r in sel)
        by_step = {r["steps"]: r for r in sel if r["tuned"] == tuned and r["steps"]}
        label = LABELS[method]
        pub = PUBLISHED_MULTI_TASK.get(method)
        lam = sel[0].get("reg_strength")
        frac = sel[0].get("own_task_fraction_below")
        lines.append(f"| {label} | {'—' if lam is None else f'{lam:g}'} | "
                     f"{'—' if frac is None else f'{frac:.1%}'} | "
                     + " | ".join(f"{_num(by_step[s]['mse'])} ± {_num(by_step[s]['ci95'])}"
                                  + (f" (α = {by_step[s]['inner_lr']:g})" if tuned else "") for s in (1, 5, 10))
                     + f" | {' / '.join(f'{pub[s]:.2f}' for s in (1, 5, 10)) if pub else '—'} |")
    lines += ["", "**Points needed** on a new task to reach a target MSE (smallest K of "
              f"{list(SHOTS_GRID)}):", "", "| method | protocol | "
              + " | ".join(f"MSE ≤ {t:g}" for t in TARGET_MSES) + " |", "|---|---|" + "---|" * len(TARGET_MSES)]
    for method in dict.fromkeys(r["method"] for r in rows if r["experiment"] == "points_needed"):
        sel = {r["target_mse"]: r for r in rows if r["experiment"] == "points_needed" and r["method"] == method}
        lines.append(f"| {method} | {sel[TARGET_MSES[0]]['protocol']} | "
                     + " | ".join(str(sel[t]["num_shots"] or "> 160") for t in TARGET_MSES) + " |")
    shift = [r for r in rows if r["experiment"] == "shift_sinusoid"]
    if shift:
        methods = list(dict.fromkeys(r["method"] for r in shift))
        lines += ["", "**Cross-domain shift** — 5-shot nMSE (MSE / the targets' mean square; 1 = predicting 0): "
                  "mean ± 95 % CI after 1 step; the median task's after 10 steps, with the share of tasks whose "
                  "fine-tuning diverged in brackets.", "",
                  "| shift | " + " | ".join(LABELS.get(m, m) for m in methods) + " |",
                  "|---|" + "---|" * len(methods)]
        for kind, value in dict.fromkeys((r["shift_kind"], r["shift"]) for r in shift):
            cells = []
            for m in methods:
                by = {r["steps"]: r for r in shift if r["method"] == m and r["shift_kind"] == kind
                      and r["shift"] == value}
                cells.append(f"{_num(by[1]['nmse'])} ± {_num(by[1]['nmse_ci95'])}; {_num(by[10]['median_nmse'])} "
                             f"({by[10]['diverged_fraction']:.0%})")
            lines.append(f"| {kind} {value:g} | " + " | ".join(cells) + " |")
    bandit_rows = [r for r in rows if r["experiment"] == "bandit_shift"]
    switching_rows = [r for r in rows if r["experiment"] == "switching_bandit"]
    if bandit_rows or switching_rows:
        lines += ["", applications_bandits.markdown(bandit_rows, switching_rows, results["command"])]
    online = [r for r in rows if r["experiment"].startswith("online")]
    if online:
        lines += ["", "## Online adaptation", "",
                  applications_online.markdown({**results["online"], "rows": online, "command": results["command"]})]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, seconds (a smoke test)")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH", help="write rows as JSON (+ .md)")
    parser.add_argument("--ship", action="store_true", help="train the sinusoid starts and ship them")
    parser.add_argument("--ship-starts", nargs="+", default=list(TRAINED_STARTS), choices=TRAINED_STARTS,
                        help="with --ship: which starts to train (the others are loaded)")
    parser.add_argument("--sections", nargs="+", default=["multi_task", "efficiency", "shift", "bandits", "online"],
                        choices=["multi_task", "efficiency", "shift", "bandits", "online"])
    parser.add_argument("--report-only", action="store_true", help="rewrite the .md of --json; run nothing")
    parser.add_argument("--update", action="store_true",
                        help="keep the other sections' rows of the existing --json file, replace these sections'")
    parser.add_argument("--no-progress", dest="progress", action="store_false", help="no tqdm progress bars")
    args = parser.parse_args(argv)
    if (args.update or args.report_only) and (args.json is None or not args.json.exists()):
        parser.error("--update and --report-only need an existing --json PATH")
    if args.report_only:
        results = json.loads(args.json.read_text(encoding="utf-8"))
        args.json.with_suffix(".md").write_text(markdown(results), encoding="utf-8")
        return 0
    seed_everything(0)
    command = " ".join([Path(sys.argv[0]).as_posix(), *(argv if argv is not None else sys.argv[1:])])
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    if args.ship or args.quick:
        starts = ship_starts(args, command)
    else:
        starts = {name: load_shipped_start(name) for name in TRAINED_STARTS}
    starts["scratch"] = scratch_start(0)
    timings["starts"] = time.perf_counter() - t0
    rows: list[dict[str, Any]] = []
    results: dict[str, Any] = {"benchmark": "applications", "command": command, "quick": args.quick,
                               "date": utc_now(), "machine": machine_info(), "test_seed": TEST_SEED,
                               "published": {"multi_task": PUBLISHED_MULTI_TASK}}
    if "multi_task" in args.sections:
        t = time.perf_counter()
        section, results["multi_task"] = multi_task_rows(starts, args)
        rows += section
        timings["multi_task"] = time.perf_counter() - t
    if "efficiency" in args.sections:
        t = time.perf_counter()
        rows += efficiency_rows(starts, args)
        timings["efficiency"] = time.perf_counter() - t
    if "shift" in args.sections:
        t = time.perf_counter()
        grids = {k: v[::2] for k, v in SHIFT_GRIDS.items()} if args.quick else SHIFT_GRIDS
        order = ["maml", "meta_sgd", "maml_broad", "pretrained", "scratch"]
        rows += shift_rows([starts[n] for n in order], grids=grids, steps=SHIFT_STEPS,
                           num_tasks=100 if args.quick else 600, seed=TEST_SEED)
        timings["shift"] = time.perf_counter() - t
    if "bandits" in args.sections:
        t = time.perf_counter()
        rows += applications_bandits.bandit_shift_rows(args.quick)
        rows += applications_bandits.switching_bandit_rows(args.quick)
        timings["bandits"] = time.perf_counter() - t
    if "online" in args.sections:
        t = time.perf_counter()
        online = applications_online.run_benchmark(args.quick, starts["maml"].params, starts["pretrained"].params)
        rows += online.pop("rows")
        results["online"] = online  # the tuned β and η, the configuration, the wall time per stream
        timings["online"] = time.perf_counter() - t
    if args.update:
        old = json.loads(args.json.read_text(encoding="utf-8"))
        replaced = {e for section in args.sections for e in SECTION_EXPERIMENTS[section]}
        rows = [r for r in old["rows"] if r["experiment"] not in replaced] + rows
        timings = {**old.get("timings_s", {}), **timings}
        for key in ("multi_task", "online"):
            results[key] = results.get(key, old.get(key))
        results["commands"] = [*old.get("commands", [old["command"]]), command]
    results["rows"] = rows
    results["timings_s"] = timings
    results["total_wall_s"] = sum(v for k, v in timings.items())
    if args.json is not None:  # the JSON first: a failing table must not lose the run
        write_report(args.json, results, "")
        results = json.loads(args.json.read_text(encoding="utf-8"))  # the table from the stored values
    table = markdown(results)
    print(table)
    if args.json is not None:
        args.json.with_suffix(".md").write_text(table, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
