"""Meta-SGD (Li, Zhou, Chen, Li 2017): a learned initialisation *and* learned step sizes.

MAML learns θ and adapts with a fixed step, θ'_i = θ − α ∇L_i^support(θ). Meta-SGD makes the
step a parameter too, one entry per weight, and learns it with the same meta-gradient::

    θ'_i = θ − α ⊙ ∇_θ L_i^support(θ)                         (the inner step, ⊙ elementwise)
    L(θ, α) = (1/N) Σ_i L_i^query(θ'_i)                        (the meta-loss)
    (θ, α) ← Adam((θ, α), ∇_(θ,α) L(θ, α))                    (the outer step)

with ∂L/∂α = −(1/N) Σ_i ∇L_i^query(θ'_i) ⊙ ∇L_i^support(θ): a step size grows where the support
gradient and the query gradient after the step still point the same way. α is unconstrained, so
it learns a direction as well as a size.

Nothing here re-implements chapter 2: the inner step is :func:`metalearn_lib.two_level.adapt`
with a per-parameter ``inner_lr``, the meta-loss is :func:`~metalearn_lib.two_level.maml_loss`,
the training loop is the shared :func:`~metalearn_lib.optim.compile_training_loop` /
:func:`~metalearn_lib.optim.run_in_chunks`, and the evaluation is
:func:`~metalearn_lib.two_level.evaluate_fine_tuning` with α per parameter.

As a teacher (:class:`MetaSGDTeacher`), the learned α is the rule Δθ_t = −α ⊙ ∇L(θ_t) of the
chapter-4 loop (:func:`metalearn_lib.teacher.loop.run_teacher_loop`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import tensorflow as tf

from metalearn_lib.models import Activation, is_batched
from metalearn_lib.optim import AdamState, adam_init, adam_update, build_cached, compile_training_loop, run_in_chunks
from metalearn_lib.tasks import TaskFamily
from metalearn_lib.two_level import FineTuneResult, evaluate_fine_tuning, maml_loss
from metalearn_lib.validation import check_int, check_number, check_param_list, check_rate

__all__ = [
    "MetaSGDResult",
    "MetaSGDTeacher",
    "evaluate_meta_sgd",
    "init_alphas",
    "meta_sgd_gradient",
    "meta_sgd_loss",
    "meta_train_meta_sgd",
]


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------
def _check_alphas(alphas: Any, params: Sequence[tf.Tensor]) -> list[tf.Tensor]:
    """α as a list shaped like ``params`` and cast to their dtypes."""
    alphas = check_param_list("alphas", alphas)
    if len(alphas) != len(params):
        raise ValueError(f"alphas must have one tensor per parameter ({len(params)}), "
                         f"got {len(alphas)}")
    for i, (a, p) in enumerate(zip(alphas, params, strict=True)):
        if a.shape != p.shape:
            raise ValueError(f"alphas[{i}] must have the shape of params[{i}] {p.shape}, "
                             f"got {a.shape}")
    return [tf.cast(a, p.dtype) for a, p in zip(alphas, params, strict=True)]


def init_alphas(params: Sequence[tf.Tensor], value: float = 0.01) -> list[tf.Tensor]:
    """α_0 = ``value`` · 1, one tensor per parameter, shaped and typed like θ.

    Raises:
        ValueError: ``value`` is negative or not finite, ``params`` empty.
        TypeError: ``params`` is not a list of floating tensors, ``value`` not a number.
    """
    params = check_param_list("params", params)
    value = check_number("value", value, positive=False)
    return [tf.fill(tf.shape(p), tf.constant(value, p.dtype)) for p in params]


# --------------------------------------------------------------------------------------------
# the meta-objective and its gradient
# --------------------------------------------------------------------------------------------
def meta_sgd_loss(
    params: Sequence[tf.Tensor],
    alphas: Sequence[tf.Tensor],
    support_x: tf.Tensor,
    support_y: tf.Tensor,
    query_x: tf.Tensor,
    query_y: tf.Tensor,
    *,
    num_inner_steps: int = 1,
    activation: Activation = "relu",
) -> tf.Tensor:
    """L(θ, α) = (1/N) Σ_i L_i^query(θ − α ⊙ ∇L_i^support(θ)) — MAML's loss with α per weight.

    This is :func:`metalearn_lib.two_level.maml_loss` with ``inner_lr=alphas``; shapes as there
    (``support_x: [num_tasks, num_shots, in]`` etc.). Returns a scalar.
    """
    params = check_param_list("params", params)
    alphas = _check_alphas(alphas, params)
    return maml_loss(params, support_x, support_y, query_x, query_y, inner_lr=alphas,
                     num_inner_steps=num_inner_steps, activation=activation)


def meta_sgd_gradient(
    params: Sequence[tf.Tensor],
    alphas: Sequence[tf.Tensor],
    support_x: tf.Tensor,
    support_y: tf.Tensor,
    query_x: tf.Tensor,
    query_y: tf.Tensor,
    *,
    num_inner_steps: int = 1,
    activation: Activation = "relu",
) -> tuple[tf.Tensor, list[tf.Tensor], list[tf.Tensor]]:
    """The meta-gradient of :func:`meta_sgd_loss` with respect to θ *and* α.

    For one inner step, with g_i = ∇L_i^support(θ), θ'_i = θ − α ⊙ g_i, q_i = ∇L_i^query(θ'_i)::

        ∇_θ L = (1/N) Σ_i (I − diag(α) H_i^support) q_i,        ∇_α L = −(1/N) Σ_i q_i ⊙ g_i.

    Second order (the tape differentiates through the inner gradient).

    Returns:
        ``(loss, grads_params, grads_alphas)``, the gradients shaped like ``params``.
    """
    params = check_param_list("params", params)
    alphas = _check_alphas(alphas, params)
    with tf.GradientTape() as tape:
        tape.watch(params + alphas)
        loss = maml_loss(params, support_x, support_y, query_x, query_y, inner_lr=alphas,
                         num_inner_steps=num_inner_steps, activation=activation)
    grads = tape.gradient(loss, params + alphas,
                          unconnected_gradients=tf.UnconnectedGradients.ZERO)
    return loss, list(grads[: len(params)]), list(grads[len(params):])


# --------------------------------------------------------------------------------------------
# training
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MetaSGDResult:
    """What :func:`meta_train_meta_sgd` returns.

    Attributes:
        params: the learned initialisation θ.
        alphas: the learned step sizes α, shaped like ``params``.
        losses: ``[num_iterations]`` meta-loss L(θ, α) of each meta-batch (query MSE after the
            inner step), before that iteration's outer update.
        wall_s: seconds spent training (tracing and compiling included).
        iterations_per_s: ``num_iterations / wall_s``.
        config: the arguments the run used.
    """

    params: list[tf.Tensor]
    alphas: list[tf.Tensor]
    losses: np.ndarray
    wall_s: float
    iterations_per_s: float
    config: dict[str, Any] = field(default_factory=dict)


class _Hyper(NamedTuple):
    """Hyperparameters passed to the compiled loop as tensors (no retracing)."""

    seed: tf.Tensor
    outer_lr: tf.Tensor


@functools.lru_cache(maxsize=16)
def _compiled_chunk(
    family: TaskFamily,
    meta_batch_size: int,
    num_shots: int,
    num_query: int,
    num_inner_steps: int,
    jit_compile: bool,
    activation: Activation,
) -> Callable[..., Any]:
    """One Meta-SGD meta-iteration, wrapped by :func:`metalearn_lib.optim.compile_training_loop`
    (the :class:`_Hyper` as its one constant); cached."""

    def one_iteration(
        carry: tuple[list[tf.Tensor], list[tf.Tensor], AdamState],
        iteration: tf.Tensor,
        hyper: _Hyper,
    ) -> tuple[tuple[list[tf.Tensor], list[tf.Tensor], AdamState], tf.Tensor]:
        params, alphas, state = carry
        dtype = params[0].dtype
        batch = family.sample(meta_batch_size, num_shots, num_query,
                              seed=tf.stack([hyper.seed, iteration]))
        sx, sy = tf.cast(batch.support_x, dtype), tf.cast(batch.support_y, dtype)
        qx, qy = tf.cast(batch.query_x, dtype), tf.cast(batch.query_y, dtype)
        loss, g_params, g_alphas = meta_sgd_gradient(params, alphas, sx, sy, qx, qy,
                                                     num_inner_steps=num_inner_steps,
                                                     activation=activation)
        # one Adam over the concatenated (θ, α)
        both, state = adam_update(params + alphas, g_params + g_alphas, state,
                                  learning_rate=hyper.outer_lr)
        n = len(params)
        return (both[:n], both[n:], state), loss

    return compile_training_loop(one_iteration, jit_compile=jit_compile)


def meta_train_meta_sgd(
    params: Sequence[tf.Tensor],
    family: TaskFamily,
    *,
    num_iterations: int,
    meta_batch_size: int = 25,
    num_shots: int = 5,
    num_query: int = 10,
    init_alpha: float | Sequence[tf.Tensor] = 0.01,
    num_inner_steps: int = 1,
    outer_lr: float = 1e-3,
    seed: int = 0,
    iterations_per_call: int = 100,
    jit_compile: bool = False,
    activation: Activation = "relu",
    progress: bool = False,
) -> MetaSGDResult:
    """Meta-train θ and α with Meta-SGD.

    Iteration t samples ``meta_batch_size`` tasks from ``family`` with the stateless seed
    ``[seed, t]`` and applies (θ, α) ← Adam((θ, α), ∇_(θ,α) (1/N) Σ_i L_i^query(θ − α ⊙
    ∇L_i^support(θ))), second order. The loop is the course's shared one, as in chapter 2
    (:func:`metalearn_lib.optim.compile_training_loop`, ``iterations_per_call`` iterations per
    compiled call, XLA with ``jit_compile=True``).

    Args:
        params: initial shared θ (e.g. from :func:`metalearn_lib.models.init_mlp`).
        family: a task family (``sample(num_tasks, num_shots, num_query, seed=)``).
        num_iterations: meta-iterations T, >= 1.
        meta_batch_size: tasks per iteration N, >= 1.
        num_shots: support points K per task, >= 1.
        num_query: query points per task, >= 1.
        init_alpha: α_0, a number >= 0 (every entry) or a list of tensors shaped like θ.
        num_inner_steps: inner steps, >= 1 (Meta-SGD uses 1).
        outer_lr: Adam's learning rate, > 0.
        seed: int >= 0, the seed of the task stream.
        iterations_per_call: iterations per compiled call, >= 1.
        jit_compile: compile with XLA.
        activation: hidden activation of the MLP.
        progress: show a ``tqdm.auto`` progress bar.

    Returns:
        A :class:`MetaSGDResult`.

    Raises:
        ValueError: an argument out of range, ``params`` per task, ``init_alpha`` misshapen.
        TypeError: an argument of the wrong type.
    """
    num_iterations = check_int("num_iterations", num_iterations, 1)
    meta_batch_size = check_int("meta_batch_size", meta_batch_size, 1)
    num_shots = check_int("num_shots", num_shots, 1)
    num_query = check_int("num_query", num_query, 1)
    num_inner_steps = check_int("num_inner_steps", num_inner_steps, 1)
    outer_lr = check_rate("outer_lr", outer_lr, positive=True)
    seed = check_int("seed", seed, 0)
    iterations_per_call = check_int("iterations_per_call", iterations_per_call, 1)
    if not hasattr(family, "sample"):
        raise TypeError(f"family must have a sample(num_tasks, num_shots, num_query, seed=) "
                        f"method, got {type(family).__name__}")
    params = check_param_list("params", params)
    if is_batched(params):
        raise ValueError("params must be shared (W1 of rank 2), not per task")
    if isinstance(init_alpha, (list, tuple)):
        alphas = _check_alphas(init_alpha, params)
        init_alpha_config: Any = "per-parameter"
    else:
        alphas = init_alphas(params, check_number("init_alpha", init_alpha, positive=False))
        init_alpha_config = float(init_alpha)
    dtype = params[0].dtype
    config = dict(method="meta_sgd", num_iterations=num_iterations,
                  meta_batch_size=meta_batch_size, num_shots=num_shots, num_query=num_query,
                  init_alpha=init_alpha_config, num_inner_steps=num_inner_steps,
                  outer_lr=outer_lr, seed=seed, iterations_per_call=iterations_per_call,
                  jit_compile=jit_compile,
                  activation=activation if isinstance(activation, str) else repr(activation))
    static = (family, meta_batch_size, num_shots, num_query, num_inner_steps, jit_compile,
              activation)
    run_chunk = build_cached(_compiled_chunk, *static)  # unhashable family/activation: afresh
    hyper = _Hyper(seed=tf.constant(seed, tf.int64), outer_lr=tf.constant(outer_lr, dtype))
    carry = (params, alphas, adam_init(params + alphas))
    (params, alphas, _), losses, wall_s = run_in_chunks(
        run_chunk, carry, num_iterations=num_iterations, iterations_per_call=iterations_per_call,
        progress=progress, desc="meta_sgd", postfix=lambda m: {"loss": f"{float(np.mean(m)):.3f}"},
        constants=(hyper,))
    return MetaSGDResult(list(params), list(alphas), losses, wall_s, num_iterations / wall_s,
                         config)


# --------------------------------------------------------------------------------------------
# evaluation
# --------------------------------------------------------------------------------------------
def evaluate_meta_sgd(
    result: MetaSGDResult,
    family: TaskFamily,
    *,
    num_tasks: int = 600,
    num_shots: int = 5,
    num_query: int = 100,
    steps: Sequence[int] = (0, 1),
    seed: int = 1_000_000,
    activation: Activation = "relu",
) -> FineTuneResult:
    """Fine-tune the learned θ with the learned α on K points per test task; query MSE ± CI.

    θ'_i(s+1) = θ'_i(s) − α ⊙ ∇L_i^support(θ'_i(s)): :func:`two_level.evaluate_fine_tuning`
    with ``inner_lr=result.alphas``; arguments as there.

    Raises:
        TypeError: ``result`` is not a :class:`MetaSGDResult`.
    """
    if not isinstance(result, MetaSGDResult):
        raise TypeError(f"result must be a MetaSGDResult, got {type(result).__name__}")
    return evaluate_fine_tuning(result.params, family, num_tasks=num_tasks, num_shots=num_shots,
                                num_query=num_query, steps=steps, inner_lr=result.alphas,
                                seed=seed, activation=activation)


# --------------------------------------------------------------------------------------------
# the teacher
# --------------------------------------------------------------------------------------------
class MetaSGDTeacher:
    """The learned step sizes as a teacher of the chapter-4 loop: Δθ_t = −α ⊙ ∇L(θ_t).

    Stateless: ``reset`` only checks that α fits the learner. Start the learner at the learned
    initialisation to get Meta-SGD's adaptation::

        teacher = MetaSGDTeacher(result.alphas)
        run_teacher_loop(teacher, loss_fn, result.params, max_steps=1)

    Args:
        alpha: a number >= 0 (the same step for every weight: plain SGD), or a list of tensors,
            one per parameter (Meta-SGD's learned α; any sign).

    Raises:
        TypeError: ``alpha`` is neither a number nor a list of floating tensors.
        ValueError: a negative or non-finite number, an empty list.
    """

    def __init__(self, alpha: float | Sequence[tf.Tensor]) -> None:
        if isinstance(alpha, (list, tuple)):
            self.alpha: float | list[tf.Tensor] = check_param_list("alpha", alpha)
        elif isinstance(alpha, (tf.Tensor, tf.Variable, np.ndarray)) and np.ndim(alpha) > 0:
            raise TypeError("alpha must be a number or a list of tensors (one per parameter), "
                            f"got a single tensor of shape {tuple(np.shape(alpha))}")
        else:
            self.alpha = check_number("alpha", alpha, positive=False)

    def reset(self, params: Sequence[tf.Tensor]) -> None:
        """Check that α has one tensor per parameter, shaped like it.

        Raises:
            ValueError: wrong number of tensors or a shape mismatch.
        """
        params = check_param_list("params", params)
        if isinstance(self.alpha, list):
            _check_alphas(self.alpha, params)

    def update(self, state: Any) -> list[tf.Tensor]:
        """Δθ_t = −α ⊙ ∇L(θ_t), from ``state.grads`` (a :class:`LearnerState`).

        Raises:
            TypeError: ``state`` has no ``grads``.
            ValueError: ``state.grads`` does not match α.
        """
        grads = getattr(state, "grads", None)
        if grads is None:
            raise TypeError(f"state must be a LearnerState (with grads), got "
                            f"{type(state).__name__}")
        grads = check_param_list("state.grads", grads)
        if isinstance(self.alpha, list):
            alphas = _check_alphas(self.alpha, grads)
            return [-a * g for a, g in zip(alphas, grads, strict=True)]
        return [tf.constant(-self.alpha, g.dtype) * g for g in grads]

    def __repr__(self) -> str:
        if isinstance(self.alpha, list):
            mean = float(np.mean(np.concatenate([np.ravel(a.numpy()) for a in self.alpha])))
            return f"MetaSGDTeacher(alpha=<{len(self.alpha)} tensors, mean {mean:.4g}>)"
        return f"MetaSGDTeacher(alpha={self.alpha:g})"
