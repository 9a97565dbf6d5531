"""Teacher benchmarks (chapter 4): Meta-SGD vs MAML; the learned optimiser vs SGD and Adam.

Section ``meta_sgd`` — the Meta-SGD set-up of Li, Zhou, Chen, Li (2017), sinusoid regression,
with the course's implementations (:mod:`metalearn_lib.teacher.meta_sgd`,
:mod:`metalearn_lib.two_level`):

- tasks y = A·sin(x − φ), A ~ U[0.1, 5], φ ~ U[0, π], x ~ U[−5, 5] (``SinusoidFamily()``; the
  paper's family may also vary the frequency);
- network 1-40-40-1 ReLU, weights truncated normal std 0.01;
- training: K = 5 support + 10 query points, one adaptation step, meta-batch 25, Adam 1e-3,
  60,000 iterations (the paper's count) for both methods; MAML with fixed α = 0.01, Meta-SGD
  with α (one per weight) initialised to 0.01 and learned;
- evaluation: one adaptation step (MAML: α = 0.01; Meta-SGD: its learned α) on K = 5, 10, 20
  points of 600 test tasks (seed 10,000 + K); query MSE on 100 points over the whole x range,
  mean ± 95 % CI = 1.96·std/√600.

Section ``learned_optimizer`` — the learned optimiser of
:mod:`metalearn_lib.teacher.learned_optimizer` (Andrychowicz et al. 2016, features after Metz et
al. 2020) on ill-conditioned linear regression:

- tasks ``ScaledFeatures(LinearFamily(num_features=8, noise_std=0.1), np.logspace(-1, 1, 8))``
  (input j scaled by s_j ∈ [0.1, 10], condition number ~10⁴), 20 points per task, a linear
  learner from ``init_mlp([8, 1], 0)``;
- meta-training: second-order truncated BPTT over 20-step unrolls, meta-batch 16, Adam 3e-3,
  3,000 meta-iterations (300 with ``--quick``);
- evaluation (``compare_optimizers``): support-set MSE after H = 20 (the trained horizon) and
  H = 100 (5×) steps on 600 held-out tasks (200 with ``--quick``), against SGD and Adam whose
  step sizes are tuned per horizon on separate validation tasks; mean ± 95 % CI.

Sections live in :data:`SECTIONS` (name → :class:`Section`); ``--sections`` picks which run.

Usage::

    python benchmarks/teachers.py --quick --json benchmarks/results/teachers_quick.json
    nohup python benchmarks/teachers.py --json benchmarks/results/teachers_full.json > log 2>&1 &

``--json PATH`` writes the rows and timings as JSON and the markdown tables to ``PATH`` with the
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
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from _report import write_report  # benchmarks/ is on sys.path when a script runs

from metalearn_lib import seed_everything, tf  # tf: TensorFlow, imported quietly
from metalearn_lib.models import init_mlp
from metalearn_lib.tasks import LinearFamily, SinusoidFamily
from metalearn_lib.teacher.learned_optimizer import (
    ScaledFeatures,
    compare_optimizers,
    meta_train_learned_optimizer,
)
from metalearn_lib.teacher.meta_sgd import evaluate_meta_sgd, meta_train_meta_sgd
from metalearn_lib.two_level import evaluate_fine_tuning, meta_train

# --------------------------------------------------------------------------------------------
# section "meta_sgd"
# --------------------------------------------------------------------------------------------
#: Li et al. (2017), sinusoid, trained 5-shot, 1 step: test shots → (MSE, ± CI).
META_SGD_PUBLISHED: dict[str, dict[int, tuple[float, float]]] = {
    "maml": {5: (1.13, 0.18), 10: (0.85, 0.14), 20: (0.71, 0.12)},
    "meta_sgd": {5: (0.90, 0.16), 10: (0.63, 0.12), 20: (0.50, 0.10)},
}
META_SGD_LABELS = {"maml": "MAML (fixed α = 0.01)", "meta_sgd": "Meta-SGD (learned α)"}
META_SGD_FULL_ITERATIONS = 60_000
META_SGD_QUICK_ITERATIONS = 2_000
TRAIN_SHOTS = 5
TRAIN_QUERY = 10
TEST_SHOTS = (5, 10, 20)
EVAL_STEPS = (0, 1)


def run_meta_sgd(args: argparse.Namespace) -> dict[str, Any]:
    """Train MAML and Meta-SGD 5-shot with one step; test at 5/10/20 shots after one step."""
    family = SinusoidFamily()
    num_iterations = args.iterations or (META_SGD_QUICK_ITERATIONS if args.quick
                                         else META_SGD_FULL_ITERATIONS)
    num_test_tasks = args.test_tasks or (200 if args.quick else 600)
    rows: list[dict[str, Any]] = []
    timings: list[dict[str, Any]] = []
    common = dict(num_iterations=num_iterations, meta_batch_size=25, num_shots=TRAIN_SHOTS,
                  num_query=TRAIN_QUERY, outer_lr=1e-3, seed=args.seed,
                  iterations_per_call=args.iterations_per_call, jit_compile=args.jit,
                  progress=args.progress)
    for method in ("maml", "meta_sgd"):
        params = init_mlp([1, 40, 40, 1], seed=args.seed)
        evaluate: Callable[[int], Any]
        if method == "maml":
            res = meta_train(params, family, method="maml", inner_lr=0.01, **common)
            alpha_stats: dict[str, float] = {}

            def evaluate(k: int, res: Any = res) -> Any:
                return evaluate_fine_tuning(res.params, family, num_tasks=num_test_tasks,
                                            num_shots=k, num_query=100, steps=EVAL_STEPS,
                                            inner_lr=0.01, seed=10_000 + k)
        else:
            res = meta_train_meta_sgd(params, family, init_alpha=0.01, **common)
            flat = tf.concat([tf.reshape(a, [-1]) for a in res.alphas], 0).numpy()
            alpha_stats = {"alpha_mean": float(flat.mean()), "alpha_min": float(flat.min()),
                           "alpha_max": float(flat.max()),
                           "alpha_negative_fraction": float((flat < 0).mean())}

            def evaluate(k: int, res: Any = res) -> Any:
                return evaluate_meta_sgd(res, family, num_tasks=num_test_tasks, num_shots=k,
                                         num_query=100, steps=EVAL_STEPS, seed=10_000 + k)
        timings.append({"method": method, "meta_iterations": num_iterations,
                        "wall_s": res.wall_s, "meta_iterations_per_s": res.iterations_per_s,
                        "final_train_loss": float(res.losses[-1000:].mean()),
                        "train_config": res.config, **alpha_stats})
        for k in TEST_SHOTS:
            ev = evaluate(k)
            for j, steps in enumerate(ev.steps):
                rows.append({"method": method, "train_shots": TRAIN_SHOTS, "test_shots": k,
                             "steps": steps, "mse": ev.mean_mse[j], "ci95": ev.ci95[j],
                             "median": ev.median_mse[j], "diverged_tasks": ev.num_diverged[j]})
        print(f"{method}: {res.wall_s:.1f} s, {res.iterations_per_s:.0f} it/s, "
              + ", ".join(f"{r['test_shots']}-shot {r['mse']:.3f}" for r in rows
                          if r["method"] == method and r["steps"] == 1), flush=True)
    return {"rows": rows, "timings": timings,
            "evaluation": {"test_tasks": num_test_tasks, "query_points": 100,
                           "test_shots": list(TEST_SHOTS), "steps": list(EVAL_STEPS),
                           "ci95": "1.96*std/sqrt(n)", "test_seed": "10000 + test_shots"},
            "published": {"source": "Li, Zhou, Chen, Li 2017 (secondhand copies, see "
                                    "shared/notes/published-results.md)",
                          "rows": {m: {str(k): v for k, v in d.items()}
                                   for m, d in META_SGD_PUBLISHED.items()}}}


def markdown_meta_sgd(section: dict[str, Any]) -> list[str]:
    """The Meta-SGD table: 1-step MSE at each test K, the published numbers beside."""
    lookup = {(r["method"], r["test_shots"], r["steps"]): r for r in section["rows"]}
    ev = section["evaluation"]
    lines = ["## Meta-SGD vs MAML (sinusoid, trained 5-shot, one adaptation step)", "",
             f"{ev['test_tasks']} test tasks, 100 query points, one step; mean MSE ± 95 % CI "
             "(published: Li et al. 2017).", "",
             "| method | " + " | ".join(f"{k}-shot" for k in TEST_SHOTS)
             + " | published " + " / ".join(str(k) for k in TEST_SHOTS) + " |",
             "|" + "---|" * (len(TEST_SHOTS) + 2)]
    for method, label in META_SGD_LABELS.items():
        cells = []
        for k in TEST_SHOTS:
            r = lookup.get((method, k, 1))
            cell = _cell(r)
            if r and r["diverged_tasks"]:
                cell += f" ({r['diverged_tasks']} diverged; median {_number(r['median'])})"
            cells.append(cell)
        pub = META_SGD_PUBLISHED[method]
        lines.append(f"| {label} | " + " | ".join(cells) + " | "
                     + " / ".join(f"{pub[k][0]:.2f}" for k in TEST_SHOTS) + " |")
    wins = [lookup.get(("meta_sgd", k, 1), {}).get("mse", math.inf)
            < lookup.get(("maml", k, 1), {}).get("mse", -math.inf) for k in TEST_SHOTS]
    lines += ["", f"Meta-SGD below MAML at {sum(wins)} of {len(TEST_SHOTS)} shot counts "
                  f"(target: all).", "",
              "Before adaptation (0 steps): "
              + ", ".join(f"{META_SGD_LABELS[m].split(' (')[0]} "
                          + " / ".join(_number(lookup[(m, k, 0)]["mse"]) for k in TEST_SHOTS
                                       if (m, k, 0) in lookup)
                          for m in META_SGD_LABELS) + f" at {'/'.join(map(str, TEST_SHOTS))}"
                                                      " shots.", "",
              "| method | meta-iterations | wall time (s) | meta-iterations / s | learned α |",
              "|---|---|---|---|---|"]
    for t in section["timings"]:
        alpha = (f"mean {t['alpha_mean']:.4f}, range [{t['alpha_min']:.3f}, "
                 f"{t['alpha_max']:.3f}], {100 * t['alpha_negative_fraction']:.0f} % < 0"
                 if "alpha_mean" in t else "—")
        lines.append(f"| {META_SGD_LABELS[t['method']].split(' (')[0]} | {t['meta_iterations']} "
                     f"| {t['wall_s']:.1f} | {t['meta_iterations_per_s']:.0f} | {alpha} |")
    return lines + [""]


# --------------------------------------------------------------------------------------------
# section "learned_optimizer"
# --------------------------------------------------------------------------------------------
LEARNED_OPT_FULL_ITERATIONS = 3_000
LEARNED_OPT_QUICK_ITERATIONS = 300
LEARNED_OPT_UNROLL = 20
LEARNED_OPT_HORIZONS = (LEARNED_OPT_UNROLL, 5 * LEARNED_OPT_UNROLL)
LEARNED_OPT_FEATURES = 8
LEARNED_OPT_SCALES = tuple(float(s) for s in np.logspace(-1, 1, LEARNED_OPT_FEATURES))
LEARNED_OPT_COMPARE_SEED = 1_000_000
#: Step-size grids of the baselines (``compare_optimizers``' defaults, recorded in the JSON).
LEARNED_OPT_SGD_LRS = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
LEARNED_OPT_ADAM_LRS = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
LEARNED_OPT_LABELS = {"learned": "learned optimiser", "sgd": "SGD (tuned per horizon)",
                      "adam": "Adam (tuned per horizon)"}


def run_learned_optimizer(args: argparse.Namespace) -> dict[str, Any]:
    """Meta-train the learned optimiser on 20-step unrolls; compare with tuned SGD and Adam."""
    family = ScaledFeatures(LinearFamily(num_features=LEARNED_OPT_FEATURES, noise_std=0.1),
                            LEARNED_OPT_SCALES)
    num_iterations = args.iterations or (LEARNED_OPT_QUICK_ITERATIONS if args.quick
                                         else LEARNED_OPT_FULL_ITERATIONS)
    num_test_tasks = args.test_tasks or (200 if args.quick else 600)
    res = meta_train_learned_optimizer(
        family, num_iterations=num_iterations, unroll=LEARNED_OPT_UNROLL, truncations=1,
        meta_batch_size=16, num_shots=20, outer_lr=3e-3, seed=args.seed,
        iterations_per_call=min(args.iterations_per_call, 100), progress=args.progress)
    t0 = time.perf_counter()
    cmp = compare_optimizers(res.opt_params, family, num_tasks=num_test_tasks, num_shots=20,
                             horizons=LEARNED_OPT_HORIZONS, sgd_lrs=LEARNED_OPT_SGD_LRS,
                             adam_lrs=LEARNED_OPT_ADAM_LRS, seed=LEARNED_OPT_COMPARE_SEED)
    compare_wall_s = time.perf_counter() - t0
    rows: list[dict[str, Any]] = []
    for method in LEARNED_OPT_LABELS:
        for h in LEARNED_OPT_HORIZONS:
            loss, ci = cmp[method][h]
            rows.append({"section": "learned_optimizer", "method": method, "horizon": h,
                         "loss": loss, "ci95": ci,
                         "lr": cmp[f"{method}_lr"][h] if method != "learned" else None})
    init_loss, init_ci = cmp["initial"]
    rows.append({"section": "learned_optimizer", "method": "initial", "horizon": 0,
                 "loss": init_loss, "ci95": init_ci, "lr": None})
    n_tail = max(1, min(100, num_iterations // 10))
    timings = [{"method": "learned", "meta_iterations": num_iterations, "wall_s": res.wall_s,
                "meta_iterations_per_s": num_iterations / res.wall_s,
                "final_train_loss": float(res.losses[-n_tail:].mean()),
                "learned_lr": float(np.exp(res.opt_params[4].numpy())),
                "train_config": res.config},
               {"method": "compare", "wall_s": compare_wall_s}]
    print("learned_optimizer: meta-training "
          f"{res.wall_s:.1f} s ({num_iterations / res.wall_s:.1f} it/s), comparison "
          f"{compare_wall_s:.1f} s; " + ", ".join(
              f"{r['method']}@{r['horizon']} {r['loss']:.4f}" for r in rows
              if r["method"] != "initial"), flush=True)
    return {"rows": rows, "timings": timings,
            "evaluation": {"test_tasks": num_test_tasks, "num_shots": 20,
                           "horizons": list(LEARNED_OPT_HORIZONS),
                           "trained_horizon": LEARNED_OPT_UNROLL,
                           "family": f"ScaledFeatures(LinearFamily(num_features="
                                     f"{LEARNED_OPT_FEATURES}, noise_std=0.1), "
                                     "np.logspace(-1, 1, 8))",
                           "learner": "linear [8, 1], init_mlp seed 0",
                           "tuning": "SGD / Adam step per horizon on validation tasks "
                                     f"(seed [{LEARNED_OPT_COMPARE_SEED}, 0]); test tasks "
                                     f"seed [{LEARNED_OPT_COMPARE_SEED}, 1]",
                           "sgd_lrs": list(LEARNED_OPT_SGD_LRS),
                           "adam_lrs": list(LEARNED_OPT_ADAM_LRS),
                           "ci95": "1.96*std/sqrt(n)"}}


def markdown_learned_optimizer(section: dict[str, Any]) -> list[str]:
    """The learned-optimiser table: loss after H steps per method, the tuned step beside."""
    lookup = {(r["method"], r["horizon"]): r for r in section["rows"]}
    ev = section["evaluation"]
    h_train, h_long = ev["horizons"][0], ev["horizons"][-1]

    def cell(method: str, h: int) -> str:
        r = lookup.get((method, h))
        if r is None:
            return "—"
        text = f"{_number4(r['loss'])} ± {_number4(r['ci95'], 2)}"
        if r.get("lr") is None:
            return text
        grid = ev.get(f"{method}_lrs", [])
        edge = ", grid edge" if grid and r["lr"] in (min(grid), max(grid)) else ""
        return text + f" (α = {r['lr']:g}{edge})"

    lines = ["## Learned optimiser vs tuned SGD and Adam (ill-conditioned linear regression)", "",
             f"{ev['family']}; linear learner, {ev['num_shots']} points per task; "
             f"support-set MSE after H steps on {ev['test_tasks']} held-out tasks, mean ± 95 % "
             f"CI. Meta-trained on {h_train}-step unrolls; SGD and Adam step sizes tuned for "
             "each horizon on separate validation tasks.", "",
             "| method | " + " | ".join(
                 f"H = {h}" + (" (trained)" if h == h_train else f" ({h // h_train}×)")
                 for h in ev["horizons"]) + " |",
             "|" + "---|" * (len(ev["horizons"]) + 1)]
    for method, label in LEARNED_OPT_LABELS.items():
        lines.append(f"| {label} | " + " | ".join(cell(method, h) for h in ev["horizons"])
                     + " |")
    init = lookup.get(("initial", 0))
    if init is not None:
        lines += ["", f"Loss at θ_0 (0 steps): {_number4(init['loss'])}."]

    def loss(method: str, h: int) -> float:
        return lookup.get((method, h), {}).get("loss", math.nan)

    lo, sgd, adam = loss("learned", h_train), loss("sgd", h_train), loss("adam", h_train)
    verdict = "met" if lo < sgd else "not met"
    lines += ["", f"**Target ({verdict})**: learned optimiser ahead of tuned SGD at the trained "
                  f"horizon H = {h_train}: {_number4(lo)} vs SGD {_number4(sgd)} "
                  f"(Adam {_number4(adam)})."]
    lo_l, sgd_l, adam_l = loss("learned", h_long), loss("sgd", h_long), loss("adam", h_long)
    if lo_l < adam_l:
        lines.append(f"At H = {h_long} ({h_long // h_train}× the trained horizon) it is also "
                     f"ahead of tuned Adam: {_number4(lo_l)} vs {_number4(adam_l)} "
                     f"(SGD {_number4(sgd_l)}).")
    else:
        lines.append(f"At H = {h_long} ({h_long // h_train}× the trained horizon) it falls behind "
                     f"tuned Adam: {_number4(lo_l)} vs {_number4(adam_l)} (SGD "
                     f"{_number4(sgd_l)}) — short-horizon bias: meta-trained on {h_train}-step "
                     "unrolls, it optimises the loss over the first steps, and Adam with a step "
                     "tuned for the long horizon keeps going further.")
    lines += ["", "| stage | meta-iterations | wall time (s) | meta-iterations / s |",
              "|---|---|---|---|"]
    for t in section["timings"]:
        if t["method"] == "learned":
            lines.append(f"| meta-training (unroll {h_train}, second order) | "
                         f"{t['meta_iterations']} | {t['wall_s']:.1f} | "
                         f"{t['meta_iterations_per_s']:.1f} |")
        else:
            lines.append(f"| comparison (grid tuning + test) | — | {t['wall_s']:.1f} | — |")
    return lines + [""]


# --------------------------------------------------------------------------------------------
# the registry of sections
# --------------------------------------------------------------------------------------------
class Section(NamedTuple):
    """One benchmark section: ``run(args) -> dict`` (with ``rows`` and ``timings``) and
    ``markdown(that dict) -> lines``."""

    run: Callable[[argparse.Namespace], dict[str, Any]]
    markdown: Callable[[dict[str, Any]], list[str]]


#: Sections, in the order they run.
SECTIONS: dict[str, Section] = {
    "meta_sgd": Section(run_meta_sgd, markdown_meta_sgd),
    "learned_optimizer": Section(run_learned_optimizer, markdown_learned_optimizer),
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"{META_SGD_QUICK_ITERATIONS} iterations per MAML/Meta-SGD, "
                             f"{LEARNED_OPT_QUICK_ITERATIONS} for the learned optimiser, 200 "
                             "test tasks (about 30 s)")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH",
                        help="write results as JSON to PATH and the markdown tables beside it")
    parser.add_argument("--sections", nargs="+", choices=list(SECTIONS),
                        default=list(SECTIONS), help="sections to run (default: all)")
    parser.add_argument("--iterations", type=int, default=None,
                        help="override the number of meta-iterations of every method "
                             "(learned optimiser included)")
    parser.add_argument("--test-tasks", type=int, default=None,
                        help="test tasks (default 600; 200 with --quick)")
    parser.add_argument("--no-jit", dest="jit", action="store_false",
                        help="do not compile the MAML/Meta-SGD training step with XLA "
                             "(the learned optimiser never uses XLA)")
    parser.add_argument("--iterations-per-call", type=int, default=500,
                        help="meta-iterations per compiled call (at most 100 for the "
                             "learned optimiser)")
    parser.add_argument("--seed", type=int, default=0, help="seed of init and training tasks")
    parser.add_argument("--no-progress", dest="progress", action="store_false",
                        help="hide the progress bars")
    args = parser.parse_args(argv)
    if args.iterations is not None and args.iterations < 1:
        parser.error("--iterations must be >= 1")
    if args.test_tasks is not None and args.test_tasks < 2:
        parser.error("--test-tasks must be >= 2")
    return args


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Run every requested section; return the JSON-ready results."""
    seed_everything(args.seed)
    t_start = time.perf_counter()
    sections = {}
    for name in args.sections:
        t0 = time.perf_counter()
        sections[name] = SECTIONS[name].run(args)
        sections[name]["wall_s"] = time.perf_counter() - t0
    return {
        "benchmark": "teachers",
        "command": " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
        "quick": args.quick,
        "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "environment": {
            "python": platform.python_version(), "tensorflow": tf.__version__,
            "cpu_count": os.cpu_count(), "machine": platform.machine(),
            "load_average_at_end": list(os.getloadavg()), "jit_compile": args.jit,
        },
        "total_wall_s": time.perf_counter() - t_start,
        "sections": sections,
    }


