"""Chapter 1 benchmark: few-shot error of learners-as-maps as the number of shots K grows.

Compares, on the same 1000 held-out test tasks, five maps from a task's data to a predictor
(:mod:`metalearn_lib.mapping`): the support mean, ridge regression with a fixed prior (λ = 1,
μ = 0), ridge with a prior learned across tasks by gradient descent through the closed-form
solve, ridge with a prior set by empirical Bayes, and an amortised CNP-style network. Two task
families: linear tasks with a non-zero prior mean, and the MAML sinusoids with Fourier features.

There is no published table for this set-up; the claims it checks are the chapter's: a learned
prior beats a fixed one with few shots, the gap closes as K grows, and the amortised map comes
close to the learned prior without being told the model class.

Usage::

    python benchmarks/mapping.py --quick --json benchmarks/results/mapping_quick.json
    python benchmarks/mapping.py --json benchmarks/results/mapping_full.json

``--json PATH`` writes rows ``{"family", "learner", "shots", "mse", "ci95"}`` plus per-learner
training ``{"wall_s"}`` as JSON, and the markdown tables to ``PATH`` with the suffix ``.md``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import platform
import time
from pathlib import Path
from typing import Any

from _report import write_report  # benchmarks/ is on sys.path when a script runs

from metalearn_lib import seed_everything, tf  # tf: TensorFlow, imported quietly
from metalearn_lib.mapping import (
    RidgeLearner,
    compare_by_shots,
    fourier_features,
    learn_prior,
    support_mean_learner,
    train_amortised,
)
from metalearn_lib.tasks import LinearFamily, SinusoidFamily

SHOTS = (1, 2, 5, 10, 20)


def families() -> dict[str, tuple[Any, dict[str, Any]]]:
    """Name → (task family, keyword arguments giving the ridge maps their feature map)."""
    return {
        "linear: w ~ N(2, 0.5²), noise 0.3, φ(x) = [x, 1]":
            (LinearFamily(num_features=1, weight_mean=2.0, weight_std=0.5, noise_std=0.3), {}),
        "sinusoid (MAML), φ(x) = [sin x, cos x, 1]":
            (SinusoidFamily(), {"features": fourier_features}),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    prior_iterations = 100 if args.quick else 500
    amortised_iterations = 500 if args.quick else 5000
    num_tasks = 200 if args.quick else 1000
    rows: list[dict[str, Any]] = []
    timings: list[dict[str, Any]] = []
    tables: list[str] = []
    for family_name, (family, ridge_kwargs) in families().items():
        seed_everything(args.seed)
        trained: dict[str, Any] = {"support mean": support_mean_learner,
                                   "fixed prior (λ = 1)": RidgeLearner(**ridge_kwargs)}
        for label, method in (("learned prior (gradient)", "gradient"),
                              ("learned prior (empirical Bayes)", "empirical_bayes")):
            start = time.perf_counter()
            result = learn_prior(family, method=method, num_iterations=prior_iterations, seed=args.seed,
                                 progress=args.progress, **ridge_kwargs)
            timings.append({"family": family_name, "learner": label, "wall_s": time.perf_counter() - start})
            trained[label] = result.learner
        start = time.perf_counter()
        amortised = train_amortised(family, num_iterations=amortised_iterations, seed=args.seed, progress=args.progress)
        timings.append({"family": family_name, "learner": "amortised (CNP)", "wall_s": time.perf_counter() - start})
        trained["amortised (CNP)"] = amortised.learner
        comparison = compare_by_shots(trained, family, shots=SHOTS, num_tasks=num_tasks, num_query=100,
                                      seed=1_000_000 + args.seed)
        for name in comparison.names:
            for j, k in enumerate(comparison.shots):
                rows.append({"family": family_name, "learner": name, "shots": int(k),
                             "mse": float(comparison.mean_mse[name][j]), "ci95": float(comparison.ci95[name][j])})
        tables.append(f"**{family_name}** — query MSE, mean ± 95 % CI over {num_tasks} test tasks\n\n"
                      f"{comparison.table()}")
    config = {"quick": args.quick, "seed": args.seed, "prior_iterations": prior_iterations,
              "amortised_iterations": amortised_iterations, "test_tasks": num_tasks, "shots": list(SHOTS)}
    return {"config": config, "rows": rows, "training": timings, "tables": tables}


def markdown(result: dict[str, Any], command: str) -> str:
    timing = "\n".join(f"| {t['family'].split(':')[0].split(' (')[0]} | {t['learner']} | {t['wall_s']:.1f} |"
                       for t in result["training"])
    return "\n\n".join([
        f"Command: `{command}`",
        *result["tables"],
        "| family | learner | training wall time (s) |\n|---|---|---:|\n" + timing,
        f"TensorFlow {tf.__version__}, {os.cpu_count()} CPU cores, {platform.machine()}, "
        f"{_dt.datetime.now(_dt.UTC).isoformat(timespec='seconds')}.",
    ]) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations and test tasks (about 20 s)")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH", help="write rows as JSON (+ .md table)")
    parser.add_argument("--seed", type=int, default=0, help="seed of training (test tasks use 1,000,000 + seed)")
    parser.add_argument("--no-progress", dest="progress", action="store_false", help="no tqdm progress bars")
    args = parser.parse_args(argv)
    result = run(args)
    command = "benchmarks/mapping.py" + (" --quick" if args.quick else "")
    command += f" --json {args.json}" if args.json else ""
    text = markdown(result, command)
    print(text)
    if args.json is not None:
        write_report(args.json, result, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
