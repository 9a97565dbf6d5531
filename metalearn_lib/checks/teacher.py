"""Checks for the exercises of ``04_teacher_guided_loop``: three teachers' updates.

* :func:`check_gradient_teacher_update` — ``gradient_teacher_update(params, grads,
  learning_rate)``, the gradient teacher's update Δθ = −η ∇L(θ), one tensor per parameter;
* :func:`check_exact_linear_update` — ``exact_linear_update(params, x, y, l2)``, the exact
  teacher's update for the linear learner, Δθ = θ* − θ with θ* = (XᵀX + λI)⁻¹Xᵀy: it must
  depend on the learner's *current* θ;
* :func:`check_meta_sgd_step` — ``meta_sgd_step(params, alphas, batch, outer_lr)``, one
  Meta-SGD meta-update: the inner step θ'_i = θ − α ⊙ ∇L_i^support(θ), the meta-loss
  L(θ, α) = (1/N) Σ_i L_i^query(θ'_i), and one plain gradient step on *both* θ and α,
  returning ``(new_params, new_alphas)``.

Expected answers come from :mod:`metalearn_lib.teacher` (``GradientTeacher``,
``ExactLinearTeacher``, ``meta_sgd.meta_sgd_gradient``). The diagnoses recompute the typical
mistakes (α on the wrong parameter, α multiplying θ instead of ∇L, α not updated by the
meta-gradient, a teacher that ignores θ, sign errors, an ignored learning rate) and name them.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import tensorflow as tf

from metalearn_lib.checks.core import TF_NOISE, Case, NoGradient, ShownBatch, WrongShape, run_check
from metalearn_lib.models import forward, init_mlp, mse
from metalearn_lib.tasks import SinusoidFamily
from metalearn_lib.teacher.linear import ExactLinearTeacher, GradientTeacher
from metalearn_lib.teacher.loop import LearnerState
from metalearn_lib.teacher.meta_sgd import meta_sgd_gradient

__all__ = ["check_exact_linear_update", "check_gradient_teacher_update", "check_meta_sgd_step"]

_RTOL, _ATOL = 1e-5, 1e-7


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=_RTOL, atol=_ATOL))


def _flat(tensors: Sequence[Any]) -> np.ndarray:
    return np.concatenate([np.ravel(np.asarray(t, np.float64)) for t in tensors])


def _raise_readably(error: BaseException) -> None:
    if isinstance(error, tf.errors.OpError):
        raise type(error)(None, None, TF_NOISE.sub("", error.message).strip()) from None
    raise error


def _as_list(result: Any, shapes: Sequence[tuple[int, ...]], what: str) -> list[np.ndarray] | None:
    """The learner's list of tensors as float64 arrays, or :class:`WrongShape` naming the mistake."""
    if result is None:
        return None
    if isinstance(result, (tf.Tensor, tf.Variable, np.ndarray)):
        raise WrongShape(f"a single array of shape {tuple(np.shape(result))}, expected {what}: return a list "
                         f"with one tensor per parameter, [Δ for each θ_j]")
    if not isinstance(result, (list, tuple)):
        raise WrongShape(f"a {type(result).__name__}, expected {what}: return a list of tensors")
    if len(result) != len(shapes):
        raise WrongShape(f"a list of {len(result)} tensors, expected {len(shapes)} (one per parameter)")
    try:
        arrays = [np.asarray(r, np.float64) for r in result]
    except (TypeError, ValueError) as error:
        raise WrongShape(f"a list whose entries are not arrays of numbers ({type(error).__name__})") from None
    got = [a.shape for a in arrays]
    if got != [tuple(s) for s in shapes]:
        raise WrongShape(f"shapes {got}, expected {[tuple(s) for s in shapes]}: entry j must have θ_j's shape")
    return arrays


def _network(sizes: Sequence[int], seed: int) -> list[np.ndarray]:
    """A small ReLU MLP with non-zero biases (so a bias mix-up shows), float64."""
    params = init_mlp(list(sizes), seed=seed, init="glorot", dtype=tf.float64)
    rng = np.random.default_rng(seed)
    return [p.numpy() + (0.1 * rng.normal(size=p.shape) if p.shape.rank == 1 else 0.0) for p in params]