def _number(value: float | None) -> str:
    """A table number: 2 decimals, scientific notation above 1000, "nan" for NaN/None."""
    if value is None or not math.isfinite(value):
        return "inf" if value == math.inf else "nan"
    return f"{value:.2f}" if abs(value) < 1e3 else f"{value:.1e}"


def _number4(value: float | None, digits: int = 4) -> str:
    """A loss in the learned-optimiser table: ``digits`` significant digits, "inf"/"nan"."""
    if value is None or not math.isfinite(value):
        return "inf" if value == math.inf else "nan"
    return f"{value:.{digits}g}"


def _cell(row: dict[str, Any] | None) -> str:
    """``mean ± ci`` for one table cell, "—" when missing."""
    if row is None:
        return "—"
    return f"{_number(row['mse'])} ± {_number(row['ci95'])}"


def markdown(results: dict[str, Any]) -> str:
    """All sections' tables, then the environment."""
    lines = [f"Command: `{results['command']}`  ", ""]
    for name, section in results["sections"].items():
        lines += SECTIONS[name].markdown(section)
    env = results["environment"]
    lines += [f"Total wall time {results['total_wall_s']:.1f} s (training and evaluation). "
              f"TensorFlow {env['tensorflow']}, {env['cpu_count']} CPU cores, XLA "
              f"jit_compile={env['jit_compile']}, load average at end "
              f"{env['load_average_at_end'][0]:.2f} (the cores were shared), {results['date']}.",
              ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the tables, optionally write JSON and markdown."""
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
