"""The starting points chapter 8 compares on sinusoids, their recipes, and the shipped copies.

A *starting point* is what a learner brings to a new task: parameters θ₀ and the step size α of
the SGD steps θ ← θ − α ⊙ ∇L^support(θ) it fine-tunes with.

=================  ==============================================================================
``maml``           chapter 2's MAML (second order) on MAML's sinusoids, the paper's recipe
``meta_sgd``       chapter 4's Meta-SGD: θ₀ and a learned α per parameter, same family and budget
``pretrained``     one network fitted to all tasks at once (chapter 2's baseline), α = 0.01
``maml_broad``     MAML on :data:`~metalearn_lib.applications.families.BROAD_SINUSOIDS`
                   (domain randomisation: every phase, φ ∈ [0, 2π])
``scratch``        a fresh random network (no prior at all), α = 0.01
=================  ==============================================================================

Every recipe is the MAML paper's: 1-40-40-1 ReLU, truncated-normal init (std 0.01), K = 10
support + 10 query points, one inner step α = 0.01, meta-batch 25, Adam 1e-3, 70,000 iterations,
XLA-compiled, seed 0 — the same call as ``benchmarks/sinusoid.py``, so the shipped ``maml`` is
chapter 2's benchmark model. ``benchmarks/applications.py --ship`` trains them (about 40 s each
here) and writes ``weights/sinusoid_<name>.npz`` with a JSON record beside it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from metalearn_lib.applications.families import BROAD_SINUSOIDS
from metalearn_lib.models import init_mlp
from metalearn_lib.tasks import SinusoidFamily
from metalearn_lib.teacher.meta_sgd import meta_train_meta_sgd
from metalearn_lib.two_level import meta_train
from metalearn_lib.validation import check_int

__all__ = [
    "LAYER_SIZES",
    "SINUSOID_RECIPES",
    "TRAINED_STARTS",
    "StartingPoint",
    "load_shipped_start",
    "load_start",
    "recipe_family",
    "save_start",
    "scratch_start",
    "shipped_start_info",
    "shipped_start_path",
    "train_start",
]

#: MAML's regression network.
LAYER_SIZES: tuple[int, ...] = (1, 40, 40, 1)
#: The training recipes (arguments of ``meta_train`` / ``meta_train_meta_sgd``), one per start.
SINUSOID_RECIPES: dict[str, dict[str, Any]] = {
    "maml": dict(trainer="maml", family="standard", num_iterations=70_000, meta_batch_size=25, num_shots=10,
                 num_query=10, inner_lr=0.01, outer_lr=1e-3, seed=0),
    "meta_sgd": dict(trainer="meta_sgd", family="standard", num_iterations=70_000, meta_batch_size=25,
                     num_shots=10, num_query=10, init_alpha=0.01, outer_lr=1e-3, seed=0),
    "pretrained": dict(trainer="pretrained", family="standard", num_iterations=70_000, meta_batch_size=25,
                       num_shots=10, num_query=10, inner_lr=0.01, outer_lr=1e-3, seed=0),
    "maml_broad": dict(trainer="maml", family="broad", num_iterations=70_000, meta_batch_size=25, num_shots=10,
                       num_query=10, inner_lr=0.01, outer_lr=1e-3, seed=0),
}
#: The starts that are trained (and shipped); ``scratch`` is drawn, not trained.
TRAINED_STARTS: tuple[str, ...] = tuple(SINUSOID_RECIPES)
_FAMILIES = {"standard": SinusoidFamily(), "broad": BROAD_SINUSOIDS}
_WEIGHTS_PACKAGE = "metalearn_lib.applications"


@dataclass(frozen=True)
class StartingPoint:
    """θ₀ and the fine-tuning step α of one start.

    Attributes:
        name: the start's name (a key of :data:`SINUSOID_RECIPES`, or ``"scratch"``).
        params: θ₀ = [W1, b1, W2, b2, W3, b3].
        inner_lr: α, a number or (Meta-SGD) one tensor per parameter, shaped like θ₀.
        record: how it was made (recipe, wall time, …).
    """

    name: str
    params: list[tf.Tensor]
    inner_lr: float | list[tf.Tensor]
    record: dict[str, Any] = field(default_factory=dict)


def _check_name(name: Any, allowed: tuple[str, ...]) -> str:
    if not isinstance(name, str) or name not in allowed:
        raise ValueError(f"name must be one of {list(allowed)}, got {name!r}")
    return name


def recipe_family(name: str) -> SinusoidFamily:
    """The task family the start ``name`` is trained on (MAML's sinusoids, or the broader family)."""
    return _FAMILIES[SINUSOID_RECIPES[_check_name(name, TRAINED_STARTS)]["family"]]


def scratch_start(seed: int = 0) -> StartingPoint:
    """A fresh network (truncated normal, std 0.01, as every recipe starts) with α = 0.01."""
    seed = check_int("seed", seed, 0)
    return StartingPoint("scratch", init_mlp(list(LAYER_SIZES), seed), 0.01, {"seed": seed})


def train_start(name: str, *, num_iterations: int | None = None, jit_compile: bool = True,
                progress: bool | None = None) -> StartingPoint:
    """Train the start ``name`` with its recipe (fewer iterations with ``num_iterations``).

    Raises:
        ValueError: an unknown ``name`` or a bad ``num_iterations``.
    """
    name = _check_name(name, TRAINED_STARTS)
    recipe = dict(SINUSOID_RECIPES[name])
    if num_iterations is not None:
        recipe["num_iterations"] = check_int("num_iterations", num_iterations)
    trainer = recipe.pop("trainer")
    family = _FAMILIES[recipe.pop("family")]
    params = init_mlp(list(LAYER_SIZES), recipe["seed"])
    common = dict(iterations_per_call=500, jit_compile=jit_compile, progress=progress)
    if trainer == "meta_sgd":
        result = meta_train_meta_sgd(params, family, **recipe, **common)
        inner_lr: float | list[tf.Tensor] = list(result.alphas)
    else:
        result = meta_train(params, family, method=trainer, **recipe, **common)
        inner_lr = float(recipe["inner_lr"])
    record = {"recipe": {"trainer": trainer, **SINUSOID_RECIPES[name], **recipe}, "wall_s": result.wall_s,
              "family": {"amplitude_range": list(family.amplitude_range), "phase_range": list(family.phase_range),
                         "x_range": list(family.x_range)},
              "final_train_loss": float(np.mean(result.losses[-1000:]))}
    return StartingPoint(name, list(result.params), inner_lr, record)


def save_start(start: StartingPoint, path: str | os.PathLike[str], **metadata: Any) -> None:
    """Write θ₀ (and a per-parameter α) to ``path`` (.npz) and its record (plus ``metadata``,
    JSON-ready) to the same path with the suffix ``.json``."""
    if not isinstance(start, StartingPoint):
        raise TypeError(f"start must be a StartingPoint, got {type(start).__name__}")
    path = Path(path)
    arrays = {f"param_{i}": p.numpy() for i, p in enumerate(start.params)}
    if isinstance(start.inner_lr, list):
        arrays.update({f"alpha_{i}": a.numpy() for i, a in enumerate(start.inner_lr)})
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)
    record = {"name": start.name, **start.record, **metadata,
              "inner_lr": "per-parameter" if isinstance(start.inner_lr, list) else start.inner_lr}
    path.with_suffix(".json").write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")


