"""The four-step teacher loop and the interface every teacher implements.

The source article's loop, made concrete:

1. initialise a learner: parameters θ_0 (``init_params``);
2. train (or build) a teacher: any object with ``reset`` and ``update`` (:class:`Teacher`);
3. the teacher looks at the learner's state s_t = (θ_t, L(θ_t), ∇L(θ_t), t) and returns an
   update Δθ_t; the runner applies θ_{t+1} = θ_t + Δθ_t;
4. repeat until the learner is good enough (L(θ_t) ≤ target), a step budget runs out, or the
   loss blows up (L(θ_t) > ``diverge_above`` or not finite).

:func:`run_teacher_loop` runs steps 3–4 and records the trajectory θ_0 … θ_T, L(θ_0) … L(θ_T).
Loss and gradient come from ``tf.GradientTape`` on ``loss_fn(params)``, so any learner of
chapters 1–2 (a linear map, an MLP from :mod:`metalearn_lib.models`) plugs in through its loss.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import tensorflow as tf

from metalearn_lib.validation import check_int, check_number, check_param_list

__all__ = [
    "LearnerState",
    "Teacher",
    "Trajectory",
    "learner_state",
    "run_teacher_loop",
    "steps_to_target",
]

STOP_REASONS = ("target", "max_steps", "diverged")


@dataclass(frozen=True)
class LearnerState:
    """What a teacher sees at step t: s_t = (θ_t, L(θ_t), ∇L(θ_t), t).

    Attributes:
        params: θ_t, a list of tensors.
        loss: L(θ_t), a scalar tensor.
        grads: ∇L(θ_t), one tensor per parameter, same shapes as ``params`` (zeros where the
            loss does not depend on a parameter).
        step: t, counted from 0.
    """

    params: list[tf.Tensor]
    loss: tf.Tensor
    grads: list[tf.Tensor]
    step: int


@runtime_checkable
class Teacher(Protocol):
    """A teacher maps the learner's state to an update: Δθ_t = T(s_t).

    ``reset(params)`` is called once with θ_0 before step 0 (stateful teachers clear their
    state there); ``update(state)`` returns Δθ_t, one tensor per parameter, and the runner
    applies θ_{t+1} = θ_t + Δθ_t.
    """

    def reset(self, params: Sequence[tf.Tensor]) -> None: ...

    def update(self, state: LearnerState) -> list[tf.Tensor]: ...


@dataclass(frozen=True)
class Trajectory:
    """The record of one run of the loop.

    Attributes:
        params: θ_0 … θ_T (T + 1 entries, each a list of tensors).
        losses: L(θ_0) … L(θ_T), ``[T + 1]`` float64.
        stopped: why the loop ended: ``"target"`` (L(θ_T) ≤ target), ``"max_steps"`` (T is the
            budget) or ``"diverged"`` (L(θ_T) > ``diverge_above`` or not finite).
    """

    params: list[list[tf.Tensor]]
    losses: np.ndarray
    stopped: str

    @property
    def num_steps(self) -> int:
        """T, the number of updates applied (``len(losses) - 1``)."""
        return len(self.losses) - 1

    @property
    def final_params(self) -> list[tf.Tensor]:
        """θ_T."""
        return self.params[-1]

    @property
    def final_loss(self) -> float:
        """L(θ_T)."""
        return float(self.losses[-1])


def learner_state(
    loss_fn: Callable[[list[tf.Tensor]], tf.Tensor], params: Sequence[tf.Tensor], step: int = 0
) -> LearnerState:
    """Evaluate s_t = (θ_t, L(θ_t), ∇L(θ_t), t) with a gradient tape.

    Args:
        loss_fn: L, maps a list of tensors to a scalar loss.
        params: θ_t.
        step: t.

    Raises:
        TypeError: ``params`` is not a list of floating tensors.
        ValueError: ``loss_fn`` does not return a scalar.
    """
    params = check_param_list("params", params)
    with tf.GradientTape() as tape:
        tape.watch(params)
        loss = tf.convert_to_tensor(loss_fn(params))
    if loss.shape.rank != 0:
        raise ValueError(f"loss_fn must return a scalar loss, got shape {loss.shape}")
    grads = tape.gradient(loss, params, unconnected_gradients=tf.UnconnectedGradients.ZERO)
    return LearnerState(params=params, loss=loss, grads=list(grads), step=int(step))


def _check_update(update: object, params: list[tf.Tensor]) -> list[tf.Tensor]:
    if isinstance(update, (tf.Tensor, np.ndarray)) or not isinstance(update, Sequence):
        raise TypeError(f"teacher.update must return a list of tensors, got {type(update).__name__}")
    if len(update) != len(params):
        raise ValueError(f"teacher.update must return {len(params)} tensors (one per parameter), "
                         f"got {len(update)}")
    out = []
    for i, (d, p) in enumerate(zip(update, params, strict=True)):
        d = tf.convert_to_tensor(d, dtype=p.dtype)
        if d.shape != p.shape:
            raise ValueError(f"teacher.update()[{i}] must have shape {p.shape}, got {d.shape}")
        out.append(d)
    return out


def run_teacher_loop(
    teacher: Teacher,
    loss_fn: Callable[[list[tf.Tensor]], tf.Tensor],
    init_params: Sequence[tf.Tensor],
    *,
    max_steps: int,
    target_loss: float | None = None,
    diverge_above: float = 1e6,
) -> Trajectory:
    """Run the teacher loop θ_{t+1} = θ_t + T(s_t) until a stopping rule fires.

    At each t = 0, 1, … the runner evaluates L(θ_t) and ∇L(θ_t), then stops with
    ``"diverged"`` if L(θ_t) is not finite or L(θ_t) > ``diverge_above``, with ``"target"`` if
    L(θ_t) ≤ ``target_loss``, with ``"max_steps"`` if t = ``max_steps``; otherwise it asks the
    teacher for Δθ_t and applies it. ``teacher.reset(θ_0)`` is called once before step 0.

    Args:
        teacher: a :class:`Teacher`.
        loss_fn: L, a callable from a list of tensors to a scalar tensor.
        init_params: θ_0, a non-empty list of floating tensors (step 1 of the loop).
        max_steps: the budget of updates, an int ≥ 0.
        target_loss: stop once L(θ_t) ≤ this (a finite number ≥ 0); ``None``: no target.
        diverge_above: stop once L(θ_t) exceeds this (a finite number > 0).

    Returns:
        :class:`Trajectory` with T + 1 parameter sets and losses, T ≤ ``max_steps``.

    Raises:
        TypeError: ``teacher`` lacks ``reset``/``update``, ``loss_fn`` is not callable,
            ``init_params`` is not a list of floating tensors, or a number has the wrong type.
        ValueError: ``max_steps < 0``, a negative/non-finite ``target_loss``, a non-positive
            ``diverge_above``, or an update of the wrong length or shapes.
    """
    if not (callable(getattr(teacher, "reset", None)) and callable(getattr(teacher, "update", None))):
        raise TypeError(f"teacher must have reset(params) and update(state) methods, "
                        f"got {type(teacher).__name__}")
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable, got {type(loss_fn).__name__}")
    params = check_param_list("init_params", init_params)
    max_steps = check_int("max_steps", max_steps, minimum=0)
    target = None if target_loss is None else check_number("target_loss", target_loss, positive=False)
    ceiling = check_number("diverge_above", diverge_above)

    teacher.reset(list(params))
    history: list[list[tf.Tensor]] = []
    losses: list[float] = []
    stopped = "max_steps"
    for t in range(max_steps + 1):
        state = learner_state(loss_fn, params, t)
        value = float(state.loss)
        history.append(params)
        losses.append(value)
        if not np.isfinite(value) or value > ceiling:
            stopped = "diverged"
            break
        if target is not None and value <= target:
            stopped = "target"
            break
        if t == max_steps:
            break
        delta = _check_update(teacher.update(state), params)
        params = [p + d for p, d in zip(params, delta, strict=True)]
    return Trajectory(params=history, losses=np.asarray(losses, dtype=np.float64), stopped=stopped)


def steps_to_target(trajectory: Trajectory, target: float) -> int | None:
    """The first t with L(θ_t) ≤ ``target``, or ``None`` if the trajectory never gets there.

    Raises:
        TypeError: ``trajectory`` is not a :class:`Trajectory`.
        ValueError: ``target`` is negative or not finite.
    """
    if not isinstance(trajectory, Trajectory):
        raise TypeError(f"trajectory must be a Trajectory, got {type(trajectory).__name__}")
    target = check_number("target", target, positive=False)
    hits = np.flatnonzero(trajectory.losses <= target)
    return int(hits[0]) if hits.size else None