# ============================================================================================
# gradient_teacher_update(params, grads, learning_rate) -> [Δθ_j]
# ============================================================================================
def _gradient_cases() -> list[Case]:
    rng = np.random.default_rng(11)

    def case(name: str, params: list[np.ndarray], learning_rate: float, hint: str) -> Case:
        grads = [rng.normal(size=p.shape) for p in params]
        state = LearnerState(params=[tf.constant(p) for p in params], loss=tf.constant(0.0, tf.float64),
                             grads=[tf.constant(g) for g in grads], step=0)
        expected = _flat(GradientTeacher(learning_rate).update(state))
        return Case(name, (tuple(params), tuple(grads)), expected, hint, {"learning_rate": learning_rate})

    rule = "Δθ_j = −η ∇_j L for every parameter tensor j: multiply each gradient by −learning_rate."
    return [
        case("linear learner θ [3, 1], η = 0.1", [rng.normal(size=(3, 1))], 0.1, rule),
        case("an MLP [W1, b1, W2, b2], η = 0.05", _network([1, 4, 1], 2), 0.05, rule),
        case("η = 0.001: a tiny step, far from the parameters themselves",
             [rng.normal(size=(2, 1)), rng.normal(size=(2,))], 0.001,
             "Return the update Δθ = −η ∇L (small here), not the new parameters θ + Δθ."),
        case("η = 2: the step scales with learning_rate", [rng.normal(size=(2, 2))], 2.0,
             "Use the argument learning_rate as η."),
    ]


def _diagnose_gradient(case: Case, got: np.ndarray) -> str | None:
    params, grads = case.args
    eta = case.kwargs["learning_rate"]
    theta, g = _flat(params), _flat(grads)
    expected = np.asarray(case.expected)
    named = [
        (eta * g, "The sign is flipped: the update must go *down*hill, Δθ = −η ∇L (you returned +η ∇L)."),
        (theta - eta * g, "You returned the new parameters θ − η∇L; the teacher returns the *update* "
         "Δθ = −η ∇L, and the loop adds it (θ ← θ + Δθ)."),
        (-eta * theta, "The update uses the parameters instead of the gradients: Δθ = −η ∇L reads `grads`, "
         "not `params`."),
        (-g, f"The learning rate is ignored (this is η = 1, while learning_rate = {eta:g}): multiply by η."),
        (-eta**2 * g, "η is applied twice: Δθ = −η ∇L."),
    ]
    if eta != 0:
        named.append((-g / eta, "The learning rate is upside down: multiply the gradient by η, do not divide."))
    for value, hint in named:
        if _close(got, value) and not _close(got, expected):
            return hint
    return None


def check_gradient_teacher_update(function: Callable[..., Any], *, quiet: bool = False) -> None:
    """Check a learner's ``gradient_teacher_update(params, grads, learning_rate)`` on 4 cases.

    ``params`` and ``grads`` are lists of float64 tensors of equal shapes; the function must
    return Δθ = −η ∇L as a list, one tensor per parameter. Prints ✅ and returns ``None``, or
    raises :class:`~metalearn_lib.checks.core.CheckFailed` with the verdict.
    """
    def call(params: tuple[np.ndarray, ...], grads: tuple[np.ndarray, ...], *, learning_rate: float) -> Any:
        try:
            result = function([tf.constant(p) for p in params], [tf.constant(g) for g in grads], learning_rate)
        except tf.errors.OpError as error:
            _raise_readably(error)
        got = _as_list(result, [p.shape for p in params], "one update tensor per parameter")
        return None if got is None else _flat(got)

    run_check(call, _gradient_cases(), diagnoses=(_diagnose_gradient,), name="gradient_teacher_update",
              quiet=quiet)


# ============================================================================================
# exact_linear_update(params, x, y, l2) -> [θ* − θ]
# ============================================================================================
def _theta_star(x: np.ndarray, y: np.ndarray, l2: float) -> np.ndarray:
    return np.linalg.solve(x.T @ x + l2 * np.eye(x.shape[1]), x.T @ y)


