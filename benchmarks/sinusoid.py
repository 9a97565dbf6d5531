"""Sinusoid regression benchmark: MAML, first-order MAML, Reptile and a pretrained baseline.

Reproduces the set-up of Finn, Abbeel & Levine (2017), section 5.1 / Table 2, with the course's
own implementations (:mod:`metalearn_lib.two_level`):

- tasks y = A·sin(x − φ), A ~ U[0.1, 5], φ ~ U[0, π], x ~ U[−5, 5];
- network 1-40-40-1 ReLU, weights from a truncated normal with std 0.01 (the reference code);
- meta-training: K = 10 support + 10 query points, 1 inner SGD step, α = 0.01 (the paper's
  value; the reference code's default is 1e-3), meta-batch 25, Adam 1e-3, 70,000 iterations;
- evaluation: fine-tune on K = 5 (and 10) points with SGD, α = 0.01, the same points at every
  step, over 600 test tasks; mean query MSE (100 query points over the whole x range) after
  0, 1, 5 and 10 steps, with 95 % CI = 1.96·std/√600.

Reptile's own hyperparameters (see README.md): 5 full-batch inner SGD steps with α = 0.01 on all
20 points of a task, outer step ε = 1.0 annealed linearly to 0, meta-batch 25. (The Reptile
paper's inner α = 0.02 diverged to NaN after 57,000 iterations here.)

Usage::

    python benchmarks/sinusoid.py --quick --json benchmarks/results/sinusoid_quick.json
    nohup python benchmarks/sinusoid.py --json benchmarks/results/sinusoid_full.json > log 2>&1 &

``--json PATH`` writes the rows and timings as JSON and the markdown table to ``PATH`` with the
suffix ``.md``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import math
import os
import platform
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from _report import write_report  # benchmarks/ is on sys.path when a script runs

from metalearn_lib import seed_everything, tf  # tf: TensorFlow, imported quietly
from metalearn_lib.models import init_mlp
from metalearn_lib.tasks import SinusoidFamily
from metalearn_lib.two_level import METHODS, evaluate_fine_tuning, meta_train

#: Finn, Abbeel, Levine (2017), Table 2: 5-shot MSE after 1 / 5 / 10 steps (K = 10 training).
PUBLISHED: dict[str, dict[int, float]] = {
    "maml": {1: 0.67, 5: 0.38, 10: 0.35},
    "pretrained": {1: 2.41, 5: 2.23, 10: 2.19},
}
LABELS = {
    "maml": "MAML (second order)",
    "fomaml": "first-order MAML",
    "reptile": "Reptile",
    "pretrained": "pretrained on all tasks (tuned α)",
    "pretrained_fixed_lr": "pretrained on all tasks (α = 0.01)",
}
EVAL_STEPS = (0, 1, 5, 10)
#: Grid for the pretrained baseline's tuned fine-tuning step.
BASELINE_LRS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2)
TABLE_STEPS = (1, 5, 10)


@dataclass(frozen=True)
class MethodConfig:
    """Training hyperparameters of one method (arguments of ``meta_train``)."""

    num_iterations: int
    inner_lr: float = 0.01
    num_inner_steps: int = 1
    outer_lr: float = 1e-3
    anneal_outer_lr: bool = False


#: The full configuration (MAML paper; Reptile from Nichol et al. 2018, adapted to K = 10 + 10).
FULL: dict[str, MethodConfig] = {
    "maml": MethodConfig(70_000),
    "fomaml": MethodConfig(70_000),
    "reptile": MethodConfig(70_000, inner_lr=0.01, num_inner_steps=5, outer_lr=1.0,
                            anneal_outer_lr=True),
    "pretrained": MethodConfig(70_000),
}
QUICK_ITERATIONS = 4_000


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK_ITERATIONS} iterations per method and 200 test tasks "
                             "(under 2 minutes)")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH",
                        help="write results as JSON to PATH and the markdown table beside it")
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS),
                        help="methods to run (default: all)")
    parser.add_argument("--iterations", type=int, default=None,
                        help="override the number of meta-iterations of every method")
    parser.add_argument("--test-tasks", type=int, default=None,
                        help="test tasks (default 600; 200 with --quick)")
    parser.add_argument("--test-shots", type=int, nargs="+", default=[5, 10],
                        help="K at test time (default: 5 10)")
    parser.add_argument("--no-jit", dest="jit", action="store_false",
                        help="do not compile the training step with XLA")
    parser.add_argument("--iterations-per-call", type=int, default=500,
                        help="meta-iterations per compiled call")
    parser.add_argument("--init", choices=["truncated_normal", "glorot", "he"],
                        default="truncated_normal",
                        help="weight initialisation (default: the reference code's truncated "
                             "normal, std 0.01)")
    parser.add_argument("--seed", type=int, default=0, help="seed of init and training tasks")
    parser.add_argument("--no-progress", dest="progress", action="store_false",
                        help="hide the progress bars")
    args = parser.parse_args(argv)
    if args.iterations is not None and args.iterations < 1:
        parser.error("--iterations must be >= 1")
    if args.test_tasks is not None and args.test_tasks < 2:
        parser.error("--test-tasks must be >= 2")
    if any(k < 1 for k in args.test_shots):
        parser.error("--test-shots must be >= 1")
    return args


def tuned_baseline_rows(
    params: list[tf.Tensor], family: SinusoidFamily, test_shots: int, num_tasks: int
) -> list[dict[str, Any]]:
    """The pretrained baseline with its fine-tuning step "automatically tuned" (MAML paper).

    For each step count, the SGD step α is chosen from :data:`BASELINE_LRS` by the mean MSE on
    separate validation tasks (seed 20,000 + K), then measured on the usual test tasks.
    """
    best: dict[int, tuple[float, float]] = {}
    for lr in BASELINE_LRS:
        val = evaluate_fine_tuning(params, family, num_tasks=num_tasks, num_shots=test_shots,
                                   num_query=100, steps=EVAL_STEPS, inner_lr=lr,
                                   seed=20_000 + test_shots)
        for steps, mse in zip(val.steps, val.mean_mse, strict=True):
            if steps == 0:  # nothing to tune
                best[steps] = (0.01, mse)
            elif steps not in best or mse < best[steps][1]:
                best[steps] = (lr, mse)
    rows = []
    for steps in EVAL_STEPS:
        lr = best[steps][0]
        ev = evaluate_fine_tuning(params, family, num_tasks=num_tasks, num_shots=test_shots,
                                  num_query=100, steps=(steps,), inner_lr=lr,
                                  seed=10_000 + test_shots)
        rows.append({"method": "pretrained", "train_shots": 10, "test_shots": test_shots,
                     "steps": steps, "mse": ev.mean_mse[0], "ci95": ev.ci95[0], "inner_lr": lr,
                     "median": ev.median_mse[0], "diverged_tasks": ev.num_diverged[0]})
    return rows


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Train and evaluate every requested method; return the JSON-ready results."""
    seed_everything(args.seed)
    family = SinusoidFamily()
    num_test_tasks = args.test_tasks or (200 if args.quick else 600)
    rows: list[dict[str, Any]] = []
    timings: list[dict[str, Any]] = []
    t_start = time.perf_counter()
    for method in args.methods:
        cfg = FULL[method]
        if args.quick:
            cfg = replace(cfg, num_iterations=QUICK_ITERATIONS)
        if args.iterations is not None:
            cfg = replace(cfg, num_iterations=args.iterations)
        params = init_mlp([1, 40, 40, 1], seed=args.seed, init=args.init)
        result = meta_train(
            params, family, method=method, num_iterations=cfg.num_iterations,
            meta_batch_size=25, num_shots=10, num_query=10, inner_lr=cfg.inner_lr,
            num_inner_steps=cfg.num_inner_steps, outer_lr=cfg.outer_lr,
            anneal_outer_lr=cfg.anneal_outer_lr, seed=args.seed,
            iterations_per_call=args.iterations_per_call, jit_compile=args.jit,
            progress=args.progress,
        )
        timings.append({"method": method, "meta_iterations_per_s": result.iterations_per_s,
                        "wall_s": result.wall_s, "train_config": result.config,
                        "final_train_loss": float(result.losses[-1000:].mean())})
        for test_shots in args.test_shots:
            ev = evaluate_fine_tuning(result.params, family, num_tasks=num_test_tasks,
                                      num_shots=test_shots, num_query=100, steps=EVAL_STEPS,
                                      inner_lr=0.01, seed=10_000 + test_shots)
            name = "pretrained_fixed_lr" if method == "pretrained" else method
            for k, steps in enumerate(ev.steps):
                rows.append({"method": name, "train_shots": 10, "test_shots": test_shots,
                             "steps": steps, "mse": ev.mean_mse[k], "ci95": ev.ci95[k],
                             "inner_lr": 0.01, "median": ev.median_mse[k],
                             "diverged_tasks": ev.num_diverged[k]})
            if method == "pretrained":
                rows += tuned_baseline_rows(result.params, family, test_shots, num_test_tasks)
        print(f"{method}: {result.wall_s:.1f} s, {result.iterations_per_s:.0f} it/s, "
              + ", ".join(f"{r['method']} {r['test_shots']}-shot/{r['steps']} steps {r['mse']:.3f}"
                          for r in rows if r["method"].startswith(method)
                          and r["steps"] in TABLE_STEPS),
              flush=True)
    return {
        "benchmark": "sinusoid",
        "command": " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
        "quick": args.quick,
        "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "environment": {
            "python": platform.python_version(), "tensorflow": tf.__version__,
            "cpu_count": os.cpu_count(), "machine": platform.machine(),
            "load_average_at_end": list(os.getloadavg()), "jit_compile": args.jit,
            "init": args.init,
        },
        "evaluation": {"test_tasks": num_test_tasks, "query_points": 100, "inner_lr": 0.01,
                       "optimizer": "SGD, same K points each step", "ci95": "1.96*std/sqrt(n)",
                       "pretrained_lr_grid": list(BASELINE_LRS),
                       "pretrained_lr_selection": "per (test_shots, steps), lowest mean MSE on "
                                                  "validation tasks seeded 20000 + test_shots"},
        "total_wall_s": time.perf_counter() - t_start,
        "rows": rows,
        "timings": timings,
        "published": {"source": "Finn, Abbeel, Levine 2017, Table 2 (5-shot, K=10 training)",
                      "rows": PUBLISHED},
    }


