"""Teachers for the linear learner ŷ = Xθ: the gradient teacher, the source article's teacher
(and why it fails), and the exact teacher.

The learner's loss is the (optionally ridge-penalised) mean squared error ::

    L(θ) = (1/n) (‖Xθ − y‖² + λ‖θ‖²),   ∇L(θ) = (2/n) (Xᵀ(Xθ − y) + λθ),   ∇²L = (2/n)(XᵀX + λI),

with X ``[n, d]``, y ``[n, 1]`` and θ ``[d, 1]`` (or ``[d]``); :func:`linear_loss` builds it for
:func:`~metalearn_lib.teacher.loop.run_teacher_loop`.

**The article's teacher.** Its code sets, for each mini-batch (X_b, y_b), θ ← X_bᵀy_b: the
"feedback" is computed from the data alone and *replaces* θ; the loss it computes just before is
never used, and ``np`` is used without being imported. :class:`ArticleTeacher` re-implements
that rule (``mode="replace"``) and the natural reading "add the feedback" (``mode="add"``).
Neither is a descent method in general:

* replace: θ_1 = Xᵀy and then nothing moves (Δθ = 0), so the loop *stalls* at Xᵀy. That is the
  least-squares solution θ* = (XᵀX)⁻¹Xᵀy only when XᵀX·Xᵀy = Xᵀy (e.g. XᵀX = I, orthonormal
  columns); otherwise L(Xᵀy) > L(θ*), and Xᵀy even grows with n. With several mini-batches θ
  jumps between the X_bᵀy_b and never settles.
* add: θ_t = θ_0 + t·s·Xᵀy moves along a fixed ray a = Xᵀy. From θ_0 = 0, −∇L(0) = (2/n)a, so
  the first steps descend, but along the ray L is a parabola in c = t·s with minimum at
  c* = ‖a‖²/‖Xa‖²; past c* every step *increases* the loss and L grows like t², i.e. the loop
  *diverges* (unless a = 0, when it never moves). :func:`article_analysis` computes these numbers
  and :func:`descent_cosine` measures cos∠(Δθ, −∇L) step by step.

**The exact teacher** returns Δθ = θ* − θ with θ* = (XᵀX + λI)⁻¹Xᵀy: one step to the optimum.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import tensorflow as tf

from metalearn_lib.mapping import ridge_fit
from metalearn_lib.teacher.loop import LearnerState
from metalearn_lib.validation import check_int, check_number, check_rate

__all__ = [
    "ArticleAnalysis",
    "ArticleTeacher",
    "ExactLinearTeacher",
    "GradientTeacher",
    "article_analysis",
    "article_fixed_point",
    "descent_cosine",
    "linear_loss",
    "max_stable_learning_rate",
]


def _check_x(x: Any) -> tf.Tensor:
    """X as an ``[n, d]`` floating tensor (integers are cast to float32)."""
    try:
        x = tf.convert_to_tensor(x)
    except (TypeError, ValueError):
        raise TypeError(f"x must be a floating [n, d] tensor, got {type(x).__name__}") from None
    if not x.dtype.is_floating:
        if x.dtype.is_integer:
            x = tf.cast(x, tf.float32)
        else:
            raise TypeError(f"x must be a floating [n, d] tensor, got dtype {x.dtype.name}")
    if x.shape.rank != 2 or x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"x must have shape [n, d] with n, d >= 1, got {x.shape}")
    return x


def _check_data(x: Any, y: Any) -> tuple[tf.Tensor, tf.Tensor]:
    """X as ``[n, d]`` and y as ``[n, 1]`` floating tensors of one dtype."""
    x = _check_x(x)
    try:
        y = tf.cast(tf.convert_to_tensor(y), x.dtype)
    except (TypeError, ValueError):
        raise TypeError(f"y must be a floating [n, 1] tensor, got {type(y).__name__}") from None
    if y.shape.rank == 1:
        y = y[:, tf.newaxis]
    if y.shape.rank != 2 or y.shape[1] != 1 or y.shape[0] != x.shape[0]:
        raise ValueError(f"y must have shape [n, 1] (or [n]) with n = {x.shape[0]} as in x, got {y.shape}")
    return x, y


def _column(theta: tf.Tensor, d: int, name: str = "params[0]") -> tf.Tensor:
    """θ as a ``[d, 1]`` column (accepts ``[d]`` or ``[d, 1]``)."""
    if theta.shape not in ([d], [d, 1]):
        raise ValueError(f"{name} must have shape [{d}, 1] or [{d}] (θ of the linear learner), got {theta.shape}")
    return tf.reshape(theta, [d, 1])


def _single(params: Sequence[tf.Tensor], d: int) -> tf.Tensor:
    if len(params) != 1:
        raise ValueError(f"the linear learner has one parameter θ, got {len(params)} tensors")
    return _column(tf.convert_to_tensor(params[0]), d)


def _as_dtype(value: Any, dtype: tf.DType) -> tf.Tensor:
    """A number or scalar tensor in ``dtype``, without a float32 detour for Python floats
    (``tf.cast(0.3, tf.float64)`` would round 0.3 to float32 first)."""
    if isinstance(value, (tf.Tensor, tf.Variable)):
        return tf.cast(value, dtype)
    return tf.constant(value, dtype)


def linear_loss(x: Any, y: Any, l2: float = 0.0) -> Callable[[list[tf.Tensor]], tf.Tensor]:
    """The linear learner's loss L(θ) = (1/n)(‖Xθ − y‖² + λ‖θ‖²) as a function of ``[θ]``.

    Args:
        x: X, ``[n, d]``.
        y: y, ``[n, 1]`` or ``[n]``.
        l2: λ ≥ 0.

    Raises:
        TypeError, ValueError: malformed ``x``, ``y`` or ``l2``.
    """
    x, y = _check_data(x, y)
    lam = check_number("l2", l2, positive=False)
    n, d = int(x.shape[0]), int(x.shape[1])

    def loss(params: list[tf.Tensor]) -> tf.Tensor:
        theta = _single(params, d)
        residual = tf.matmul(x, theta) - y
        return (tf.reduce_sum(tf.square(residual)) + lam * tf.reduce_sum(tf.square(theta))) / n

    return loss


def max_stable_learning_rate(x: Any, l2: float = 0.0) -> float:
    """2 / λ_max(∇²L) = n / λ_max(XᵀX + λI): gradient descent on :func:`linear_loss` converges
    for 0 < η < this value and diverges (from a generic start) for η above it."""
    x = _check_x(x)
    lam = check_number("l2", l2, positive=False)
    xn = x.numpy().astype(np.float64)
    top = float(np.linalg.eigvalsh(xn.T @ xn).max()) + lam
    return math.inf if top == 0.0 else xn.shape[0] / top


class GradientTeacher:
    """The gradient teacher (plain SGD): Δθ = −η ∇L(θ), for every parameter tensor.

    Works for any learner (it only reads ``state.grads``).
    """

    def __init__(self, learning_rate: float) -> None:
        self.learning_rate = check_rate("learning_rate", learning_rate)

    def reset(self, params: Sequence[tf.Tensor]) -> None:
        """Stateless: nothing to clear."""

    def update(self, state: LearnerState) -> list[tf.Tensor]:
        """Δθ_t = −η ∇L(θ_t)."""
        return [-_as_dtype(self.learning_rate, g.dtype) * g for g in state.grads]


class ArticleTeacher:
    """The source article's teacher, re-implemented faithfully.

    With mini-batches (X_b, y_b), b = t mod B (B = ⌈n / batch_size⌉, full batch by default):

    * ``mode="replace"`` (the article: ``theta = teacher(...)``):
      θ_{t+1} = θ_t + s (X_bᵀy_b − θ_t), i.e. Δθ_t = s (X_bᵀy_b − θ_t); s = 1 is the article's
      θ_{t+1} = X_bᵀy_b.
    * ``mode="add"`` (feedback added to θ): Δθ_t = s X_bᵀy_b.

    The rule reads neither the loss nor the gradient (the article computes the loss and drops
    it), so it is not a descent direction in general; see the module docstring and
    :func:`article_analysis`. (The article also picks one of several learners at random each
    batch; with one learner, as here, that choice is trivial.)

    Args:
        x: X, ``[n, d]``.
        y: y, ``[n, 1]`` or ``[n]``.
        step_size: s > 0 (default 1: the article's rule).
        mode: ``"replace"`` or ``"add"``.
        batch_size: rows per mini-batch (int ≥ 1), ``None`` for the full batch.
    """

    def __init__(self, x: Any, y: Any, step_size: float = 1.0, *, mode: str = "replace",
                 batch_size: int | None = None) -> None:
        self.x, self.y = _check_data(x, y)
        self.step_size = check_number("step_size", step_size)
        if mode not in ("replace", "add"):
            raise ValueError(f"mode must be 'replace' or 'add', got {mode!r}")
        self.mode = mode
        n = int(self.x.shape[0])
        size = n if batch_size is None else check_int("batch_size", batch_size)
        self.feedback = [tf.matmul(self.x[i:i + size], self.y[i:i + size], transpose_a=True)
                         for i in range(0, n, size)]  # X_bᵀy_b, [d, 1] each

    def reset(self, params: Sequence[tf.Tensor]) -> None:
        """Stateless (the batch is chosen by the step counter)."""

    def update(self, state: LearnerState) -> list[tf.Tensor]:
        """Δθ_t = s (X_bᵀy_b − θ_t) (replace) or s X_bᵀy_b (add), b = t mod B."""
        d = int(self.x.shape[1])
        raw = tf.convert_to_tensor(state.params[0])
        theta = _single(state.params, d)
        feedback = self.feedback[state.step % len(self.feedback)]
        delta = feedback - theta if self.mode == "replace" else feedback
        return [tf.reshape(self.step_size * delta, raw.shape)]


def article_fixed_point(x: Any, y: Any) -> tf.Tensor:
    """Where the article's (full-batch, replace) teacher stalls: θ_a = Xᵀy, ``[d, 1]``.

    It is a fixed point (Δθ = Xᵀy − θ_a = 0), reached after one step from any θ_0; it is optimal
    iff ∇L(θ_a) = 0 ⇔ XᵀX Xᵀy = Xᵀy (true when XᵀX = I).
    """
    x, y = _check_data(x, y)
    return tf.matmul(x, y, transpose_a=True)


@dataclass(frozen=True)
class ArticleAnalysis:
    """Why the article's teacher fails on (X, y), in numbers.

    Attributes:
        theta_article: θ_a = Xᵀy, where ``mode="replace"`` stalls, ``[d, 1]``.
        theta_star: the least-squares optimum θ* (minimum-norm), ``[d, 1]``.
        loss_article: L(θ_a).
        loss_star: L(θ*).
        stall_gap: L(θ_a) − L(θ*) ≥ 0: how far above the optimum the stall sits.
        fixed_point_optimal: whether XᵀX Xᵀy = Xᵀy (then the stall *is* the optimum).
        ray_optimum: c* = ‖Xᵀy‖² / ‖XXᵀy‖²: ``mode="add"`` from θ_0 = 0 reaches θ = c·Xᵀy after
            c / s steps, descends while c < c* and ascends (L grows like c²) beyond it.
    """

    theta_article: np.ndarray
    theta_star: np.ndarray
    loss_article: float
    loss_star: float
    stall_gap: float
    fixed_point_optimal: bool
    ray_optimum: float

    def descending_steps(self, step_size: float = 1.0) -> int:
        """How many ``mode="add"`` steps from θ_0 = 0 lower the loss before it turns upward.

        Along the ray L(c·a) = L(0) − (2c/n)‖a‖² + (c²/n)‖Xa‖², so step t (c: t·s → (t+1)·s)
        lowers L iff (t + ½)·s < c*; the count is #{t ≥ 0 : t < c*/s − ½}. Every later step
        raises L. 0 when a = Xᵀy = 0 (c* = ∞ is reported only for Xa = 0, a ≠ 0 never happens
        with n ≥ 1 rows since ‖a‖² = ⟨Xa, y⟩).
        """
        s = check_number("step_size", step_size)
        if math.isinf(self.ray_optimum):
            return 0
        return max(0, math.ceil(self.ray_optimum / s - 0.5))


def article_analysis(x: Any, y: Any, *, atol: float = 1e-6) -> ArticleAnalysis:
    """Compare the article teacher's stall point and ray with the least-squares optimum.

    Args:
        x: X, ``[n, d]``.
        y: y, ``[n, 1]`` or ``[n]``.
        atol: tolerance of the optimality test ‖XᵀX Xᵀy − Xᵀy‖ ≤ atol·(1 + ‖Xᵀy‖).
    """
    x, y = _check_data(x, y)
    atol = check_number("atol", atol)
    xn, yn = x.numpy().astype(np.float64), y.numpy().astype(np.float64)
    n = xn.shape[0]
    a = xn.T @ yn
    star = np.linalg.lstsq(xn, yn, rcond=None)[0]

    def loss(theta: np.ndarray) -> float:
        return float(np.sum((xn @ theta - yn) ** 2) / n)

    xa = xn @ a
    ray = math.inf if float(np.sum(xa**2)) == 0.0 else float(np.sum(a**2) / np.sum(xa**2))
    optimal = bool(np.linalg.norm(xn.T @ xa - a) <= atol * (1.0 + np.linalg.norm(a)))
    la, ls = loss(a), loss(star)
    return ArticleAnalysis(theta_article=a, theta_star=star, loss_article=la, loss_star=ls,
                           stall_gap=la - ls, fixed_point_optimal=optimal, ray_optimum=ray)


def descent_cosine(update: Sequence[Any], grads: Sequence[Any]) -> float:
    """cos∠(Δθ, −∇L) = ⟨Δθ, −∇L⟩ / (‖Δθ‖ ‖∇L‖) over all parameters flattened.

    > 0: Δθ is a descent direction (a small enough step lowers L); < 0: it is an ascent
    direction; 0 if either vector is zero (no information: at a stationary point or no move).

    Raises:
        ValueError: different numbers of tensors or mismatched sizes.
    """
    if len(update) != len(grads):
        raise ValueError(f"update and grads must have the same number of tensors, got {len(update)} and {len(grads)}")
    u = np.concatenate([np.ravel(np.asarray(v, dtype=np.float64)) for v in update]) if update else np.zeros(0)
    g = np.concatenate([np.ravel(np.asarray(v, dtype=np.float64)) for v in grads]) if grads else np.zeros(0)
    if u.shape != g.shape:
        raise ValueError(f"update and grads must have the same total size, got {u.size} and {g.size}")
    nu, ng = float(np.linalg.norm(u)), float(np.linalg.norm(g))
    if nu == 0.0 or ng == 0.0:
        return 0.0
    return float(np.dot(u, -g) / (nu * ng))


class ExactLinearTeacher:
    """The exact teacher for the linear learner: Δθ = θ* − θ, θ* = (XᵀX + λI)⁻¹Xᵀy.

    θ* minimises :func:`linear_loss` with the same λ, so one step lands on the optimum and every
    later update is 0. Solved by :func:`metalearn_lib.mapping.ridge_fit` (prior mean 0, prior
    precision λ); with λ = 0 it needs XᵀX invertible (n ≥ d, full column rank).

    Args:
        x: X, ``[n, d]``.
        y: y, ``[n, 1]`` or ``[n]``.
        l2: λ ≥ 0.

    Raises:
        ValueError: malformed data, λ < 0, or a singular XᵀX + λI.
    """

    def __init__(self, x: Any, y: Any, l2: float = 0.0) -> None:
        self.x, self.y = _check_data(x, y)
        self.l2 = check_number("l2", l2, positive=False)
        w = ridge_fit(self.x[tf.newaxis], self.y[tf.newaxis], prior_mean=0.0, prior_precision=self.l2)
        self.theta_star = tf.reshape(w, [-1, 1])  # [d, 1]

    def reset(self, params: Sequence[tf.Tensor]) -> None:
        """Stateless: θ* is fixed by the data."""

    def update(self, state: LearnerState) -> list[tf.Tensor]:
        """Δθ_t = θ* − θ_t."""
        d = int(self.x.shape[1])
        raw = tf.convert_to_tensor(state.params[0])
        theta = _single(state.params, d)
        return [tf.reshape(tf.cast(self.theta_star, theta.dtype) - theta, raw.shape)]
