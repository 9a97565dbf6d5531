"""Chapter 8, adaptive (online) learning: tracking a sinusoid that changes while you learn.

Streams (:mod:`metalearn_lib.applications.streams`), S independent streams of T rounds, K = 10 support
and 50 query points per round, x ~ U[−5, 5]:

- ``slow_drift``: (A, φ) random walk, σ_A = 0.02, σ_φ = 0.01 per round, A reflected in [0.1, 5], no jumps;
- ``slow_drift_with_jumps``: the same with a jump (A ~ U[0.1, 5], φ ~ U[0, 2π)) with probability 0.02;
- ``wandering_out``: σ_A = 0.1, σ_φ = 0.05, A reflected in [0.1, 7.5], no jumps — the walk leaves the
  MAML family (A > 5 or φ mod 2π > π);
- ``switching``: 4 regimes per stream drawn from the MAML family, hazard rate 0.05.

Learners (:mod:`metalearn_lib.applications.online`; protocol: round t's support set is given, the learner
plays θ_t, is scored on round t's query set, then may update): ``frozen`` (the pretrained network),
``fine_tune_last`` (from θ_MAML; also ``fine_tune_last_pretrained``), ``maml_readapt``, ``online_meta``
(second order; also ``online_meta_first_order``), all with α = 0.01 and one inner step (MAML's training
values); on the switching stream also ``hedge`` and ``hedge_fixed_share`` over one expert per regime
(θ_MAML adapted with 100 SGD steps on 100 points of the regime), share α = the hazard rate
(Herbster & Warmuth's choice, switches / rounds).

Tuned on validation streams (seed 1000, never a test seed), by the mean per-round loss: online_meta's
β from :data:`META_LR_GRID` per stream and order, Hedge's η from :data:`HEDGE_LR_GRID` per variant.
Reported on test streams seeded 0..4 (pooled: a CI over all S × 5 streams; and per seed, for the
ranking). Subsets of rounds: ``in_training_range`` / ``out_of_training_range`` (the round's task in / out
of A ∈ [0.1, 5], φ ∈ [0, π]), ``after_change`` (the round of a jump/switch and the 4 after it),
``settled`` (the other rounds of streams with changes).

Usage::

    python benchmarks/applications_online.py --quick            # prints the tables (add --json PATH)
    nohup nice -n 10 python benchmarks/applications_online.py > /tmp/online.log 2>&1 &

``benchmarks/applications.py`` calls :func:`online_rows` with its own trained networks.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from _report import machine_info, utc_now, write_report  # benchmarks/ is on sys.path when a script runs

from metalearn_lib import seed_everything, tf  # tf: TensorFlow, imported quietly
from metalearn_lib.applications.online import (
    OnlineResult,
    build_regime_experts,
    mean_and_ci95,
    run_expert_hedge,
    run_online,
)
from metalearn_lib.applications.streams import DriftingSinusoidStream, StreamBatch, SwitchingSinusoidStream
from metalearn_lib.models import init_mlp
from metalearn_lib.tasks import SinusoidFamily
from metalearn_lib.two_level import meta_train

INNER_LR = 0.01  # MAML's α, as trained
META_LR_GRID = (1e-3, 3e-3, 1e-2)
HEDGE_LR_GRID = (0.3, 1.0, 3.0, 10.0)
AFTER_CHANGE_ROUNDS = 5
DIVERGED_ABOVE = 100.0  # a stream whose mean per-round loss exceeds this (or is not finite) diverged
VALIDATION_SEED = 1000

DRIFT_STREAMS: dict[str, dict[str, Any]] = {
    "slow_drift": dict(amplitude_drift=0.02, phase_drift=0.01, jump_probability=0.0),
    "slow_drift_with_jumps": dict(amplitude_drift=0.02, phase_drift=0.01, jump_probability=0.02),
    "wandering_out": dict(amplitude_drift=0.1, phase_drift=0.05, jump_probability=0.0,
                          amplitude_range=(0.1, 7.5)),
}
SWITCHING_STREAM: dict[str, Any] = dict(num_regimes=4, switch_probability=0.05)

#: method name → (learner of run_online, starting network, extra arguments).
PARAMETER_LEARNERS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "frozen": ("frozen", "pretrained", {}),
    "fine_tune_last": ("fine_tune_last", "maml", {}),
    "fine_tune_last_pretrained": ("fine_tune_last", "pretrained", {}),
    "maml_readapt": ("maml_readapt", "maml", {}),
    "online_meta": ("online_meta", "maml", {"first_order": False}),
    "online_meta_first_order": ("online_meta", "maml", {"first_order": True}),
}

#: (experiment, stream, subset, method a, method b, question) — a paired difference a − b over streams.
COMPARISONS: list[tuple[str, str, str, str, str, str]] = [
    ("online_drift", "wandering_out", "out_of_training_range", "online_meta", "maml_readapt",
     "online_meta vs maml_readapt once the drift has left the training range"),
    ("online_drift", "wandering_out", "in_training_range", "online_meta", "maml_readapt",
     "online_meta vs maml_readapt while the task is in the training range"),
    ("online_drift", "slow_drift_with_jumps", "out_of_training_range", "online_meta", "maml_readapt",
     "online_meta vs maml_readapt out of the training range (reached by jumps)"),
    ("online_drift", "wandering_out", "out_of_training_range", "online_meta", "fine_tune_last",
     "online_meta vs fine_tune_last once the drift has left the training range"),
    ("online_drift", "slow_drift", "all", "fine_tune_last", "maml_readapt",
     "fine_tune_last vs maml_readapt under slow drift"),
    ("online_drift", "slow_drift", "all", "online_meta", "fine_tune_last",
     "online_meta vs fine_tune_last under slow drift"),
    ("online_drift", "slow_drift_with_jumps", "after_change", "fine_tune_last", "maml_readapt",
     "fine_tune_last vs maml_readapt in the 5 rounds from a jump"),
    ("online_drift", "slow_drift_with_jumps", "settled", "fine_tune_last", "maml_readapt",
     "fine_tune_last vs maml_readapt away from jumps"),
    ("online_drift", "slow_drift_with_jumps", "after_change", "online_meta", "fine_tune_last",
     "online_meta vs fine_tune_last in the 5 rounds from a jump"),
    ("online_switching", "switching", "all", "hedge_fixed_share", "hedge",
     "fixed-share Hedge vs plain Hedge"),
    ("online_switching", "switching", "after_change", "hedge_fixed_share", "hedge",
     "fixed-share Hedge vs plain Hedge in the 5 rounds from a switch"),
    ("online_switching", "switching", "all", "online_meta", "hedge_fixed_share",
     "online_meta vs fixed-share Hedge on the switching stream"),
]


@dataclass(frozen=True)
class OnlineConfig:
    """Sizes of the benchmark."""

    num_rounds: int
    num_streams: int
    num_shots: int
    num_query: int
    seeds: tuple[int, ...]
    meta_lr_grid: tuple[float, ...]
    hedge_lr_grid: tuple[float, ...]
    expert_points: int
    expert_steps: int
    curve_every: int
    training_iterations: int


FULL = OnlineConfig(num_rounds=200, num_streams=100, num_shots=10, num_query=50, seeds=(0, 1, 2, 3, 4),
                    meta_lr_grid=META_LR_GRID, hedge_lr_grid=HEDGE_LR_GRID, expert_points=100,
                    expert_steps=100, curve_every=10, training_iterations=70_000)
QUICK = OnlineConfig(num_rounds=40, num_streams=20, num_shots=10, num_query=20, seeds=(0, 1),
                     meta_lr_grid=(3e-3,), hedge_lr_grid=(3.0,), expert_points=50, expert_steps=30,
                     curve_every=10, training_iterations=2_000)


# --------------------------------------------------------------------------------------------
# measuring
# --------------------------------------------------------------------------------------------
def subset_masks(batch: StreamBatch) -> dict[str, np.ndarray]:
    """``[S, T]`` masks of the rounds each subset averages over."""
    num_rounds = batch.num_rounds
    in_range = batch.in_training_range().numpy()
    changed = batch.changed.numpy()
    masks = {"all": np.ones_like(in_range), "in_training_range": in_range,
             "out_of_training_range": ~in_range}
    if changed.any():
        after = np.zeros_like(changed)
        for lag in range(AFTER_CHANGE_ROUNDS):  # the change round and the rounds right after it
            after[:, lag:] |= changed[:, :num_rounds - lag]
        has_changes = changed.any(axis=1, keepdims=True)
        masks["after_change"] = after
        masks["settled"] = ~after & has_changes
    return masks


def per_stream_means(losses: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Each stream's mean loss over its rounds in ``mask`` (streams with none left out)."""
    counts = mask.sum(axis=1)
    with np.errstate(invalid="ignore"):
        sums = np.where(mask, losses, 0.0).sum(axis=1)
    return sums[counts > 0] / counts[counts > 0]