def load_start(path: str | os.PathLike[str]) -> StartingPoint:
    """A start written by :func:`save_start`."""
    path = Path(path)
    record = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    with np.load(path) as data:
        params = [tf.constant(data[f"param_{i}"]) for i in range(len([k for k in data if k.startswith("param_")]))]
        alphas = [tf.constant(data[f"alpha_{i}"]) for i in range(len([k for k in data if k.startswith("alpha_")]))]
    inner_lr: float | list[tf.Tensor] = alphas if alphas else float(record["inner_lr"])
    return StartingPoint(record["name"], params, inner_lr, record)


def shipped_start_path(name: str) -> Path:
    """Where the shipped start ``name`` lives (``weights/sinusoid_<name>.npz``)."""
    name = _check_name(name, TRAINED_STARTS)
    return Path(str(resources.files(_WEIGHTS_PACKAGE) / "weights" / f"sinusoid_{name}.npz"))


def shipped_start_info(name: str) -> dict[str, Any]:
    """The JSON record of the shipped start ``name`` (command, recipe, wall time, evaluation).

    Raises:
        FileNotFoundError: it was not shipped (run ``benchmarks/applications.py --ship``).
    """
    path = shipped_start_path(name).with_suffix(".json")
    if not path.exists():
        raise FileNotFoundError(f"no shipped start {name!r}: run benchmarks/applications.py --ship")
    return json.loads(path.read_text(encoding="utf-8"))


def load_shipped_start(name: str) -> StartingPoint:
    """The shipped start ``name`` (``"scratch"`` is drawn afresh with seed 0).

    Raises:
        ValueError: an unknown ``name``.
        FileNotFoundError: it was not shipped.
    """
    if name == "scratch":
        return scratch_start(0)
    path = shipped_start_path(name)
    if not path.exists():
        raise FileNotFoundError(f"no shipped start {name!r}: run benchmarks/applications.py --ship")
    return load_start(path)
