"""Multi-task learning: many separate regressors, averaged into one start (the MAML authors' baselines).

The MAML authors compared MAML with three "multi-task" starts on sinusoids: train N = 500 separate
networks, one per task, each to a low error on its own task; average their parameter vectors
(chapter 3's parameter averaging, θ̄ = (1/N) Σ_i θ_i); fine-tune θ̄ on K = 5 points of a new task.
The separate training comes in three variants, each a penalty added to the task's loss:

- ``"none"``:  L_i(θ_i);
- ``"l2"``:    L_i(θ_i) + λ ‖θ_i‖²                       (weight decay);
- ``"mean"``:  L_i(θ_i) + λ ‖θ_i − θ̄‖²,  θ̄ = (1/N) Σ_j θ_j  (pulled towards the mean of all N).

For the mean penalty, ∂/∂θ_i Σ_j ‖θ_j − θ̄‖² = 2 (θ_i − θ̄) — the terms through θ̄ cancel because
Σ_j (θ_j − θ̄) = 0 — so treating θ̄ as a constant (``tf.stop_gradient``) gives the same update.

All N networks train at once: their parameters are one tensor per layer with a leading regressor
axis (the per-task layout of :func:`metalearn_lib.models.forward`), the loss is the sum over
regressors (so each slice of the gradient is that regressor's own), and the loop is the course's
one compiled training loop (:func:`metalearn_lib.optim.compile_training_loop`). Every step draws
fresh inputs x ~ U[x_range] for every task, so a regressor learns its whole sinusoid.

Why the average is a poor start (chapter 3): a network's function does not change when its hidden
units are permuted, so N networks trained from *independent* initialisations solve their tasks
with their units in unrelated orders; averaging their weights averages unrelated units, and θ̄
computes an almost flat function. A penalty towards θ̄ ties every unit to the same role in all N
networks, so the average is again a network of the family.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import tensorflow as tf

from metalearn_lib.models import forward, init_mlp, is_batched, mse, tile_params
from metalearn_lib.optim import AdamState, adam_init, adam_update, build_cached, compile_training_loop, run_in_chunks
from metalearn_lib.tasks import SinusoidFamily, uniform01
from metalearn_lib.validation import check_int, check_number, check_param_list, check_rate

__all__ = [
    "INITS",
    "REGULARISERS",
    "SeparateRegressors",
    "average_regressors",
    "init_separate_regressors",
    "regulariser_penalty",
    "train_separate_regressors",
]

#: The penalties of the separate training (see the module docstring).
REGULARISERS: tuple[str, ...] = ("none", "l2", "mean")
#: How the N networks start: each from its own random draw, or all from one.
INITS: tuple[str, ...] = ("independent", "shared")


def _check_choice(name: str, value: Any, choices: Sequence[str]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")
    return value


def init_separate_regressors(
    layer_sizes: Sequence[int],
    num_regressors: int,
    *,
    seed: int,
    init: str = "independent",
    dtype: tf.DType = tf.float32,
) -> list[tf.Tensor]:
    """Initial parameters of N networks, stacked: ``W_l: [N, in, out]``, ``b_l: [N, out]`` (zeros).

    Weights are He-initialised, W ~ N(0, 2/in) truncated at ±2 std (so that every one of the N
    networks reaches a low error on its own task; the tiny std 0.01 of the MAML reference code
    leaves some ReLU networks stuck for thousands of steps). ``init="independent"`` draws each
    network's weights separately; ``"shared"`` starts all N from one draw (:func:`init_mlp`).

    Raises:
        ValueError, TypeError: a count out of range or an unknown ``init``.
    """
    num_regressors = check_int("num_regressors", num_regressors)
    init = _check_choice("init", init, INITS)
    seed = check_int("seed", seed, 0)
    if init == "shared":
        return tile_params(init_mlp(layer_sizes, seed, init="he", dtype=dtype), num_regressors)
    init_mlp(layer_sizes, seed, dtype=dtype)  # validates layer_sizes and dtype
    sizes = list(layer_sizes)
    seeds = tf.random.experimental.stateless_split(tf.constant([seed, 1], tf.int64), num=len(sizes) - 1,
                                                   alg="philox")
    params: list[tf.Tensor] = []
    for layer, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        params.append(tf.random.stateless_truncated_normal([num_regressors, n_in, n_out], seeds[layer],
                                                           stddev=math.sqrt(2.0 / n_in), dtype=dtype,
                                                           alg="philox"))
        params.append(tf.zeros([num_regressors, n_out], dtype))
    return params


def regulariser_penalty(params: Sequence[tf.Tensor], regulariser: str) -> tf.Tensor:
    """Each regressor's penalty, ``[N]``: 0, ‖θ_i‖² (``"l2"``) or ‖θ_i − θ̄‖² (``"mean"``).

    ``params`` are the stacked parameters (leading regressor axis); θ̄ = (1/N) Σ_j θ_j over that
    axis, held constant (its gradient terms cancel, see the module docstring).
    """
    regulariser = _check_choice("regulariser", regulariser, REGULARISERS)
    params = check_param_list("params", params)
    if not is_batched(params):
        raise ValueError("params must be stacked, with a leading regressor axis (W1 of rank 3)")
    if regulariser == "none":
        return tf.zeros([tf.shape(params[0])[0]], params[0].dtype)
    per_layer = []
    for p in params:
        centred = p - tf.stop_gradient(tf.reduce_mean(p, axis=0)) if regulariser == "mean" else p
        per_layer.append(tf.reduce_sum(tf.reshape(tf.square(centred), [tf.shape(p)[0], -1]), axis=1))
    return tf.add_n(per_layer)


def average_regressors(params: Sequence[tf.Tensor]) -> list[tf.Tensor]:
    """θ̄ = (1/N) Σ_i θ_i: the mean over the leading regressor axis, layer by layer.

    Chapter 3's :func:`metalearn_lib.averaging.average_params` with uniform weights, for
    parameters already stacked.
    """
    params = check_param_list("params", params)
    if not is_batched(params):
        raise ValueError("params must be stacked, with a leading regressor axis (W1 of rank 3)")
    return [tf.reduce_mean(p, axis=0) for p in params]


@dataclass(frozen=True)
class SeparateRegressors:
    """What :func:`train_separate_regressors` returns.

    Attributes:
        params: the N trained networks, stacked (leading regressor axis).
        amplitude, phase: ``[N]`` the sinusoid each network was trained on.
        own_mse: ``[N]`` each network's MSE on its own task, over 1,000 fresh inputs.
        losses: ``[num_steps]`` mean training MSE (without the penalty) per step.
        wall_s: seconds spent training (tracing and compiling included).
        config: the arguments of the run.
    """

    params: list[tf.Tensor]
    amplitude: np.ndarray
    phase: np.ndarray
    own_mse: np.ndarray
    losses: np.ndarray
    wall_s: float
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def average(self) -> list[tf.Tensor]:
        """θ̄, the averaged parameters (:func:`average_regressors`)."""
        return average_regressors(self.params)

    def fraction_below(self, threshold: float = 0.02) -> float:
        """The fraction of the N networks whose own-task MSE is below ``threshold``."""
        return float(np.mean(self.own_mse < threshold))


class _Hyper(NamedTuple):
    seed: tf.Tensor
    reg_strength: tf.Tensor
    learning_rate: tf.Tensor
    final_learning_rate: tf.Tensor
    num_steps: tf.Tensor
    amplitude: tf.Tensor
    phase: tf.Tensor


@functools.lru_cache(maxsize=8)
def _compiled_chunk(family: SinusoidFamily, regulariser: str, points_per_step: int, jit_compile: bool) -> Any:
    def one_iteration(carry: tuple[list[tf.Tensor], AdamState], step: tf.Tensor, hyper: _Hyper
                      ) -> tuple[tuple[list[tf.Tensor], AdamState], tf.Tensor]:
        params, state = carry
        dtype = params[0].dtype
        num = tf.shape(params[0])[0]
        low, high = family.x_range
        x = low + (high - low) * uniform01([num, points_per_step, 1], tf.stack([hyper.seed, step]), dtype)
        y = family.function(x, hyper.amplitude, hyper.phase)
        with tf.GradientTape() as tape:
            tape.watch(params)
            task_mse = mse(forward(params, x), y)  # [N]
            # Σ_i (L_i(θ_i) + λ·penalty_i): each regressor's slice of the gradient is its own
            loss = tf.reduce_sum(task_mse + hyper.reg_strength * regulariser_penalty(params, regulariser))
        grads = tape.gradient(loss, params)
        progress = tf.cast(step, dtype) / hyper.num_steps
        learning_rate = hyper.learning_rate + (hyper.final_learning_rate - hyper.learning_rate) * progress
        params, state = adam_update(params, grads, state, learning_rate=learning_rate)
        return (params, state), tf.reduce_mean(task_mse)

    return compile_training_loop(one_iteration, jit_compile=jit_compile)


def train_separate_regressors(
    family: SinusoidFamily | None = None,
    num_regressors: int = 500,
    *,
    regulariser: str = "none",
    reg_strength: float = 0.0,
    init: str = "independent",
    num_steps: int = 10_000,
    points_per_step: int = 50,
    learning_rate: float = 3e-3,
    final_learning_rate: float = 3e-4,
    layer_sizes: Sequence[int] = (1, 40, 40, 1),
    seed: int = 0,
    iterations_per_call: int = 500,
    jit_compile: bool = True,
    progress: bool | None = None,
) -> SeparateRegressors:
    """Train N separate sinusoid regressors at once, one per task, with an optional penalty.

    Tasks (A_i, φ_i) are ``family.sample(num_regressors, 1, seed=seed)``'s; step t draws
    ``points_per_step`` fresh x ~ U[x_range] per task (seed [seed, t]) and takes one Adam step on
    Σ_i (L_i(θ_i) + λ·penalty_i) (see :func:`regulariser_penalty`), the learning rate annealed
    linearly from ``learning_rate`` to ``final_learning_rate``.

    Args:
        family: the sinusoid family the tasks come from; default MAML's.
        num_regressors: N ≥ 1.
        regulariser: one of :data:`REGULARISERS`.
        reg_strength: λ ≥ 0.
        init: one of :data:`INITS` (see :func:`init_separate_regressors`).
        num_steps: Adam steps, ≥ 1.
        points_per_step: fresh inputs per task per step, ≥ 1.
        learning_rate, final_learning_rate: Adam's rate at the first and last step, > 0.
        layer_sizes: the network, MAML's 1-40-40-1 ReLU by default.
        seed: int ≥ 0 (tasks, initialisation and inputs).
        iterations_per_call: steps per compiled call.
        jit_compile: compile with XLA.
        progress: a ``tqdm.auto`` bar (``None``: only for runs longer than a few seconds).

    Returns:
        A :class:`SeparateRegressors`.

    Raises:
        ValueError, TypeError: an argument out of range or of the wrong type (named).
    """
    family = SinusoidFamily() if family is None else family
    if not isinstance(family, SinusoidFamily):
        raise TypeError(f"family must be a SinusoidFamily, got {type(family).__name__}")
    num_regressors = check_int("num_regressors", num_regressors)
    regulariser = _check_choice("regulariser", regulariser, REGULARISERS)
    reg_strength = check_number("reg_strength", reg_strength, positive=False)
    num_steps = check_int("num_steps", num_steps)
    points_per_step = check_int("points_per_step", points_per_step)
    learning_rate = check_rate("learning_rate", learning_rate)
    final_learning_rate = check_rate("final_learning_rate", final_learning_rate)
    seed = check_int("seed", seed, 0)
    iterations_per_call = check_int("iterations_per_call", iterations_per_call)
    dtype = family.dtype
    tasks = family.sample(num_regressors, 1, seed=seed).task_params
    params = init_separate_regressors(layer_sizes, num_regressors, seed=seed, init=init, dtype=dtype)
    config = dict(num_regressors=num_regressors, regulariser=regulariser, reg_strength=reg_strength, init=init,
                  num_steps=num_steps, points_per_step=points_per_step, learning_rate=learning_rate,
                  final_learning_rate=final_learning_rate, layer_sizes=list(layer_sizes), seed=seed,
                  family=dict(amplitude_range=list(family.amplitude_range), phase_range=list(family.phase_range),
                              x_range=list(family.x_range)))
    hyper = _Hyper(seed=tf.constant(seed, tf.int64), reg_strength=tf.constant(reg_strength, dtype),
                   learning_rate=tf.constant(learning_rate, dtype),
                   final_learning_rate=tf.constant(final_learning_rate, dtype),
                   num_steps=tf.constant(num_steps, dtype), amplitude=tasks["amplitude"], phase=tasks["phase"])
    run_chunk = build_cached(_compiled_chunk, family, regulariser, points_per_step, jit_compile)
    (params, _), losses, wall_s = run_in_chunks(
        run_chunk, (params, adam_init(params)), num_iterations=num_steps, iterations_per_call=iterations_per_call,
        progress=progress, desc=f"{num_regressors} regressors ({regulariser})",
        postfix=lambda m: {"mse": f"{float(np.mean(m)):.3f}"}, constants=(hyper,))
    low, high = family.x_range
    x = low + (high - low) * uniform01([num_regressors, 1000, 1], tf.constant([seed, 2**31], tf.int64), dtype)
    own = mse(forward(params, x), family.function(x, tasks["amplitude"], tasks["phase"])).numpy()
    return SeparateRegressors(list(params), tasks["amplitude"].numpy(), tasks["phase"].numpy(), own, losses,
                              wall_s, config)