def _finite_mean(values: np.ndarray) -> float:
    """The mean, +inf when a value is not finite (what tuning minimises)."""
    return float(np.mean(values)) if np.all(np.isfinite(values)) else math.inf


@dataclass
class Runs:
    """Every run of one stream configuration: ``results[method][seed]`` and the masks per seed."""

    experiment: str
    stream: str
    results: dict[str, dict[int, OnlineResult]]
    masks: dict[int, dict[str, np.ndarray]]
    hyper: dict[str, dict[str, float]]


def _learners(starts: dict[str, list[tf.Tensor]], meta_lrs: dict[str, float]
              ) -> dict[str, Callable[[StreamBatch], OnlineResult]]:
    learners = {}
    for method, (learner, start, extra) in PARAMETER_LEARNERS.items():
        kwargs = dict(params=starts[start], inner_lr=INNER_LR, **extra)
        if learner == "online_meta":
            kwargs["meta_lr"] = meta_lrs[method]
        learners[method] = (lambda batch, learner=learner, kwargs=kwargs: run_online(learner, batch, **kwargs))
    return learners


def _tune(run: Callable[[float], OnlineResult], grid: Sequence[float]) -> tuple[float, dict[str, float]]:
    """The grid value with the lowest mean per-round loss on the validation streams."""
    scores = {value: _finite_mean(run(value).per_stream_loss) for value in grid}
    best = min(grid, key=lambda v: scores[v])
    return best, {f"{v:g}": s for v, s in scores.items()}