def _exact_cases() -> list[Case]:
    rng = np.random.default_rng(21)

    def data(n: int, d: int) -> tuple[np.ndarray, np.ndarray]:
        x = rng.normal(size=(n, d))
        return x, x @ rng.normal(size=(d, 1)) + 0.3 * rng.normal(size=(n, 1))

    def case(name: str, theta: np.ndarray, x: np.ndarray, y: np.ndarray, l2: float, hint: str) -> Case:
        teacher = ExactLinearTeacher(tf.constant(x), tf.constant(y), l2=l2)
        state = LearnerState(params=[tf.constant(theta)], loss=tf.constant(0.0, tf.float64),
                             grads=[tf.zeros_like(tf.constant(theta))], step=0)
        expected = _flat(teacher.update(state))
        return Case(name, ((theta,), x, y), expected, hint, {"l2": l2})

    rule = "Δθ = θ* − θ with θ* = (XᵀX + λI)⁻¹ Xᵀy (np.linalg.solve or tf.linalg.solve), θ the current parameters."
    x1, y1 = data(20, 3)
    x2, y2 = data(12, 4)
    x3, y3 = data(15, 2)
    q, _ = np.linalg.qr(rng.normal(size=(10, 3)))  # orthonormal columns: XᵀX = I
    y4 = q @ np.array([[1.0], [-2.0], [0.5]]) + 0.1 * rng.normal(size=(10, 1))
    x5, y5 = data(8, 5)
    return [
        case("λ = 0, the learner at a random θ", rng.normal(size=(3, 1)), x1, y1, 0.0, rule),
        case("λ = 0.5: the ridge penalty counts", rng.normal(size=(4, 1)), x2, y2, 0.5,
             "Add λ to the diagonal: θ* = (XᵀX + λI)⁻¹ Xᵀy, with λ = l2 (the loss is (1/n)(‖Xθ − y‖² + λ‖θ‖²))."),
        case("the learner already at θ*: nothing left to teach", _theta_star(x3, y3, 0.1), x3, y3, 0.1,
             "At θ = θ* the update must be 0: Δθ = θ* − θ depends on where the learner is."),
        case("orthonormal columns (XᵀX = I), θ ≠ 0", np.array([[3.0], [1.0], [-1.0]]), q, y4, 0.0,
             "Here θ* = Xᵀy, but the learner is elsewhere: return θ* − θ, the step from θ to θ*."),
        case("λ = 2, n = 8 points, d = 5", rng.normal(size=(5, 1)), x5, y5, 2.0, rule),
    ]


def _diagnose_exact(case: Case, got: np.ndarray) -> str | None:
    (theta,), x, y = case.args
    lam = case.kwargs["l2"]
    n = x.shape[0]
    expected = np.asarray(case.expected)
    star = _theta_star(x, y, lam).ravel()
    th = theta.ravel()
    xty = (x.T @ y).ravel()
    named = [
        (star, "The teacher ignores the learner's current parameters: you returned θ* itself. The loop adds the "
         "update to θ, so return Δθ = θ* − θ."),
        (th - star, "The sign is flipped: Δθ = θ* − θ moves the learner *to* θ* (you returned θ − θ*)."),
        (xty, "This is the article's feedback Xᵀy: it ignores the learner's θ (and is not the optimum unless "
         "XᵀX = I). Return θ* − θ with θ* = (XᵀX + λI)⁻¹ Xᵀy."),
        (xty - th, "This is the article's 'replace' rule, Xᵀy − θ: it moves θ to Xᵀy, which is not θ*. "
         "Solve (XᵀX + λI) θ* = Xᵀy."),
        (star + th, "θ* + θ: the current parameters are added, not subtracted. Δθ = θ* − θ."),
    ]
    if lam != 0:
        named += [
            (_theta_star(x, y, 0.0).ravel() - th, "The ridge penalty λ is ignored: solve (XᵀX + λI) θ* = Xᵀy."),
            (_theta_star(x, y, n * lam).ravel() - th, "λ is multiplied by n: the loss is (1/n)(‖Xθ − y‖² + λ‖θ‖²), "
             "so the 1/n cancels and θ* = (XᵀX + λI)⁻¹ Xᵀy."),
            (_theta_star(x, y, lam / n).ravel() - th, "λ is divided by n: the loss is (1/n)(‖Xθ − y‖² + λ‖θ‖²), "
             "so the 1/n cancels and θ* = (XᵀX + λI)⁻¹ Xᵀy."),
        ]
    for value, hint in named:
        if _close(got, value) and not _close(got, expected):
            return hint
    grad = 2.0 / n * (x.T @ (x @ theta - y) + lam * theta).ravel()
    cosine = float(np.dot(got, -grad) / (np.linalg.norm(got) * np.linalg.norm(grad) + 1e-300))
    if np.linalg.norm(got) > 0 and cosine > 1 - 1e-6:
        return ("This is a gradient step (parallel to −∇L): the exact teacher jumps to the optimum in one step, "
                "Δθ = θ* − θ with θ* = (XᵀX + λI)⁻¹ Xᵀy.")
    return None


