"""MAML-RL on 2D point navigation (Finn et al. 2017, §5.3 and Table 4), at full size on a CPU.

Trains, with the same TRPO outer loop and the same seed:

* ``maml`` — the meta-learned initialisation (:data:`metalearn_lib.maml_rl.MAML_CONFIG`: 500
  meta-iterations, meta-batch 20, 20 trajectories a task, α = 0.1, δ = 0.01);
* ``pretrained`` — one policy trained on all goals for as many iterations, no adaptation in training;
* ``random_init`` — the untrained initialisation;

keeps, for each, the snapshot (every ``--select-every`` meta-iterations) with the best mean return
after 1–3 steps on 50 validation goals — the paper evaluates "the best model seen during
training" — then adapts each on the same test goals by the paper's protocol (40 trajectories a step, α = 0.1
then 0.05; :func:`metalearn_lib.maml_rl.adaptation_curve`) and adds the ``oracle``, the exact
optimal return of each goal. MAML and the pretrained policy are also evaluated at their last
iterate (rows ``maml_last``, ``pretrained_last``): selection helps the pretrained policy far more
than MAML, so both readings are reported. With ``--variants`` it also trains MAML with the other
outer-gradient estimators (the naive inner loss, the exact explicit correction, DiCE's inner
loss) for the comparison table; ``--methods`` trains only the ones named.

Usage::

    python benchmarks/maml_rl.py --quick --json benchmarks/results/maml_rl_quick.json
    python benchmarks/maml_rl.py --json benchmarks/results/maml_rl_full.json --ship
    python benchmarks/maml_rl.py --variants --json benchmarks/results/maml_rl_variants.json

``--json PATH`` writes rows ``{"method", "steps", "mean_return", "ci95"}`` and
``{"method", "wall_s", "meta_iterations"}`` as JSON, and the markdown table (beside the published
one) to ``PATH`` with the suffix ``.md``. ``--ship`` saves the MAML and pretrained policies (the
selected snapshots) and their records to ``metalearn_lib/maml_rl/weights/``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import Any

from _report import machine_info, utc_now, write_report  # benchmarks/ is on sys.path when a script runs

from metalearn_lib import seed_everything, tf  # tf: TensorFlow, imported quietly
from metalearn_lib.maml_rl import (
    MAML_CONFIG,
    PUBLISHED_MAML_RL,
    SHIPPED_METHODS,
    PointNavigation,
    adaptation_curve,
    init_gaussian_policy,
    save_policy,
    shipped_policy_path,
    train_maml_rl,
)

TEST_SEED = 1_000_000
#: The validation goals that pick the snapshot to evaluate ("the best model seen during training").
VALIDATION_SEED = 1
NUM_VALIDATION_GOALS = 50
#: Other outer-gradient estimators trained with ``--variants`` (label → config changes).
VARIANTS = {
    "maml_naive": {"inner_estimator": "reinforce", "sampling_term": False},
    "maml_exact": {"inner_estimator": "reinforce", "sampling_term": True},
    "maml_dice": {"inner_estimator": "dice", "sampling_term": False},
}
#: Methods also evaluated at their last iterate (row ``<method>_last``), the policy without selection.
LAST_ITERATE_METHODS = ("maml", "pretrained")
LABELS = {"maml": "MAML (LVC inner loss)", "maml_naive": "MAML, naive inner loss",
          "maml_exact": "MAML, exact sampling term", "maml_dice": "MAML, DiCE inner loss",
          "pretrained": "pretrained on all goals", "maml_last": "MAML, last iterate (no selection)",
          "pretrained_last": "pretrained, last iterate (no selection)",
          "random_init": "random initialisation", "oracle": "oracle (exact optimum)"}


def curve_rows(method: str, curve: Any) -> list[dict[str, Any]]:
    return [{"method": method, "steps": k, "mean_return": float(curve.mean[k]), "ci95": float(curve.ci95[k])}
            for k in range(len(curve.mean))]


def train_and_select(env: Any, config: Any, iterations: int, every: int, validation_goals: Any,
                     progress: bool) -> tuple[Any, dict[str, Any]]:
    """Train in segments of ``every`` meta-iterations; after each, score the policy by its mean
    return after 1–3 steps on the validation goals; return the best snapshot and the record."""
    result, best, record = None, None, []
    wall_s = 0.0
    while result is None or result.iteration < iterations:
        result = train_maml_rl(env, config, num_iterations=min(every, iterations - (result.iteration if result else 0)),
                               resume=result, progress=progress or None)
        wall_s += result.wall_s
        curve = adaptation_curve(result.policy, env, validation_goals, seed=VALIDATION_SEED)
        score = float(curve.mean[1:].mean())
        record.append({"meta_iterations": result.iteration, "validation": [float(v) for v in curve.mean],
                       "policy_std": [float(v) for v in tf.exp(result.policy.log_std).numpy()]})
        if best is None or score > best[0]:
            best = (score, result.policy, result.iteration)
    return result, {"wall_s": wall_s, "selected": best[2], "policy": best[1], "snapshots": record}


def markdown(results: dict[str, Any], command: str) -> str:
    rows = results["rows"]
    methods = list(dict.fromkeys(r["method"] for r in rows))
    steps = sorted({r["steps"] for r in rows})
    cell = {(r["method"], r["steps"]): f"{r['mean_return']:.2f} ± {r['ci95']:.2f}" for r in rows}
    lines = [f"MAML-RL, 2D navigation: mean return ± 95 % CI over {results['num_test_goals']} test goals "
             f"after k adaptation steps (40 trajectories a step, α = 0.1 then 0.05). `{command}`", "",
             "| method | " + " | ".join(f"k = {k}" for k in steps) + " |", "|---|" + "---|" * len(steps)]
    for method in methods:
        lines.append(f"| {LABELS.get(method, method)} | " + " | ".join(cell.get((method, k), "") for k in steps) + " |")
    published = results["published"]["maml"]
    lines.append("| MAML, published (Finn et al. 2017, Table 4) | "
                 + " | ".join(f"{v:.2f}" for v in published[:len(steps)]) + " |")
    lines += ["", "| method | meta-iterations | wall time (s) | meta-iterations/s |", "|---|---|---|---|"]
    for row in results["training"]:
        lines.append(f"| {LABELS.get(row['method'], row['method'])} | {row['meta_iterations']} | "
                     f"{row['wall_s']:.0f} | {row['meta_iterations'] / row['wall_s']:.2f} |")
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="20 meta-iterations, 25 test goals")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH", help="write rows as JSON (+ .md table)")
    parser.add_argument("--seed", type=int, default=0, help="training seed")
    parser.add_argument("--iterations", type=int, default=None, help="meta-iterations (default 500, quick 20)")
    parser.add_argument("--test-goals", type=int, default=None, help="test goals (default 200, quick 25)")
    parser.add_argument("--select-every", type=int, default=None,
                        help="snapshot interval for picking the best model (default 25, quick: none)")
    parser.add_argument("--variants", action="store_true", help="also train the other outer-gradient estimators")
    parser.add_argument("--methods", nargs="+", default=None, metavar="METHOD",
                        help="train only these (maml, pretrained, " + ", ".join(VARIANTS) + ")")
    parser.add_argument("--ship", action="store_true",
                        help="save the MAML and pretrained policies to metalearn_lib/maml_rl/weights")
    parser.add_argument("--progress", action="store_true", help="show progress bars")
    args = parser.parse_args(argv)
    seed_everything(args.seed)
    iterations = args.iterations or (20 if args.quick else 500)
    if args.select_every is None and not args.quick:
        args.select_every = 25
    num_goals = args.test_goals or (25 if args.quick else 200)
    env = PointNavigation()
    goals = env.sample_tasks(num_goals, TEST_SEED)
    maml_config = dataclasses.replace(MAML_CONFIG, seed=args.seed)
    configs = {"maml": maml_config, "pretrained": dataclasses.replace(maml_config, num_inner_steps=0)}
    if args.variants:
        configs.update({name: dataclasses.replace(maml_config, **change) for name, change in VARIANTS.items()})
    if args.methods is not None:
        every_config = {**configs, **{name: dataclasses.replace(maml_config, **change)
                                      for name, change in VARIANTS.items()}}
        unknown = sorted(set(args.methods) - set(every_config))
        if unknown:
            parser.error(f"--methods: unknown {unknown}; choose from {sorted(every_config)}")
        configs = {name: every_config[name] for name in args.methods}
    start = time.perf_counter()
    rows: list[dict[str, Any]] = []
    training: list[dict[str, Any]] = []
    trained: dict[str, Any] = {}
    validation_goals = env.sample_tasks(NUM_VALIDATION_GOALS, VALIDATION_SEED)
    every = args.select_every or iterations
    for method, config in configs.items():
        result, selection = train_and_select(env, config, iterations, every, validation_goals, args.progress)
        print(f"{method}: {iterations} meta-iterations in {selection['wall_s']:.1f} s "
              f"({iterations / selection['wall_s']:.2f} it/s); snapshot {selection['selected']} selected", flush=True)
        trained[method] = (result, selection)
        training.append({"method": method, "wall_s": selection["wall_s"], "meta_iterations": iterations,
                         "selected_meta_iteration": selection["selected"], "snapshots": selection["snapshots"],
                         "config": config.to_dict()})
        rows += curve_rows(method, adaptation_curve(selection["policy"], env, goals, seed=TEST_SEED))
    for method in LAST_ITERATE_METHODS:
        if method in trained and trained[method][1]["selected"] != iterations:
            last_iterate = trained[method][0].policy
            rows += curve_rows(f"{method}_last", adaptation_curve(last_iterate, env, goals, seed=TEST_SEED))
    random_policy = init_gaussian_policy(env.observation_size, env.action_size, maml_config.seed,
                                         hidden_sizes=maml_config.hidden_sizes, init_std=maml_config.init_std)
    rows += curve_rows("random_init", adaptation_curve(random_policy, env, goals, seed=TEST_SEED))
    optimum = env.optimal_return(goals)
    rows.append({"method": "oracle", "steps": 0, "mean_return": float(optimum.mean()),
                 "ci95": float(1.96 * optimum.std(ddof=1) / num_goals ** 0.5)})
    command = "benchmarks/maml_rl.py " + " ".join(sys.argv[1:] if argv is None else argv)
    results = {"rows": rows, "training": training, "num_test_goals": num_goals, "test_seed": TEST_SEED,
               "seed": args.seed, "quick": args.quick, "wall_s": time.perf_counter() - start,
               "published": PUBLISHED_MAML_RL, "machine": machine_info(),
               "date": utc_now()}
    text = markdown(results, command.strip())
    print(text)
    if args.json is not None:
        write_report(args.json, results, text)
    if args.ship:
        for method in SHIPPED_METHODS:
            result, selection = trained[method]
            path = shipped_policy_path(method)
            record = {"command": "python " + command.strip(), "method": method, "seed": args.seed,
                      "config": configs[method].to_dict(), "meta_iterations": iterations,
                      "selected_meta_iteration": selection["selected"], "wall_s": selection["wall_s"],
                      "evaluation": {"test_seed": TEST_SEED, "num_test_goals": num_goals,
                                     "rows": [r for r in rows if r["method"] == method]},
                      "machine": results["machine"], "date": results["date"]}
            snapshot = dataclasses.replace(result, policy=selection["policy"], iteration=selection["selected"])
            save_policy(path, snapshot, method=method)
            path.with_suffix(".json").write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
            print(f"shipped {path} ({path.stat().st_size / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