def _tune_meta_lrs(validation: StreamBatch, starts: dict[str, list[tf.Tensor]], config: OnlineConfig
                   ) -> tuple[dict[str, float], dict[str, Any]]:
    """β of the online meta-learner (second and first order), each the best of the grid on validation streams."""
    meta_lrs, tuning = {}, {}
    for method in ("online_meta", "online_meta_first_order"):
        first_order = PARAMETER_LEARNERS[method][2]["first_order"]
        meta_lrs[method], tuning[method] = _tune(
            lambda beta, fo=first_order: run_online("online_meta", validation, params=starts["maml"],
                                                     inner_lr=INNER_LR, meta_lr=beta, first_order=fo),
            config.meta_lr_grid)
    return meta_lrs, tuning


def run_drift(name: str, config: OnlineConfig, starts: dict[str, list[tf.Tensor]], log: Callable[[str], None]
              ) -> tuple[Runs, dict[str, Any]]:
    """Tune on validation streams, then run every learner on every test seed of one drifting stream."""
    stream = DriftingSinusoidStream(config.num_rounds, **DRIFT_STREAMS[name])
    sizes = (config.num_streams, config.num_shots, config.num_query)
    validation = stream.sample(*sizes, seed=VALIDATION_SEED)
    meta_lrs, tuning = _tune_meta_lrs(validation, starts, config)
    log(f"{name}: tuned β {meta_lrs}")
    learners = _learners(starts, meta_lrs)
    results: dict[str, dict[int, OnlineResult]] = {m: {} for m in learners}
    masks = {}
    for seed in config.seeds:
        batch = stream.sample(*sizes, seed=seed)
        masks[seed] = subset_masks(batch)
        for method, learner in learners.items():
            results[method][seed] = learner(batch)
    hyper = {m: {"meta_lr": meta_lrs[m]} for m in meta_lrs}
    return Runs("online_drift", name, results, masks, hyper), tuning