def check_exact_linear_update(function: Callable[..., Any], *, quiet: bool = False) -> None:
    """Check a learner's ``exact_linear_update(params, x, y, l2)`` on 5 cases.

    ``params`` is ``[θ]`` with θ ``[d, 1]``, ``x`` is ``[n, d]``, ``y`` is ``[n, 1]`` (float64
    tensors) and ``l2`` a float λ ≥ 0; the function must return ``[θ* − θ]``. Prints ✅ and
    returns ``None``, or raises :class:`~metalearn_lib.checks.core.CheckFailed` with the verdict.
    """
    def call(params: tuple[np.ndarray], x: np.ndarray, y: np.ndarray, *, l2: float) -> Any:
        try:
            result = function([tf.constant(params[0])], tf.constant(x), tf.constant(y), l2)
        except tf.errors.OpError as error:
            _raise_readably(error)
        got = _as_list(result, [params[0].shape], "[Δθ], a list with one [d, 1] tensor")
        return None if got is None else _flat(got)

    run_check(call, _exact_cases(), diagnoses=(_diagnose_exact,), name="exact_linear_update", quiet=quiet)


# ============================================================================================
# meta_sgd_step(params, alphas, batch, outer_lr) -> (new_params, new_alphas)
# ============================================================================================
def _meta_step(params: Sequence[np.ndarray], alphas: Sequence[np.ndarray], batch: ShownBatch, lr: float, *,
               inner: str = "right", alpha_map: Sequence[np.ndarray] | None = None,
               swap_sets: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One Meta-SGD step written out task by task, with a named mistake in the inner step.

    Returns ``(new_params, new_alphas, grad_params, grad_alphas)``, each flattened.
    ``inner``: ``"right"`` (θ − α ⊙ g), ``"alpha_on_params"`` (θ − α ⊙ θ), ``"first_order"``
    (g without its dependence on θ), ``"plus"`` (θ + α ⊙ g). ``alpha_map``: the step sizes
    actually applied to each parameter (α on the wrong parameter), differentiable in ``alphas``.
    """
    theta = [tf.constant(p) for p in params]
    alpha = [tf.constant(a) for a in alphas]
    sx, sy, qx, qy = batch.support_x, batch.support_y, batch.query_x, batch.query_y
    if swap_sets:
        sx, sy, qx, qy = qx, qy, sx, sy
    with tf.GradientTape() as outer:
        outer.watch(theta + alpha)
        applied = alpha if alpha_map is None else [m(alpha) for m in alpha_map]
        losses = []
        for i in range(batch.num_tasks):
            with tf.GradientTape() as tape:
                tape.watch(theta)
                support = mse(forward(theta, sx[i]), sy[i])
            grads = tape.gradient(support, theta)
            if inner == "first_order":
                grads = [tf.stop_gradient(g) for g in grads]
            if inner == "alpha_on_params":
                adapted = [p - a * p for p, a in zip(theta, applied, strict=True)]
            elif inner == "plus":
                adapted = [p + a * g for p, a, g in zip(theta, applied, grads, strict=True)]
            else:
                adapted = [p - a * g for p, a, g in zip(theta, applied, grads, strict=True)]
            losses.append(mse(forward(adapted, qx[i]), qy[i]))
        loss = tf.reduce_mean(tf.stack(losses))
    g = outer.gradient(loss, theta + alpha, unconnected_gradients=tf.UnconnectedGradients.ZERO)
    n = len(theta)
    gp, ga = _flat(g[:n]), _flat(g[n:])
    return _flat(params) - lr * gp, _flat(alphas) - lr * ga, gp, ga


def _meta_cases() -> list[Case]:
    family = SinusoidFamily(dtype=tf.float64)

    def case(name: str, sizes: Sequence[int], alphas: str | float, num_tasks: int, lr: float, seed: int,
             hint: str) -> Case:
        params = _network(sizes, seed)
        rng = np.random.default_rng(seed + 100)
        if alphas == "per-layer":  # one distinct value per parameter tensor: a mix-up shows
            values = np.linspace(0.01, 0.04, len(params))[rng.permutation(len(params))]
            alpha = [np.full(p.shape, v) for p, v in zip(params, values, strict=True)]
        elif alphas == "random":
            alpha = [rng.uniform(0.005, 0.06, size=p.shape) for p in params]
        else:
            alpha = [np.full(p.shape, float(alphas)) for p in params]
        drawn = family.sample(num_tasks, 5, 6, seed=seed)
        batch = ShownBatch(drawn.support_x, drawn.support_y, drawn.query_x, drawn.query_y)
        loss, gp, ga = meta_sgd_gradient([tf.constant(p) for p in params], [tf.constant(a) for a in alpha],
                                         batch.support_x, batch.support_y, batch.query_x, batch.query_y)
        del loss
        expected = np.concatenate([_flat(params) - lr * _flat(gp), _flat(alpha) - lr * _flat(ga)])
        return Case(name, (tuple(params), tuple(alpha), batch), expected, hint, {"outer_lr": lr})

    rule = ("θ'_i = θ − α ⊙ ∇L_i^support(θ); L = mean_i L_i^query(θ'_i); then θ ← θ − β ∂L/∂θ and "
            "α ← α − β ∂L/∂α, with β = outer_lr.")
    return [
        case("1-4-1 network, one step size per layer, 2 tasks, β = 0.1", [1, 4, 1], "per-layer", 2, 0.1, 0, rule),
        case("step sizes that differ entry by entry, 3 tasks, β = 0.05", [1, 4, 1], "random", 3, 0.05, 1,
             "α ⊙ ∇L is elementwise: entry (j, k) of α scales entry (j, k) of the gradient of θ_j."),
        case("α = 0: the inner step does nothing, yet α must learn", [1, 4, 1], 0.0, 2, 0.1, 2,
             "Even at α = 0, ∂L/∂α = −mean_i ∇L_i^query(θ) ⊙ ∇L_i^support(θ) ≠ 0: compute the meta-gradient with "
             "respect to α too, and step α with it."),
        case("1-6-6-1 network (6 tensors), per-layer α, 2 tasks, β = 0.3", [1, 6, 6, 1], "per-layer", 2, 0.3, 3,
             rule),
    ]


def _diagnose_meta(case: Case, got: np.ndarray) -> str | None:
    params, alphas, batch = case.args
    lr = case.kwargs["outer_lr"]
    expected = np.asarray(case.expected)
    size = _flat(params).size
    got_p, got_a = got[:size], got[size:]
    exp_p, exp_a = expected[:size], expected[size:]
    a0 = _flat(alphas)
    theta0 = _flat(params)
    if _close(got_p, exp_a) and _close(got_a, exp_p) and not _close(exp_a, exp_p):
        return "The two lists are swapped: return (new_params, new_alphas), in that order."
    alpha_frozen = _close(got_a, a0) and not _close(exp_a, a0)
    not_updated = ("The learned step sizes were not updated by the meta-gradient: α came back unchanged. Watch α on "
                   "the outer tape (no tf.stop_gradient, no .numpy() on it), take ∂L/∂α and step α ← α − β ∂L/∂α.")
    if alpha_frozen and _close(got_p, exp_p):
        return not_updated
    if _close(got_p, theta0) and not _close(exp_p, theta0):
        return "θ came back unchanged: step the initialisation too, θ ← θ − β ∂L/∂θ."
    ref_p, ref_a, gp, ga = _meta_step(params, alphas, batch, lr)
    if _close(got_p, theta0 + lr * gp) or _close(got_a, a0 + lr * ga):
        return "The outer step has the wrong sign: (θ, α) ← (θ, α) − β ∇L goes *down* the meta-loss."
    for name, other in (("1", 1.0), ("0.001", 1e-3), ("1/β", 1.0 / lr if lr else 0.0)):
        if _close(got_p, theta0 - other * gp) and not _close(exp_p, theta0 - other * gp):
            return f"outer_lr is ignored (this is a step of {name}): use β = outer_lr for both θ and α."
    if _close(got_a, a0 - lr * gp) and not _close(exp_a, got_a):
        return "α was stepped with ∂L/∂θ: the step sizes need their own meta-gradient ∂L/∂α."
    variants = [
        (dict(inner="alpha_on_params"), "α multiplies θ instead of the gradient: the inner step is "
         "θ' = θ − α ⊙ ∇L^support(θ), a step size scales a *gradient*."),
        (dict(inner="plus"), "The inner step has the wrong sign: θ' = θ − α ⊙ ∇L^support(θ) (you added it)."),
        (dict(swap_sets=True), "Support and query are swapped: adapt on the support set, score on the query set."),
        (dict(inner="first_order"), "The second-order path is missing (first-order): keep the inner gradient on the "
         "outer tape (no tf.stop_gradient), so ∂L/∂θ includes (I − diag(α) H) — as MAML in chapter 2."),
        (dict(alpha_map=[lambda a, p=p: tf.fill(tf.shape(p), tf.constant(lr, tf.float64)) for p in params]),
         "The inner step uses outer_lr, not α: the inner step size is the learned α (per parameter)."),
    ]
    n = len(params)
    if len(set(np.round([float(np.ravel(a)[0]) for a in alphas], 12))) == n and all(
            np.allclose(a, np.ravel(a)[0]) for a in alphas):
        for perm in itertools.permutations(range(n)):
            if perm == tuple(range(n)):
                continue
            mapping = [lambda a, j=j, k=k: tf.fill(tf.shape(params[j]), tf.reduce_mean(a[k]))
                       for j, k in enumerate(perm)]
            variants.append((dict(alpha_map=mapping), "The step sizes are applied to the wrong parameters: α_j (the "
                             "step of parameter tensor j) must scale the gradient of θ_j — zip(params, alphas, grads) "
                             "in the same order."))
    for kwargs, hint in variants:
        wrong_p, wrong_a, _, _ = _meta_step(params, alphas, batch, lr, **kwargs)
        if _close(got_p, wrong_p) and not _close(exp_p, wrong_p):
            return hint
    return not_updated if alpha_frozen else None


def check_meta_sgd_step(function: Callable[..., Any], *, quiet: bool = False) -> None:
    """Check a learner's ``meta_sgd_step(params, alphas, batch, outer_lr)`` on 4 cases.

    ``params`` θ = [W1, b1, …] and ``alphas`` α (same shapes) are lists of float64 tensors of a
    ReLU MLP; ``batch`` is a :class:`~metalearn_lib.tasks.TaskBatch` of sinusoid tasks. The
    function must return ``(new_params, new_alphas)`` after one step of plain gradient descent
    with step β = ``outer_lr`` on L(θ, α) = (1/N) Σ_i L_i^query(θ − α ⊙ ∇L_i^support(θ)),
    second order. Prints ✅ and returns ``None``, or raises
    :class:`~metalearn_lib.checks.core.CheckFailed` with the verdict.
    """
    def call(params: tuple[np.ndarray, ...], alphas: tuple[np.ndarray, ...], batch: ShownBatch, *,
             outer_lr: float) -> Any:
        try:
            result = function([tf.constant(p) for p in params], [tf.constant(a) for a in alphas], batch, outer_lr)
        except tf.errors.OpError as error:
            _raise_readably(error)
        if result is None:
            return None
        if not isinstance(result, (list, tuple)) or len(result) != 2 or not all(
                isinstance(r, (list, tuple)) for r in result):
            raise WrongShape("expected a pair (new_params, new_alphas) of lists: return new_params, new_alphas")
        if any(r is None for r in (*result[0], *result[1])):
            raise NoGradient("an entry is None: a gradient came back None — compute the meta-loss inside a "
                             "tf.GradientTape that watches θ and α")
        shapes = [p.shape for p in params]
        new_params = _as_list(result[0], shapes, "new_params, one tensor per parameter")
        new_alphas = _as_list(result[1], shapes, "new_alphas, one tensor per parameter")
        return np.concatenate([_flat(new_params), _flat(new_alphas)])

    run_check(call, _meta_cases(), diagnoses=(_diagnose_meta,), name="meta_sgd_step", quiet=quiet)
