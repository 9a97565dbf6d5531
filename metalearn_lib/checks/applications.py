"""Checks for the exercises of ``08_applications``: averaging regressors, the mean penalty, online meta-learning.

* :func:`check_average_parameters` — ``average_parameters(stacked_params)``: N networks stacked along a
  leading regressor axis (``W_l: [N, in, out]``, ``b_l: [N, out]``) → one network θ̄ = (1/N) Σ_i θ_i
  (``[in, out]``, ``[out]``), as tf.Tensors with a gradient path back to the regressors;
* :func:`check_mean_penalty` — ``mean_penalty(stacked_params, reg_strength)``: the ``[N]`` penalties
  λ ‖θ_i − θ̄‖² (the squared distance over every entry of every layer). The check compares the values
  **and** the gradient of their sum with respect to the stacked parameters, 2λ(θ_i − θ̄) — the same
  whether θ̄ is held constant (``tf.stop_gradient``) or not, since Σ_j (θ_j − θ̄) = 0;
* :func:`check_online_meta_update` — ``online_meta_update(init_params, support_x, support_y, query_x,
  query_y, *, inner_lr, meta_lr)``: one round of online MAML, θ ← θ − β ∇_θ L^query(adapt(θ, support)),
  the gradient taken through the adaptation (second order; first-order MAML's update fails with its own
  hint). The round's sets carry a leading task axis; with S > 1 tasks the loss is their mean.

References: :func:`metalearn_lib.applications.multi_task.average_regressors` and ``regulariser_penalty``,
:func:`metalearn_lib.applications.online.online_meta_update` (float64, from the float32 inputs the
learner gets).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import tensorflow as tf

from metalearn_lib.applications.multi_task import average_regressors, regulariser_penalty
from metalearn_lib.applications.online import online_meta_update as library_online_meta_update
from metalearn_lib.checks.core import (
    TF_NOISE,
    Case,
    NoGradient,
    WrongShape,
    require_tensors,
    run_check,
)
from metalearn_lib.models import forward, mse
from metalearn_lib.tasks import SinusoidFamily
from metalearn_lib.two_level import adapt, meta_gradient

__all__ = ["check_average_parameters", "check_mean_penalty", "check_online_meta_update"]

#: float32 inputs, float64 references.
_RTOL, _ATOL = 2e-4, 1e-5


# ============================================================================================
# shared helpers
# ============================================================================================
def _run(function: Callable[..., Any], cases: Sequence[Case], diagnose: Callable[[Case, np.ndarray], str | None],
         name: str, quiet: bool) -> None:
    run_check(function, cases, diagnoses=(diagnose,), name=name, rtol=_RTOL, atol=_ATOL, quiet=quiet)


@dataclass(frozen=True)
class _Params:
    """Parameters [W1, b1, …] (NumPy float32) that print as their shapes in a verdict's ``call:`` line."""

    arrays: tuple[np.ndarray, ...]

    def __repr__(self) -> str:
        return "[" + ", ".join(f"{tuple(a.shape)}" for a in self.arrays) + "]"

    def tensors(self, dtype: tf.DType = tf.float32) -> list[tf.Tensor]:
        return [tf.constant(a, dtype) for a in self.arrays]


def _stacked(sizes: Sequence[int], num: int, seed: int, scale: float = 1.0) -> _Params:
    """N networks of the given widths, each drawn on its own: W ~ N(0, scale²/in), b ~ N(0, (0.3·scale)²)."""
    rng = np.random.default_rng(seed)
    arrays: list[np.ndarray] = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        arrays += [rng.normal(0.0, scale / np.sqrt(n_in), size=(num, n_in, n_out)),
                   rng.normal(0.0, 0.3 * scale, (num, n_out))]
    return _Params(tuple(a.astype(np.float32) for a in arrays))


def _flat(values: Sequence[Any]) -> np.ndarray:
    return np.concatenate([np.ravel(np.asarray(v, np.float64)) for v in values])