def run_switching(config: OnlineConfig, starts: dict[str, list[tf.Tensor]], log: Callable[[str], None]
                  ) -> tuple[Runs, dict[str, Any]]:
    """The switching stream: the parameter learners and Hedge / fixed share over regime experts."""
    stream = SwitchingSinusoidStream(config.num_rounds, **SWITCHING_STREAM)
    share = SWITCHING_STREAM["switch_probability"]
    sizes = (config.num_streams, config.num_shots, config.num_query)

    def experts_for(batch: StreamBatch, seed: int) -> list[tf.Tensor]:
        return build_regime_experts(starts["maml"], batch, num_points=config.expert_points,
                                    num_steps=config.expert_steps, inner_lr=INNER_LR, seed=50_000 + seed)

    validation = stream.sample(*sizes, seed=VALIDATION_SEED)
    pool = experts_for(validation, VALIDATION_SEED)
    meta_lrs, tuning = _tune_meta_lrs(validation, starts, config)
    hedge_lrs: dict[str, float] = {}
    for method, method_share in (("hedge", 0.0), ("hedge_fixed_share", share)):
        hedge_lrs[method], tuning[method] = _tune(
            lambda eta, s=method_share: run_expert_hedge(pool, validation, learning_rate=eta, share=s),
            config.hedge_lr_grid)
    log(f"switching: tuned β {meta_lrs}, η {hedge_lrs}")
    learners = _learners(starts, meta_lrs)
    results: dict[str, dict[int, OnlineResult]] = {m: {} for m in [*learners, "hedge", "hedge_fixed_share"]}
    masks, expert_wall = {}, 0.0
    for seed in config.seeds:
        batch = stream.sample(*sizes, seed=seed)
        masks[seed] = subset_masks(batch)
        for method, learner in learners.items():
            results[method][seed] = learner(batch)
        t0 = time.perf_counter()
        pool = experts_for(batch, seed)
        expert_wall += time.perf_counter() - t0
        for method, method_share in (("hedge", 0.0), ("hedge_fixed_share", share)):
            results[method][seed] = run_expert_hedge(pool, batch, learning_rate=hedge_lrs[method],
                                                     share=method_share)
    hyper = {m: {"meta_lr": meta_lrs[m]} for m in meta_lrs}
    hyper["hedge"] = {"learning_rate": hedge_lrs["hedge"], "share": 0.0}
    hyper["hedge_fixed_share"] = {"learning_rate": hedge_lrs["hedge_fixed_share"], "share": share}
    tuning["expert_pool_wall_s"] = expert_wall
    return Runs("online_switching", "switching", results, masks, hyper), tuning


# --------------------------------------------------------------------------------------------
# rows
# --------------------------------------------------------------------------------------------
def _pooled(runs: Runs, method: str, subset: str) -> np.ndarray:
    """Per-stream subset means of ``method``, all seeds' streams together."""
    return np.concatenate([per_stream_means(runs.results[method][s].losses, runs.masks[s][subset])
                           for s in sorted(runs.results[method])])


def _mean_ci(values: np.ndarray) -> tuple[float, float]:
    with np.errstate(invalid="ignore", over="ignore"):
        return mean_and_ci95(values)


def _ranks(runs: Runs, config: OnlineConfig) -> dict[int, list[str]]:
    """Per seed, the methods from best to worst by mean per-round loss (non-finite last)."""
    order = {}
    for seed in config.seeds:
        scores = {m: _finite_mean(runs.results[m][seed].per_stream_loss) for m in runs.results}
        order[seed] = sorted(scores, key=lambda m: scores[m])
    return order