def _number(value: float | None) -> str:
    """A table number: 2 decimals, scientific notation above 1000, "nan" for NaN/None."""
    if value is None or not math.isfinite(value):
        return "inf" if value == math.inf else "nan"
    return f"{value:.2f}" if abs(value) < 1e3 else f"{value:.1e}"


def _cell(row: dict[str, Any] | None) -> str:
    """``mean ± ci`` for one table cell, "—" when missing."""
    if row is None:
        return "—"
    return f"{_number(row['mse'])} ± {_number(row['ci95'])}"


def markdown(results: dict[str, Any]) -> str:
    """The results as markdown tables, the published numbers beside the 5-shot ones."""
    rows, timings = results["rows"], results["timings"]
    lookup = {(r["method"], r["test_shots"], r["steps"]): r for r in rows}
    methods = list(dict.fromkeys(r["method"] for r in rows))
    lines = [f"Command: `{results['command']}`  ",
             f"{results['evaluation']['test_tasks']} test tasks, 100 query points, SGD α = 0.01 "
             "(the tuned baseline: α chosen per column on validation tasks, shown); "
             "mean MSE ± 95 % CI. Trained with K = 10.", ""]
    for test_shots in sorted({r["test_shots"] for r in rows}):
        header = "| method | " + " | ".join(f"{s} step{'s' * (s != 1)}" for s in EVAL_STEPS)
        if test_shots == 5:
            header += " | published 1 / 5 / 10 |"
        else:
            header += " |"
        lines += [f"**{test_shots}-shot** (K = {test_shots} at test time)", "", header,
                  "|" + "---|" * (len(EVAL_STEPS) + 1 + (test_shots == 5))]
        for method in methods:
            cells = []
            for s in EVAL_STEPS:
                r = lookup.get((method, test_shots, s))
                cell = _cell(r)
                if r and r["inner_lr"] != 0.01:
                    cell += f" (α={r['inner_lr']:g})"
                if r and r["diverged_tasks"]:
                    cell += f" ({r['diverged_tasks']} diverged; median {_number(r['median'])})"
                cells.append(cell)
            line = f"| {LABELS[method]} | " + " | ".join(cells)
            if test_shots == 5:
                pub = PUBLISHED.get(method)
                line += " | " + (" / ".join(f"{pub[s]:.2f}" for s in TABLE_STEPS) if pub else "—")
            lines.append(line + " |")
        lines += ["", f"Median over tasks, {test_shots}-shot (robust to the few tasks where SGD "
                      "with α = 0.01 blows up):", "",
                  "| method | " + " | ".join(f"{s}" for s in EVAL_STEPS) + " |",
                  "|" + "---|" * (len(EVAL_STEPS) + 1)]
        for method in methods:
            meds = [lookup.get((method, test_shots, s)) for s in EVAL_STEPS]
            lines.append(f"| {LABELS[method]} | "
                         + " | ".join(_number(r["median"]) if r else "—" for r in meds) + " |")
        lines.append("")
    lines += ["| method | meta-iterations | wall time (s) | meta-iterations / s |",
              "|---|---|---|---|"]
    for t in timings:
        lines.append(f"| {LABELS[t['method']].split(' (')[0]} | "
                     f"{t['train_config']['num_iterations']} | "
                     f"{t['wall_s']:.1f} | {t['meta_iterations_per_s']:.0f} |")
    env = results["environment"]
    lines += ["", f"TensorFlow {env['tensorflow']}, {env['cpu_count']} CPU cores, "
                  f"XLA jit_compile={env['jit_compile']}, init {env['init']}, load average at end "
                  f"{env['load_average_at_end'][0]:.2f} (the cores were shared), "
                  f"{results['date']}.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the table, optionally write JSON and markdown."""
    args = parse_args(argv)
    results = run(args)
    table = markdown(results)
    print()
    print(table)
    if args.json is not None:
        write_report(args.json, results, table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