def _close(a: Any, b: Any) -> bool:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=_RTOL, atol=_ATOL))


def _call(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call the learner's function; a TensorFlow error is re-raised without its graph-node noise."""
    try:
        return function(*args, **kwargs)
    except tf.errors.OpError as error:
        raise type(error)(None, None, TF_NOISE.sub("", error.message).strip()) from None


def _as_list(result: Any, what: str) -> list[Any]:
    if isinstance(result, (tf.Tensor, tf.Variable, np.ndarray)):
        kind = "NumPy array" if isinstance(result, np.ndarray) else "tensor"
        raise WrongShape(f"a single {kind} of shape {tuple(np.shape(result))}, expected {what}: return a list "
                         f"[W1, b1, …], one tensor per layer")
    if not isinstance(result, (list, tuple)):
        raise WrongShape(f"a {type(result).__name__}, expected {what}: return a list [W1, b1, …]")
    return list(result)


def _shapes(values: Sequence[Any]) -> list[tuple[int, ...]]:
    return [tuple(np.shape(np.asarray(v, np.float64))) for v in values]


# ============================================================================================
# average_parameters(stacked_params) -> θ̄
# ============================================================================================
def _average_cases() -> list[Case]:
    def case(name: str, sizes: Sequence[int], num: int, seed: int, hint: str) -> Case:
        stacked = _stacked(sizes, num, seed)
        expected = _flat(average_regressors([tf.constant(a, tf.float64) for a in stacked.arrays]))
        return Case(name, (stacked,), expected, hint)

    rule = ("θ̄ = (1/N) Σ_i θ_i, layer by layer: tf.reduce_mean(p, axis=0) for every p, the mean over the leading "
            "regressor axis, which leaves one network shaped [in, out], [out].")
    return [
        case("5 regressors of a 1-4-3-1 network", (1, 4, 3, 1), 5, 1, rule),
        case("20 regressors of a 1-8-1 network", (1, 8, 1), 20, 2, rule),
        case("3 regressors of a 3-3-3 network (N equals every width: only axis 0 is right)", (3, 3, 3), 3, 3,
             "Average over axis 0, the regressors; here N = 3 equals every layer's width, so the shapes cannot tell "
             "the axes apart, only the values can."),
        case("a single regressor (N = 1): the average is that network", (1, 4, 1), 1, 4,
             "With N = 1, θ̄ = θ_1, shaped like one network: [in, out] and [out], without the regressor axis."),
    ]


def _average_shape_advice(got: Sequence[Any], stacked: Sequence[np.ndarray]) -> str | None:
    shapes, given = _shapes(got), [tuple(a.shape) for a in stacked]
    want = [s[1:] for s in given]
    num = given[0][0]
    if len(got) != len(stacked):
        if len(got) == 1 and int(np.size(got[0])) == sum(int(np.prod(w)) for w in want):
            return (f"a list with one flat tensor of {int(np.size(got[0]))} numbers: keep the layers apart, one "
                    f"average per parameter tensor, shaped {want[0]}, {want[1]}, …")
        return f"a list of {len(got)} tensors, expected {len(stacked)}: one average per parameter tensor [W1, b1, …]"
    if shapes == want:
        return None
    if shapes == given:
        if all(_close(g, a) for g, a in zip(got, stacked, strict=True)):
            return (f"the stacked parameters unchanged, {given[0]} …: average them over the regressor axis, "
                    f"tf.reduce_mean(p, axis=0) → {want[0]} …")
        return f"shapes {given[0]} …, still with the regressor axis: reduce over axis 0 to get {want[0]} …"
    if all(s == () for s in shapes):
        return ("one number per tensor: tf.reduce_mean(p) without an axis averages every entry; average over the "
                "regressors only, axis=0")
    if all(s == (num,) for s in shapes):
        return (f"one number per regressor, shape ({num},): you averaged each network's entries; average the "
                f"networks instead, over axis 0")
    for axis, where in ((1, "axis 1 (a layer's inputs)"), (-1, "the last axis (a layer's outputs)")):
        if shapes == [tuple(np.delete(np.array(s), axis)) for s in given]:
            return f"shapes {shapes[0]}, {shapes[1]} …: you averaged over {where}; the regressors are axis 0"
    return f"shapes {shapes}, expected {want}"


def _call_average(function: Callable[..., Any]) -> Callable[..., Any]:
    def call(stacked: _Params) -> Any:
        inputs = stacked.tensors()
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            result = _call(function, inputs)
            if result is None:
                return None
            got = _as_list(result, "one network θ̄ = [W1, b1, …]")
            advice = _average_shape_advice(got, stacked.arrays)
            if advice:
                raise WrongShape(advice)
            require_tensors(got, "later cells differentiate θ̄, and a tf.GradientTape follows only TensorFlow "
                                  "operations: tf.reduce_mean(p, axis=0)")
            probe = tf.add_n([tf.reduce_sum(tf.cast(g, tf.float32)) for g in got])
        if any(g is None for g in tape.gradient(probe, inputs)):
            raise NoGradient("no gradient path from θ̄ back to the regressors (NumPy, .numpy() or a new tf.Variable "
                             "inside?): compute θ̄ with TensorFlow operations")
        return _flat(got)

    call.__name__ = getattr(function, "__name__", "average_parameters")
    return call


def _diagnose_average(case: Case, got: np.ndarray) -> str | None:
    stacked = [a.astype(np.float64) for a in case.args[0].arrays]
    num = stacked[0].shape[0]
    named = [
        (_flat([a.sum(axis=0) for a in stacked]),
         f"You summed the regressors: the average divides the sum by N = {num} — tf.reduce_mean(p, axis=0), not "
         f"tf.reduce_sum."),
        (_flat([a[0] for a in stacked]),
         "You returned the first regressor θ_1 (p[0]): average all N of them, tf.reduce_mean(p, axis=0)."),
        (_flat([a[-1] for a in stacked]),
         "You returned the last regressor θ_N (p[-1]): average all N of them, tf.reduce_mean(p, axis=0)."),
        (_flat([a.mean(axis=1) for a in stacked]),
         "You averaged over axis 1 (a layer's inputs, here as many as the regressors): the regressor axis is axis 0, "
         "tf.reduce_mean(p, axis=0)."),
        (_flat([a.mean(axis=-1) for a in stacked]),
         "You averaged over the last axis (a layer's outputs): the regressor axis is axis 0, tf.reduce_mean(p, "
         "axis=0)."),
    ]
    for value, hint in named:
        if num == 1 and "regressor θ" in hint:
            continue
        if _close(got, value) and not _close(got, case.expected):
            return hint
    expected = np.asarray(case.expected)
    scale = float(got @ expected / (expected @ expected))
    if np.allclose(got, scale * expected, rtol=1e-3, atol=1e-6) and not np.isclose(scale, 1.0, rtol=1e-3):
        return f"The average is {scale:.3g} × the right one: divide the sum over the regressors by N = {num}."
    return None


def check_average_parameters(function: Callable[..., Any], *, quiet: bool = False) -> None:
    """Check a learner's ``average_parameters(stacked_params)`` on 4 stacks of networks.

    ``stacked_params`` is a list of float32 tensors ``W_l: [N, in, out]``, ``b_l: [N, out]`` (N networks
    stacked along the leading axis); the function must return θ̄ = (1/N) Σ_i θ_i as a list of tf.Tensors
    ``[in, out]``, ``[out]``, computed with TensorFlow operations (the check follows a gradient through it).

    Prints ✅ and returns ``None``, or raises :class:`~metalearn_lib.checks.core.CheckFailed` with the verdict.
    """
    _run(_call_average(function), _average_cases(), _diagnose_average, "average_parameters", quiet)


# ============================================================================================
# mean_penalty(stacked_params, reg_strength) -> [N]
# ============================================================================================
def _value_and_grad(stacked: _Params, penalty: Callable[[list[tf.Tensor]], tf.Tensor]) -> np.ndarray:
    """``[penalty_1, …, penalty_N, ∇ Σ_i penalty_i]`` of a penalty written in TensorFlow, in float64."""
    params = stacked.tensors(tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(params)
        values = penalty(params)
        total = tf.reduce_sum(values)
    return np.concatenate([values.numpy(), _flat(tape.gradient(total, params))])


def _per_regressor(terms: Sequence[tf.Tensor], reduce: Callable[..., tf.Tensor] = tf.reduce_sum) -> tf.Tensor:
    """Σ over every entry of every layer of each regressor's ``terms`` (``[N, …]`` each) → ``[N]``."""
    num = terms[0].shape[0]
    return tf.add_n([reduce(tf.reshape(t, [num, -1]), axis=1) for t in terms])


def _penalty_cases() -> list[Case]:
    def case(name: str, sizes: Sequence[int], num: int, reg_strength: float, seed: int, hint: str) -> Case:
        stacked = _stacked(sizes, num, seed)
        expected = _value_and_grad(stacked, lambda p: reg_strength * regulariser_penalty(p, "mean"))
        return Case(name, (stacked,), expected, hint, {"reg_strength": reg_strength})

    rule = ("λ ‖θ_i − θ̄‖² for every regressor i: subtract θ̄ = tf.reduce_mean(p, axis=0) from each layer, square, "
            "sum over all entries of all layers of regressor i, multiply by λ = reg_strength.")
    return [
        case("5 regressors of a 1-4-3-1 network, λ = 1", (1, 4, 3, 1), 5, 1.0, 11, rule),
        case("λ = 0.1: the penalty scales with reg_strength", (1, 4, 3, 1), 5, 0.1, 11,
             "The penalty is reg_strength times the squared distance: use the argument."),
        case("3 regressors of a 3-3-3 network (N equals every width), λ = 0.5", (3, 3, 3), 3, 0.5, 12,
             "θ̄ is the mean over the regressor axis, axis 0; here N = 3 equals every width, so only the values "
             "tell the axes apart."),
        case("20 regressors of a 1-8-1 network, λ = 0.01", (1, 8, 1), 20, 0.01, 13, rule),
        case("a single regressor (N = 1) is its own mean: penalty 0", (1, 4, 1), 1, 1.0, 14,
             "With N = 1, θ̄ = θ_1, so ‖θ_1 − θ̄‖² = 0 (and so is its gradient)."),
    ]


def _diagnose_penalty(case: Case, got: np.ndarray) -> str | None:
    stacked, lam = case.args[0], float(case.kwargs["reg_strength"])
    num = stacked.arrays[0].shape[0]
    expected = np.asarray(case.expected)
    if np.isnan(got).any():
        return ("The gradient of your penalty is NaN (a square root or tf.norm at distance 0?): the penalty is the "
                "squared distance λ‖θ_i − θ̄‖², a plain sum of squares.")
    if _close(got[:num], expected[:num]):
        return ("The penalties are right but the gradient of their sum is not 2λ(θ_i − θ̄): compute them from "
                "stacked_params with TensorFlow operations (no .numpy(), no tf.stop_gradient on θ_i).")

    def towards(centre: Callable[[tf.Tensor], tf.Tensor]) -> Callable[[list[tf.Tensor]], tf.Tensor]:
        return lambda p: lam * _per_regressor([tf.square(w - centre(w)) for w in p])

    def mean_over(axis: Any) -> Callable[[tf.Tensor], tf.Tensor]:
        return lambda w: tf.reduce_mean(w, axis=axis, keepdims=True)

    def unsquared(p: list[tf.Tensor]) -> tf.Tensor:
        return lam * tf.sqrt(_per_regressor([tf.square(w - tf.reduce_mean(w, 0)) for w in p]) + 1e-300)

    centre_hint = ("θ̄ must be the mean over the regressor axis, axis 0 — tf.reduce_mean(p, axis=0) — the average "
                   "network of exercise 1; {what}")
    named = [
        (lambda p: -lam * regulariser_penalty(p, "mean"),
         "The penalty is negative: −λ‖θ_i − θ̄‖² rewards the networks for moving apart (its gradient pushes every "
         "θ_i away from θ̄). Add +λ‖θ_i − θ̄‖² to the loss."),
        (unsquared,
         "You returned the distance ‖θ_i − θ̄‖, not its square: sum the squared differences and do not take the "
         "square root."),
        (lambda p: lam * _per_regressor([tf.abs(w - tf.reduce_mean(w, 0)) for w in p]),
         "You summed absolute differences |θ_i − θ̄| (an ℓ1 distance): square the differences, ‖θ_i − θ̄‖² = "
         "Σ (θ_i − θ̄)²."),
        (lambda p: lam * regulariser_penalty(p, "l2"),
         "You penalised ‖θ_i‖², weight decay: it pulls every network towards 0. The mean penalty pulls towards the "
         "average network θ̄: λ‖θ_i − θ̄‖²."),
        (towards(mean_over(1)), centre_hint.format(what="you averaged over axis 1.")),
        (towards(mean_over(-1)), centre_hint.format(what="you averaged over the last axis.")),
        (towards(lambda w: tf.reduce_mean(w)), centre_hint.format(what="you averaged every entry of a layer.")),
        (towards(lambda w: tf.reduce_mean(w, axis=list(range(1, w.shape.rank)), keepdims=True)),
         centre_hint.format(what="you pulled each network towards its own mean weight.")),
        (lambda p: lam * _per_regressor([tf.square(w - tf.reduce_mean(w, 0)) for w in p], tf.reduce_mean),
         "You averaged the squared differences over each layer's entries: ‖v‖² is their sum, Σ v² over every entry "
         "of every layer."),
        (lambda p: lam * tf.fill([num], tf.reduce_sum(regulariser_penalty(p, "mean"))),
         "Every regressor got the total over all regressors: regressor i's penalty is its own distance "
         "λ‖θ_i − θ̄‖²."),
    ]
    for penalty, hint in named:  # by the values: a variant's gradient depends on whether θ̄ is held constant
        if _close(got[:num], _value_and_grad(stacked, penalty)[:num]):
            return hint
    values, right = got[:num], expected[:num]
    if right @ right > 0:
        scale = float(values @ right / (right @ right))
        if np.allclose(values, scale * right, rtol=1e-3, atol=1e-6) and not np.isclose(scale, 1.0, rtol=1e-3):
            return (f"The penalties are {scale:.3g} × the right ones: λ‖θ_i − θ̄‖² with λ = reg_strength = {lam:g} "
                    f"(no ½, no 1/N).")
    return None


def _call_penalty(function: Callable[..., Any]) -> Callable[..., Any]:
    def call(stacked: _Params, *, reg_strength: float) -> Any:
        inputs = stacked.tensors()
        num = stacked.arrays[0].shape[0]
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            result = _call(function, inputs, reg_strength)
            if result is None:
                return None
            if isinstance(result, (list, tuple)):
                raise WrongShape(f"a list of {len(result)} items: add the layers' squared distances into one tensor "
                                 f"of {num} penalties, one per regressor")
            if isinstance(result, np.ndarray) or np.isscalar(result):
                raise NoGradient("NumPy, not a tf.Tensor: training adds the penalty to the loss and differentiates "
                                 "it, so compute it with TensorFlow operations")
            shape = tuple(result.shape)
            if shape == ():
                raise WrongShape(f"a scalar (the total over the regressors?): return one penalty per regressor, "
                                 f"shape ({num},) — sum each regressor's own entries only")
            if shape[:1] == (num,) and len(shape) > 1:
                raise WrongShape(f"shape {shape}: the squares were not summed over each regressor's entries; "
                                 f"‖θ_i − θ̄‖² is one number per regressor, shape ({num},)")
            if shape != (num,):
                raise WrongShape(f"shape {shape}, expected one penalty per regressor, ({num},): sum the layers' "
                                 f"squared distances, regressor by regressor")
            total = tf.reduce_sum(tf.cast(result, tf.float32))
        grads = tape.gradient(total, inputs)
        if any(g is None for g in grads):
            raise NoGradient("the gradient of your penalty with respect to stacked_params came back None: compute it "
                             "from them with TensorFlow operations")
        return np.concatenate([np.asarray(result, np.float64), _flat(grads)])

    call.__name__ = getattr(function, "__name__", "mean_penalty")
    return call


def check_mean_penalty(function: Callable[..., Any], *, quiet: bool = False) -> None:
    """Check a learner's ``mean_penalty(stacked_params, reg_strength)`` on 5 stacks of networks.

    ``stacked_params`` as for :func:`check_average_parameters`; ``reg_strength`` is λ (a float). The
    function must return the ``[N]`` tensor of λ ‖θ_i − θ̄‖². The check also differentiates the sum of the
    penalties with respect to ``stacked_params`` under its own tape and compares it with 2λ(θ_i − θ̄);
    holding θ̄ constant or not gives the same gradient, so both are accepted.

    Prints ✅ and returns ``None``, or raises :class:`~metalearn_lib.checks.core.CheckFailed` with the verdict.
    """
    _run(_call_penalty(function), _penalty_cases(), _diagnose_penalty, "mean_penalty", quiet)


# ============================================================================================
# online_meta_update(init_params, support_x, support_y, query_x, query_y, *, inner_lr, meta_lr)
# ============================================================================================
@dataclass(frozen=True)
class _Round:
    """One round's support and query sets (float32 NumPy, ``[S, K, 1]`` and ``[S, Q, 1]``); prints as a summary."""

    support_x: np.ndarray
    support_y: np.ndarray
    query_x: np.ndarray
    query_y: np.ndarray

    def __repr__(self) -> str:
        num_tasks, num_shots, _ = self.support_x.shape
        tasks = f"{num_tasks} task" + ("s" if num_tasks > 1 else "")
        return f"<round: {tasks}, K = {num_shots}, {self.query_x.shape[1]} query points>"

    def sets(self, dtype: tf.DType = tf.float64) -> tuple[tf.Tensor, ...]:
        return tuple(tf.constant(a, dtype) for a in (self.support_x, self.support_y, self.query_x, self.query_y))


def _online_cases() -> list[Case]:
    family = SinusoidFamily()

    def case(name: str, sizes: Sequence[int], num_tasks: int, inner_lr: float, meta_lr: float, seed: int, hint: str,
             scale: float = 0.5, num_shots: int = 5, num_query: int = 10) -> Case:
        params = _Params(tuple(a[0] for a in _stacked(sizes, 1, seed, scale).arrays))
        batch = family.sample(num_tasks, num_shots, num_query, seed=seed)
        arrays = (batch.support_x, batch.support_y, batch.query_x, batch.query_y)
        shown = _Round(*(np.asarray(a, np.float32) for a in arrays))
        expected = library_online_meta_update(params.tensors(tf.float64), *shown.sets(), inner_lr=inner_lr,
                                              meta_lr=meta_lr)
        return Case(name, (params, shown), _flat(expected), hint, {"inner_lr": inner_lr, "meta_lr": meta_lr})

    rule = ("θ ← θ − β ∇_θ L^query(θ'), θ' = adapt(θ, support): adapt under a tape watching init_params, score θ' on "
            "the query set, differentiate that loss with respect to init_params, step the initialisation.")
    return [
        case("one task this round: K = 5, 10 query points, α = 0.05, β = 0.02", (1, 8, 1), 1, 0.05, 0.02, 21, rule),
        case("α = 0.1: a larger inner step, a larger second-order term", (1, 8, 1), 1, 0.1, 0.01, 22, rule),
        case("β = 0.005: the step scales with meta_lr", (1, 8, 1), 1, 0.05, 0.005, 21,
             "The step is meta_lr times the meta-gradient: use the argument."),
        case("three tasks this round (a 1-6-6-1 network): the mean of their query losses", (1, 6, 6, 1), 3, 0.1,
             0.01, 23,
             "With S tasks in the round the meta-loss is their mean, (1/S) Σ_s L_s^query(θ'_s): tf.reduce_mean of "
             "mse(forward(adapted, query_x), query_y).", scale=1.0),
    ]


def _online_variants(case: Case) -> list[tuple[np.ndarray, str]]:
    """The typical wrong updates of one case, each with its hint."""
    theta = case.args[0].tensors(tf.float64)
    sx, sy, qx, qy = case.args[1].sets()
    alpha, beta = float(case.kwargs["inner_lr"]), float(case.kwargs["meta_lr"])
    num_tasks = int(sx.shape[0])
    flat_theta = _flat(theta)

    def step(sets: Sequence[tf.Tensor], inner_lr: Any = alpha, first_order: bool = False) -> np.ndarray:
        return _flat(meta_gradient(theta, *sets, inner_lr=inner_lr, first_order=first_order)[1])

    with tf.GradientTape() as tape:
        tape.watch(theta)
        at_init = tf.reduce_mean(mse(forward(theta, qx), qy))
    query_at_init = _flat(tape.gradient(at_init, theta))
    second = step((sx, sy, qx, qy))
    first = step((sx, sy, qx, qy), first_order=True)
    fine_tune = ("that is fine-tuning (more SGD on the support set), not meta-learning: differentiate the *query* "
                 "loss at θ' with respect to the initialisation, through adapt.")
    variants = [
        (flat_theta - beta * first,
         "First-order MAML's update: the query gradient was taken at θ' but did not flow back through the adaptation "
         "(∂θ'/∂θ = I). This exercise asks for the second-order update: call adapt inside the tape that watches "
         "init_params — no first_order=True, no tf.stop_gradient, no .numpy()."),
        (flat_theta - beta * query_at_init,
         "You stepped along ∇L^query(θ) at the initialisation: that fits θ itself to the query points (joint "
         "training). Adapt first, θ' = adapt(θ, support), evaluate the query loss at θ', and differentiate that "
         "with respect to θ."),
        (flat_theta - beta * step((sx, sy, sx, sy), first_order=True),
         f"You stepped along the support loss's gradient at the adapted θ': {fine_tune}"),
        (flat_theta - beta * step((sx, sy, sx, sy)),
         "The meta-loss was the support loss after adaptation: score θ' on the query set (query_x, query_y), points "
         "it was not fitted to."),
        (flat_theta - beta * step((qx, qy, qx, qy)),
         "The adaptation used the query points: adapt on the support set, score on the query set."),
        (flat_theta + beta * second,
         "The initialisation moved uphill: θ − β∇_θ L^query(θ') subtracts the meta-gradient (check the sign)."),
        (flat_theta + beta * first,
         "The initialisation moved uphill (and first-order): θ − β∇_θ L^query(θ') subtracts the meta-gradient."),
        (flat_theta - beta * step((sx, sy, qx, qy), inner_lr=tf.constant(-alpha, tf.float64)),
         "The adaptation went uphill: θ' = θ − α∇L^support(θ) subtracts the gradient."),
        (second, "You returned the meta-gradient: return the updated initialisation θ − β∇_θ L^query(θ')."),
        (beta * second, "You returned the step β∇_θ L^query(θ'): return θ minus it."),
    ]
    if num_tasks > 1:
        variants.append((flat_theta - beta * num_tasks * second,
                         "The step is S times too large: average the round's query losses over its tasks "
                         "(tf.reduce_mean), do not sum them."))
    else:
        adapted = adapt(theta, sx, sy, inner_lr=alpha)
        with tf.GradientTape() as tape:
            tape.watch(adapted)
            support_loss = tf.reduce_sum(mse(forward(adapted, sx), sy))
        support_at_adapted = tape.gradient(support_loss, adapted)
        played = "You returned the adapted parameters θ' = adapt(θ, support): they are played this round"
        variants += [
            (_flat(adapted), f"{played}, but the online learner carries its *initialisation* to the next round: return "
                             "θ − β∇_θ L^query(θ')."),
            (_flat([p - beta * g for p, g in zip(adapted, support_at_adapted, strict=True)]),
             f"You returned θ' after one more step on the support set: {fine_tune}"),
            (_flat(adapted) - beta * second,
             "You stepped the adapted parameters θ': the meta-update starts from the initialisation, "
             "θ − β∇_θ L^query(θ')."),
        ]
    return variants


def _diagnose_online(case: Case, got: np.ndarray) -> str | None:
    expected = np.asarray(case.expected)
    for value, hint in _online_variants(case):
        if _close(got, value) and not _close(got, expected):
            return hint
    theta = _flat(case.args[0].arrays)
    right, moved = theta - expected, theta - got
    if np.allclose(moved, 0.0, atol=1e-7):
        return "The initialisation did not move: apply the step θ − β∇_θ L^query(θ') (is meta_lr used?)."
    scale = float(moved @ right / (right @ right))
    if np.allclose(moved, scale * right, rtol=1e-3, atol=1e-6) and not np.isclose(scale, 1.0, rtol=1e-3):
        return (f"The step points the right way but is {scale:.3g} × the right length: multiply the meta-gradient by "
                f"meta_lr = {case.kwargs['meta_lr']:g} (the argument).")
    return None


def _call_online(function: Callable[..., Any]) -> Callable[..., Any]:
    def call(params: _Params, shown: _Round, *, inner_lr: float, meta_lr: float) -> Any:
        result = _call(function, params.tensors(), *shown.sets(tf.float32), inner_lr=inner_lr, meta_lr=meta_lr)
        if result is None:
            return None
        got = _as_list(result, "the new initialisation [W1, b1, …]")
        shapes, want = _shapes(got), [tuple(a.shape) for a in params.arrays]
        num_tasks = shown.support_x.shape[0]
        if len(got) != len(want):
            raise WrongShape(f"a list of {len(got)} tensors, expected {len(want)}: update every parameter of "
                             "init_params")
        if shapes == [(num_tasks, *w) for w in want]:
            adapted = adapt(params.tensors(tf.float64), *shown.sets()[:2], inner_lr=inner_lr)
            if _close(_flat(got), _flat(adapted)):
                raise WrongShape(f"the adapted parameters θ' = adapt(θ, support), {shapes[0]} …: return the updated "
                                 f"initialisation θ − β∇_θ L^query(θ'), shaped like init_params")
            raise WrongShape(f"per-task parameters {shapes[0]} …, expected one initialisation shaped like init_params, "
                             f"{want[0]} …")
        if shapes != want:
            raise WrongShape(f"shapes {shapes}, expected those of init_params, {want}")
        require_tensors(got, "the next round passes them back as init_params and a tf.GradientTape watches only "
                              "tensors — return p - meta_lr * g")
        return _flat(got)

    call.__name__ = getattr(function, "__name__", "online_meta_update")
    return call


def check_online_meta_update(function: Callable[..., Any], *, quiet: bool = False) -> None:
    """Check a learner's ``online_meta_update(init_params, support_x, support_y, query_x, query_y, *, inner_lr,
    meta_lr)`` on 4 rounds.

    ``init_params`` is a shared θ (float32 tensors ``[in, out]``, ``[out]``); the round's sets are float32
    ``[S, K, 1]`` and ``[S, Q, 1]`` (S = 1 or 3 tasks). The function must return θ − β ∇_θ L^query(θ'),
    θ' = adapt(θ, support) with one SGD step of size α, the gradient taken through the adaptation (second
    order, the reference :func:`metalearn_lib.applications.online.online_meta_update`); first-order MAML's
    update is rejected and named.

    Prints ✅ and returns ``None``, or raises :class:`~metalearn_lib.checks.core.CheckFailed` with the verdict.
    """
    _run(_call_online(function), _online_cases(), _diagnose_online, "online_meta_update", quiet)