def rows_for(runs: Runs, config: OnlineConfig) -> list[dict[str, Any]]:
    """Summary rows (per subset), curve rows (every ``curve_every`` rounds) and a ranking row."""
    seeds = list(config.seeds)
    base = dict(experiment=runs.experiment, stream=runs.stream, rounds=config.num_rounds,
                num_shots=config.num_shots, seeds=seeds)
    order = _ranks(runs, config)
    rows: list[dict[str, Any]] = []
    subsets = list(next(iter(runs.masks.values())))
    for method, by_seed in runs.results.items():
        extra = dict(runs.hyper.get(method, {}))
        learner = PARAMETER_LEARNERS.get(method)
        if learner is not None:
            extra["start"] = learner[1]
        per_seed_loss = [_finite_mean(by_seed[s].per_stream_loss) for s in seeds]
        for subset in subsets:
            values = _pooled(runs, method, subset)
            if values.size == 0:
                continue
            loss, ci = _mean_ci(values)
            row = dict(base, kind="summary", method=method, subset=subset, loss=loss, ci95=ci,
                       median=float(np.median(np.nan_to_num(values, nan=np.inf))),
                       num_streams=int(values.size),
                       diverged_streams=int(np.sum(~np.isfinite(values) | (values > DIVERGED_ABOVE))), **extra)
            if subset == "all":
                cumulative = np.concatenate([by_seed[s].losses.sum(axis=1) for s in seeds])
                row["cumulative_loss"], row["cumulative_ci95"] = _mean_ci(cumulative)
                row["loss_per_seed"] = per_seed_loss
                row["rank_per_seed"] = [order[s].index(method) + 1 for s in seeds]
                row["wall_s"] = float(sum(by_seed[s].wall_s for s in seeds))
            rows.append(row)
        losses = np.concatenate([by_seed[s].losses for s in seeds])  # [S·seeds, T]
        cumulative = np.cumsum(losses, axis=1)
        curve_rounds = sorted({*range(0, config.num_rounds, config.curve_every), config.num_rounds - 1})
        for t in curve_rounds:
            loss, ci = _mean_ci(losses[:, t])
            cum, cum_ci = _mean_ci(cumulative[:, t])
            rows.append(dict(experiment=runs.experiment, stream=runs.stream, num_shots=config.num_shots,
                             seeds=seeds, kind="curve", method=method, round=t, loss=loss, ci95=ci,
                             cumulative_loss=cum, cumulative_ci95=cum_ci, num_streams=int(losses.shape[0])))
    orders = [order[s] for s in seeds]
    rows.append(dict(base, kind="ranking", method="all", order_per_seed=orders,
                     stable=all(o == orders[0] for o in orders),
                     best_stable=all(o[0] == orders[0][0] for o in orders),
                     num_streams=config.num_streams * len(seeds)))
    return rows


def comparison_rows(all_runs: dict[str, Runs], config: OnlineConfig) -> list[dict[str, Any]]:
    """Paired differences a − b of per-stream subset means (pooled over seeds), and per seed."""
    rows = []
    for experiment, stream, subset, a, b, question in COMPARISONS:
        runs = all_runs.get(stream)
        if runs is None or subset not in next(iter(runs.masks.values())):
            continue
        diffs, better = [], []
        for seed in config.seeds:
            mask = runs.masks[seed][subset]
            da = per_stream_means(runs.results[a][seed].losses, mask)
            db = per_stream_means(runs.results[b][seed].losses, mask)
            diffs.append(da - db)
            better.append(bool(_finite_mean(da) < _finite_mean(db)))
        diff = np.concatenate(diffs)
        mean, ci = _mean_ci(diff)
        rows.append(dict(experiment=experiment, stream=stream, kind="comparison", method=a, baseline=b,
                         subset=subset, question=question, loss_difference=mean, ci95=ci,
                         a_better_in_seeds=int(sum(better)), better_per_seed=better,
                         num_streams=int(diff.size), rounds=config.num_rounds, seeds=list(config.seeds),
                         significant=bool(math.isfinite(mean) and abs(mean) > ci)))
    return rows


def run_benchmark(quick: bool, maml_params: Sequence[tf.Tensor], pretrained_params: Sequence[tf.Tensor],
                  *, config: OnlineConfig | None = None, verbose: bool = True) -> dict[str, Any]:
    """Every stream, learner and seed; returns ``{"rows", "tuning", "config", "wall_s"}``."""
    config = config or (QUICK if quick else FULL)
    starts = {"maml": [tf.convert_to_tensor(p) for p in maml_params],
              "pretrained": [tf.convert_to_tensor(p) for p in pretrained_params]}

    def log(message: str) -> None:
        if verbose:
            print(message, flush=True)

    t0 = time.perf_counter()
    all_runs, tuning, walls = {}, {}, {}
    for name in DRIFT_STREAMS:
        t = time.perf_counter()
        all_runs[name], tuning[name] = run_drift(name, config, starts, log)
        walls[name] = time.perf_counter() - t
    t = time.perf_counter()
    all_runs["switching"], tuning["switching"] = run_switching(config, starts, log)
    walls["switching"] = time.perf_counter() - t
    rows = [row for runs in all_runs.values() for row in rows_for(runs, config)]
    rows += comparison_rows(all_runs, config)
    return {"rows": rows, "tuning": tuning, "config": asdict(config), "stream_wall_s": walls,
            "wall_s": time.perf_counter() - t0}


def online_rows(quick: bool, maml_params: Sequence[tf.Tensor], pretrained_params: Sequence[tf.Tensor]
                ) -> list[dict[str, Any]]:
    """The benchmark's rows for ``benchmarks/applications.py`` (trained 1-40-40-1 ReLU networks, α = 0.01)."""
    return run_benchmark(quick, maml_params, pretrained_params)["rows"]


# --------------------------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------------------------
def _number(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "nan"
    return f"{value:.3f}" if abs(value) < 1e3 else f"{value:.1e}"


def _cell(row: dict[str, Any] | None) -> str:
    if row is None:
        return "—"
    cell = f"{_number(row['loss'])} ± {_number(row['ci95'])}"
    if row.get("diverged_streams"):
        cell += f" ({row['diverged_streams']} diverged, median {_number(row['median'])})"
    return cell


def markdown(results: dict[str, Any]) -> str:
    """The results as markdown tables."""
    rows, config = results["rows"], results["config"]
    summary = {(r["stream"], r["method"], r["subset"]): r for r in rows if r["kind"] == "summary"}
    streams = list(dict.fromkeys(r["stream"] for r in rows if r["kind"] == "summary"))
    subsets = ["all", "in_training_range", "out_of_training_range", "after_change", "settled"]
    lines = [f"Command: `{results.get('command', 'online_rows')}`  ",
             f"{config['num_streams']} streams × {len(config['seeds'])} seeds {config['seeds']}, "
             f"{config['num_rounds']} rounds, K = {config['num_shots']} support + {config['num_query']} query "
             f"points per round; mean per-round query MSE ± 95 % CI over all streams (1.96·std/√n). "
             "Protocol: round t's support set is given, the learner plays θ_t, is scored on round t's "
             "query set, then updates. α = 0.01, 1 inner step.", ""]
    for stream in streams:
        lines += [f"**{stream}**", "",
                  "| method | all rounds | in training range | out of training range | 5 rounds from a change "
                  "| settled | cumulative loss | rank per seed |",
                  "|---|---|---|---|---|---|---|---|"]
        methods = list(dict.fromkeys(m for (s, m, _) in summary if s == stream))
        for method in methods:
            total = summary[(stream, method, "all")]
            hyper = ", ".join(f"{k}={total[k]:g}" for k in ("meta_lr", "learning_rate", "share") if k in total)
            label = f"{method} ({hyper})" if hyper else method
            cells = [_cell(summary.get((stream, method, s))) for s in subsets]
            lines.append(f"| {label} | " + " | ".join(cells)
                         + f" | {_number(total['cumulative_loss'])} ± {_number(total['cumulative_ci95'])}"
                         + f" | {' '.join(map(str, total['rank_per_seed']))} |")
        ranking = next(r for r in rows if r["kind"] == "ranking" and r["stream"] == stream)
        lines += ["", f"Ranking identical over seeds: **{ranking['stable']}**; best method the same in every "
                  f"seed: **{ranking['best_stable']}** ({ranking['order_per_seed'][0][0]} in seed "
                  f"{config['seeds'][0]}). Orders per seed: "
                  + "; ".join(" < ".join(o) for o in ranking["order_per_seed"]), ""]
    lines += ["**Questions** (paired over streams: per-stream mean of a − b over the subset's rounds, "
              "pooled over seeds; negative = a better)", "",
              "| question | stream | subset | a − b | a better in seeds | significant |", "|---|---|---|---|---|---|"]
    for r in rows:
        if r["kind"] == "comparison":
            lines.append(f"| {r['question']} | {r['stream']} | {r['subset']} | {_number(r['loss_difference'])} ± "
                         f"{_number(r['ci95'])} | {r['a_better_in_seeds']}/{len(r['seeds'])} | {r['significant']} |")
    curve = [r for r in rows if r["kind"] == "curve"]
    shown = sorted({r["round"] for r in curve if r["round"] % (2 * config["curve_every"]) == 0
                    or r["round"] == config["num_rounds"] - 1})
    lookup = {(r["stream"], r["method"], r["round"]): r for r in curve}
    lines += ["", "**Per-round loss along the stream** (mean over streams at round t)", ""]
    for stream in streams:
        methods = list(dict.fromkeys(r["method"] for r in curve if r["stream"] == stream))
        lines += [f"{stream}:", "", "| method | " + " | ".join(f"t={t}" for t in shown) + " |",
                  "|---|" + "---|" * len(shown)]
        for method in methods:
            lines.append(f"| {method} | " + " | ".join(_number(lookup[(stream, method, t)]["loss"]) for t in shown)
                         + " |")
        lines.append("")
    lines += ["**Tuning** (validation streams, seed 1000; mean per-round loss per grid value; diverged: a "
              "stream's loss was not finite)", ""]
    for stream, tuned in results["tuning"].items():
        for method, scores in tuned.items():
            if isinstance(scores, dict):
                lines.append(f"- {stream} / {method}: " + ", ".join(
                    f"{k}: {_number(v) if v is not None and math.isfinite(v) else 'diverged'}"
                    for k, v in scores.items()))
    timings = results.get("timings", {})
    lines += ["", "**Wall time** (s): " + ", ".join(f"{k} {v:.1f}" for k, v in {**timings,
                                                                              **results["stream_wall_s"]}.items())
              + f"; online part {results['wall_s']:.1f}", ""]
    return "\n".join(lines)


def train_networks(iterations: int, seed: int, jit_compile: bool
                   ) -> tuple[dict[str, list[tf.Tensor]], dict[str, float]]:
    """MAML (second order) and the pretrained network, 1-40-40-1 ReLU, K = 10 + 10, α = 0.01 (chapter 2)."""
    params, walls = {}, {}
    for method in ("maml", "pretrained"):
        result = meta_train(init_mlp([1, 40, 40, 1], seed=seed), SinusoidFamily(), method=method,
                            num_iterations=iterations, meta_batch_size=25, num_shots=10, num_query=10,
                            inner_lr=INNER_LR, outer_lr=1e-3, seed=seed, iterations_per_call=500,
                            jit_compile=jit_compile)
        params[method], walls[f"train_{method}"] = result.params, result.wall_s
        print(f"{method}: {iterations} iterations in {result.wall_s:.1f} s, final loss "
              f"{float(result.losses[-500:].mean()):.3f}", flush=True)
    return params, walls


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small streams, 2 seeds, 2,000 training iterations")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH",
                        help="results JSON (none by default: the committed online rows are written by "
                             "benchmarks/applications.py into applications_full.json)")
    parser.add_argument("--iterations", type=int, default=None, help="override the training iterations")
    parser.add_argument("--seed", type=int, default=0, help="seed of the networks' training")
    parser.add_argument("--no-jit", dest="jit", action="store_false", help="train without XLA")
    args = parser.parse_args(argv)
    seed_everything(args.seed)
    config = QUICK if args.quick else FULL
    t0 = time.perf_counter()
    params, timings = train_networks(args.iterations or config.training_iterations, args.seed, args.jit)
    results = run_benchmark(args.quick, params["maml"], params["pretrained"], config=config)
    results.update(benchmark="applications_online", quick=args.quick, date=utc_now(), machine=machine_info(),
                   command=" ".join([Path(sys.argv[0]).as_posix(), *(argv if argv is not None else sys.argv[1:])]),
                   timings=timings, total_wall_s=time.perf_counter() - t0,
                   training={"iterations": args.iterations or config.training_iterations, "seed": args.seed,
                             "jit_compile": args.jit, "meta_batch_size": 25, "num_shots": 10, "num_query": 10,
                             "inner_lr": INNER_LR, "outer_lr": 1e-3})
    table = markdown(results)
    print(table)
    if args.json is not None:
        write_report(args.json, results, table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
