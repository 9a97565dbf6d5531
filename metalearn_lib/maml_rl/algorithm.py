"""MAML for reinforcement learning: a policy adapted by one policy-gradient step (Finn et al. 2017, §5.3).

Chapter 2's two-level learning with a policy in place of a regressor and a policy-gradient
estimate in place of the support-set gradient. For each task i of a meta-batch:

* **inner step** (:func:`adapt_policy`): sample N trajectories τ_i with π_θ, estimate the policy
  gradient with REINFORCE (reward-to-go, a linear baseline fitted on τ_i, advantages standardised
  per task — :mod:`metalearn_lib.rl.policy_gradient`) and take one step of gradient *ascent*::

      θ'_i = θ + α ∇_θ Ĵ_i(θ; τ_i);

* **outer objective**: the adapted policy's expected return, J(θ) = E_i E_{τ_i ∼ π_θ}
  E_{τ'_i ∼ π_{θ'_i}}[R(τ'_i)], estimated from N fresh trajectories τ'_i of π_{θ'_i}.

**The outer gradient has two parts** (:func:`meta_surrogate`). θ'_i depends on θ directly and
through the samples τ_i, whose distribution is π_θ's::

    ∇_θ J = E[ (∂θ'_i/∂θ)ᵀ ∇_{θ'} J_i(θ'_i) ]  +  E[ R(τ'_i) ∇_θ log P_θ(τ_i) ],

with ∂θ'_i/∂θ = I + α ∇²Ĵ_i (differentiating through the inner step at fixed samples) and
log P_θ(τ_i) = Σ_{n,t} log π_θ(a_{nt} | s_{nt}) over the inner trajectories. The second,
score-function term is what an implementation that only back-propagates through the inner step
drops (the original MAML code does; Al-Shedivat et al. 2018 and Rothfuss et al. 2019 discuss it).
Here it is included by the explicit correction — a surrogate whose gradient is
(R̄'_i − b_i) ∇ log P_θ(τ_i), with R̄'_i the mean discounted return of τ'_i and b_i the mean of
the other tasks' R̄' (a baseline independent of τ_i, so the estimate stays unbiased). A test
checks the whole estimator against finite differences of the exact meta-objective on a task small
enough to enumerate every trajectory (``tests/test_maml_rl.py``).

**The outer step** is TRPO (:func:`metalearn_lib.rl.trpo.trpo_step`), as in the paper: maximise the
importance-weighted surrogate of the adapted policies subject to a mean KL of at most δ = 0.01
between the adapted policies before and after the step, the Fisher matrix reached by
Hessian-vector products *through the inner step* (the KL is a function of θ via θ'_i(θ)).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import tensorflow as tf

from metalearn_lib.rl.gaussian_policy import (
    GaussianPolicyParams,
    gaussian_kl,
    gaussian_log_prob,
    policy_mean,
    tile_policy,
)
from metalearn_lib.rl.policy_gradient import (
    Trajectories,
    linear_feature_baseline,
    normalize_advantages,
    reinforce_surrogate,
    reward_to_go,
)
from metalearn_lib.validation import check_int, check_number

__all__ = [
    "INNER_ESTIMATORS",
    "LogProbFn",
    "MAMLRLConfig",
    "PolicyGradientBatch",
    "adapt_policy",
    "gaussian_policy_kl",
    "inner_advantages",
    "inner_hessian_products",
    "inner_objective",
    "magic_box",
    "log_probs",
    "meta_fisher_product",
    "meta_surrogate",
    "outer_advantages",
]

#: The inner objectives of :func:`inner_objective` (same gradient, different second derivative).
INNER_ESTIMATORS = ("reinforce", "dice", "lvc")

#: log π(a | s) of a policy nest with a leading task axis: (params, observations [T, M, O],
#: actions [T, M, A]) ↦ [T, M].
LogProbFn = Callable[[Any, tf.Tensor, tf.Tensor], tf.Tensor]


class PolicyGradientBatch(NamedTuple):
    """What a policy-gradient estimate reads of a batch of trajectories (``[T, N, H, …]``).

    Attributes:
        observations: ``[T, N, H, O]``.
        actions: ``[T, N, H, A]`` (or ``[T, N, H]`` integer actions for a discrete policy).
        masks: ``[T, N, H]`` 1 where the step happened.
        advantages: ``[T, N, H]`` Â (constants).
    """

    observations: tf.Tensor
    actions: tf.Tensor
    masks: tf.Tensor
    advantages: tf.Tensor


def _flat(x: tf.Tensor) -> tf.Tensor:
    """``[T, N, H, …]`` → ``[T, N·H, …]``."""
    shape = tf.shape(x)
    return tf.reshape(x, tf.concat([shape[:1], [-1], shape[3:]], axis=0))


def log_probs(log_prob_fn: LogProbFn, params: Any, batch: PolicyGradientBatch) -> tf.Tensor:
    """log π(a_{nt} | s_{nt}) for every step of a batch, ``[T, N, H]``."""
    flat = log_prob_fn(params, _flat(batch.observations), _flat(batch.actions))
    return tf.reshape(flat, tf.shape(batch.masks))


def inner_advantages(trajectories: Trajectories, discount: float) -> tf.Tensor:
    """The inner step's Â: reward-to-go Ĝ_t (discount γ) minus a linear feature baseline fitted
    on the same task's trajectories, standardised over the task's steps — ``[T, N, H]``."""
    returns = reward_to_go(trajectories.rewards, discount)
    baseline = linear_feature_baseline(trajectories.observations, returns, trajectories.masks)
    return normalize_advantages(returns - baseline, trajectories.masks)


def outer_advantages(trajectories: Trajectories, discount: float) -> tf.Tensor:
    """The outer estimate's Â: Ĝ_t − b(s_t) in return units (not standardised, so that it and the
    sampling term weigh the same), ``[T, N, H]``."""
    returns = reward_to_go(trajectories.rewards, discount)
    baseline = linear_feature_baseline(trajectories.observations, returns, trajectories.masks)
    return (returns - baseline) * trajectories.masks


def magic_box(x: tf.Tensor) -> tf.Tensor:
    """DiCE's magic box □(x) = exp(x − ⊥x): value 1, gradient □(x)·∇x (Foerster et al. 2018)."""
    return tf.exp(x - tf.stop_gradient(x))


def inner_objective(policy: Any, batch: PolicyGradientBatch, *, log_prob_fn: LogProbFn = gaussian_log_prob,
                    estimator: str = "reinforce") -> tf.Tensor:
    """Ĵ_i(θ) per task, ``[T]``: the objective whose gradient is the inner policy-gradient step.

    Both estimators have the same value's gradient, (1/#steps) Σ_{n,t} ∇log π(a_{nt} | s_{nt}) Â_{nt};
    they differ in their *second* derivative, which the outer gradient reads through ∂θ'/∂θ:

    * ``"reinforce"``: Σ log π · Â / #steps. Its Hessian ignores that the samples came from π_θ —
      the naive MAML-RL inner loss.
    * ``"dice"``: Σ_{n,t} □(Σ_{t' ≤ t} log π(a_{nt'} | s_{nt'})) r̃_{nt} / #steps with r̃_t = Â_t − Â_{t+1}
      (so Σ_{t ≥ t'} r̃_t = Â_{t'}): DiCE's estimator, whose Hessian also carries the score-function
      products Σ ∇log π_{t'} ∇log π_{t''}ᵀ of each trajectory — the inner samples' own dependence
      on θ, to first order in α.
    * ``"lvc"``: Σ_{n,t} □(log π(a_{nt} | s_{nt})) Â_{nt} / #steps — ProMP's low-variance curvature
      estimator (Rothfuss et al. 2019): one step's likelihood ratio instead of DiCE's product over
      the whole prefix, so its Hessian keeps each step's ∇log π_t ∇log π_tᵀ Â_t and drops the
      cross-step products, a biased but much less noisy curvature.
    """
    lp = log_probs(log_prob_fn, policy, batch) * batch.masks
    advantages = tf.stop_gradient(batch.advantages) * batch.masks
    count = tf.reduce_sum(batch.masks, axis=[1, 2])
    if estimator == "reinforce":
        return reinforce_surrogate(lp, advantages, batch.masks)
    if estimator == "dice":
        following = tf.concat([advantages[..., 1:], tf.zeros_like(advantages[..., :1])], axis=-1)
        increments = advantages - following  # r̃_t = Â_t − Â_{t+1}
        return tf.reduce_sum(magic_box(tf.cumsum(lp, axis=-1)) * increments, axis=[1, 2]) / count
    if estimator == "lvc":
        return tf.reduce_sum(magic_box(lp) * advantages, axis=[1, 2]) / count
    raise ValueError(f"estimator must be one of {INNER_ESTIMATORS}, got {estimator!r}")


def adapt_policy(policy: Any, batch: PolicyGradientBatch, *, inner_lr: float | tf.Tensor,
                 log_prob_fn: LogProbFn = gaussian_log_prob, first_order: bool = False,
                 estimator: str = "reinforce") -> Any:
    """θ'_i = θ_i + α ∇_θ Ĵ_i(θ_i): one REINFORCE ascent step per task.

    ``policy`` has a leading task axis (tile shared parameters first, e.g. with
    :func:`metalearn_lib.rl.gaussian_policy.tile_policy`, inside the caller's tape so the outer
    gradient reaches θ). Differentiable with respect to ``policy`` (second order) unless
    ``first_order``, which treats ∇Ĵ_i as a constant (first-order MAML). ``estimator`` chooses
    the inner objective's second derivative (:func:`inner_objective`); the step itself is the same.
    """
    with tf.GradientTape() as tape:
        tape.watch(policy)
        objective = tf.reduce_sum(inner_objective(policy, batch, log_prob_fn=log_prob_fn, estimator=estimator))
    grads = tape.gradient(objective, policy)
    if first_order:
        grads = tf.nest.map_structure(tf.stop_gradient, grads)
    return tf.nest.map_structure(lambda theta, g: theta + inner_lr * g, policy, grads)  # θ' = θ + α∇Ĵ


def meta_surrogate(
    policy: Any,
    inner: PolicyGradientBatch,
    outer: PolicyGradientBatch,
    outer_old_log_probs: tf.Tensor,
    *,
    inner_lr: float | tf.Tensor,
    sampling_weights: tf.Tensor | None,
    inner_old_log_probs: tf.Tensor | None = None,
    log_prob_fn: LogProbFn = gaussian_log_prob,
    first_order: bool = False,
    estimator: str = "reinforce",
) -> tuple[tf.Tensor, Any]:
    """The per-task surrogate whose gradient at θ = θ_old is the MAML-RL meta-gradient. ::

        L_i(θ) = (1/N') Σ_{n,t} m'_{nt} [π_{θ'_i}(a'_{nt} | s'_{nt}) / π_old'(a'_{nt} | s'_{nt})] Â'_{nt}
                 + w_i · Σ_{n,t} m_{nt} [log π_θ(a_{nt} | s_{nt}) − log π_old(a_{nt} | s_{nt})],

    θ'_i = :func:`adapt_policy` (θ on the inner batch). At θ_old the first line's gradient is
    (∂θ'_i/∂θ)ᵀ times the policy gradient of the adapted policy (Â' in return units); the second
    is the score-function term with weight w_i = R̄'_i − b_i (``sampling_weights``, constants);
    ``None`` drops it — the gradient a naive implementation computes.

    Args:
        policy: θ with a leading task axis (tiled inside the caller's tape).
        inner: the inner trajectories and their advantages (those of :func:`inner_advantages`).
        outer: the adapted policies' trajectories and their advantages.
        outer_old_log_probs: ``[T, N', H]`` log π_old'(a' | s') at θ_old (constants).
        inner_lr: α.
        sampling_weights: ``[T]`` w_i, or ``None``.
        inner_old_log_probs: ``[T, N, H]`` log π_old(a | s) (constants; needed with weights).
        log_prob_fn: the policy's log-density.
        first_order: see :func:`adapt_policy`.
        estimator: the inner objective (:func:`inner_objective`).

    Returns:
        ``(L [T], adapted policy)``.
    """
    adapted = adapt_policy(policy, inner, inner_lr=inner_lr, log_prob_fn=log_prob_fn, first_order=first_order,
                           estimator=estimator)
    ratio = tf.exp(log_probs(log_prob_fn, adapted, outer) - tf.stop_gradient(outer_old_log_probs))
    num_outer = tf.cast(tf.shape(outer.masks)[1], ratio.dtype)
    value = tf.reduce_sum(ratio * tf.stop_gradient(outer.advantages) * outer.masks, axis=[1, 2]) / num_outer
    if sampling_weights is not None:
        if inner_old_log_probs is None:
            raise ValueError("inner_old_log_probs is needed with sampling_weights")
        change = tf.reduce_sum((log_probs(log_prob_fn, policy, inner) - tf.stop_gradient(inner_old_log_probs))
                               * inner.masks, axis=[1, 2])
        value = value + tf.stop_gradient(sampling_weights) * change
    return value, adapted


@dataclass(frozen=True)
class MAMLRLConfig:
    """Hyperparameters of :func:`metalearn_lib.maml_rl.training.train_maml_rl` (checked on construction).

    The defaults are the paper's 2D-navigation set-up — a 100-100 ReLU policy with σ = 1 at the
    start, meta-batches of 20 tasks, 20 trajectories a task for the inner step and 20 for the
    outer estimate, α = 0.1, γ = 0.99, TRPO with δ = 0.01 — with the inner samples' dependence on θ
    carried, to first order in α, by ProMP's low-variance-curvature inner objective
    (``inner_estimator="lvc"``; DiCE's ``"dice"`` carries it too, with a noisier Hessian). The
    exact explicit correction (``sampling_term=True``) is unbiased but, with 20 × 20 trajectories,
    so noisy that training fails (``benchmarks/maml_rl.py --variants`` measures all four).

    Attributes:
        hidden_sizes: the policy's hidden widths.
        init_std: σ at the start.
        meta_batch_size: tasks per meta-iteration.
        num_trajectories: trajectories per task, for the inner step and again for the outer estimate.
        inner_lr: α.
        num_inner_steps: 1 (MAML) or 0 (no adaptation: a policy *pretrained* on all goals by the
            same TRPO on its own return — the paper's "pretrained" baseline).
        discount: γ of the reward-to-go.
        max_kl: TRPO's δ.
        cg_iterations: conjugate-gradient steps.
        cg_damping: λ added to the Fisher matrix.
        fisher_trajectories: the Hessian-vector products of conjugate gradient read only the
            first this many trajectories of each task (inner and outer batch alike; ``None``: all)
            — a cheaper estimate of the same curvature, as rllab's ``subsample_factor``. The
            gradient, the step's scale and the line search use every trajectory.
        backtrack_ratio: the line search's ρ.
        max_backtracks: candidates the line search tries.
        sampling_term: include the score-function term of the inner samples (see the module
            docstring); ``False`` gives the naive gradient.
        inner_estimator: the inner objective's second-order form, ``"reinforce"``, ``"dice"`` or ``"lvc"``
            (:func:`inner_objective`).
        first_order: drop ∂(∇Ĵ)/∂θ in the inner step (first-order MAML).
        seed: seed of θ₀ and of the stream [seed, iteration] every random number derives from.
        jit_compile: compile a meta-iteration with XLA.
    """

    hidden_sizes: tuple[int, ...] = (100, 100)
    init_std: float = 1.0
    meta_batch_size: int = 20
    num_trajectories: int = 20
    inner_lr: float = 0.1
    num_inner_steps: int = 1
    discount: float = 0.99
    max_kl: float = 0.01
    cg_iterations: int = 10
    cg_damping: float = 1e-5
    fisher_trajectories: int | None = 5
    backtrack_ratio: float = 0.8
    max_backtracks: int = 15
    sampling_term: bool = False
    inner_estimator: str = "lvc"
    first_order: bool = False
    seed: int = 0
    jit_compile: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.hidden_sizes, tuple) or not self.hidden_sizes:
            raise TypeError(f"hidden_sizes must be a non-empty tuple of ints, got {self.hidden_sizes!r}")
        for width in self.hidden_sizes:
            check_int("hidden_sizes[]", width)
        check_number("init_std", self.init_std)
        check_int("meta_batch_size", self.meta_batch_size, 2)
        check_int("num_trajectories", self.num_trajectories, 2)
        check_number("inner_lr", self.inner_lr)
        check_int("num_inner_steps", self.num_inner_steps, 0)
        if self.num_inner_steps > 1:
            raise ValueError(f"num_inner_steps must be 0 or 1 for training, got {self.num_inner_steps}")
        discount = check_number("discount", self.discount)
        if discount > 1.0:
            raise ValueError(f"discount must be a number in (0, 1], got {discount}")
        check_number("max_kl", self.max_kl)
        check_int("cg_iterations", self.cg_iterations)
        check_number("cg_damping", self.cg_damping, positive=False)
        if self.fisher_trajectories is not None:
            check_int("fisher_trajectories", self.fisher_trajectories)
        ratio = check_number("backtrack_ratio", self.backtrack_ratio)
        if ratio >= 1.0:
            raise ValueError(f"backtrack_ratio must be a number in (0, 1), got {ratio}")
        check_int("max_backtracks", self.max_backtracks)
        for name in ("sampling_term", "first_order", "jit_compile"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be a bool, got {type(getattr(self, name)).__name__}")
        check_int("seed", self.seed, 0)
        if self.inner_estimator not in INNER_ESTIMATORS:
            raise ValueError(f"inner_estimator must be one of {INNER_ESTIMATORS}, got {self.inner_estimator!r}")

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-ready dict."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}


def _dot(a: Any, b: Any) -> tf.Tensor:
    return tf.add_n([tf.reduce_sum(x * y) for x, y in zip(tf.nest.flatten(a), tf.nest.flatten(b), strict=True)])


def inner_hessian_products(policy: Any, batch: PolicyGradientBatch, vectors: Any, *,
                           log_prob_fn: LogProbFn = gaussian_log_prob, estimator: str = "reinforce") -> Any:
    """H_i v_i = ∇²Ĵ_i(θ_i) v_i for every task at once (double back-propagation; Ĵ_i depends on θ_i only).

    ``policy`` and ``vectors`` have a leading task axis.
    """
    with tf.GradientTape() as outer_tape:
        outer_tape.watch(policy)
        with tf.GradientTape() as tape:
            tape.watch(policy)
            objective = tf.reduce_sum(inner_objective(policy, batch, log_prob_fn=log_prob_fn, estimator=estimator))
        grads = tape.gradient(objective, policy)
        directional = _dot(grads, tf.nest.map_structure(tf.stop_gradient, vectors))
    return outer_tape.gradient(directional, policy)


def meta_fisher_product(policy: GaussianPolicyParams, adapted: Any, inner: PolicyGradientBatch,
                        outer: PolicyGradientBatch, vector: Any, *, inner_lr: float | tf.Tensor,
                        first_order: bool = False, estimator: str = "reinforce") -> Any:
    """(∂²/∂θ²) D(θ) · v at θ_old for D(θ) = :func:`gaussian_policy_kl` (adapted_old, θ'(θ)), without
    third derivatives.

    At θ_old the KL and its gradient vanish, so its Hessian is the Gauss–Newton form
    (1/T) Σ_i J_iᵀ F_i J_i, with J_i = ∂θ'_i/∂θ = I + α H_i (H_i the inner surrogate's Hessian,
    :func:`inner_hessian_products`; I alone with ``first_order``) and F_i the Fisher matrix of the
    adapted policy π_{θ'_i} (the Hessian of its KL, by double back-propagation on the outer batch).

    Args:
        policy: θ_old, shared (no task axis).
        adapted: θ'_old with a task axis (the policies that sampled ``outer``).
        inner, outer: the two batches.
        vector: v, shaped like ``policy``.
        inner_lr: α.
        first_order: take J_i = I.
    """
    num_tasks = tf.shape(outer.masks)[0]
    tiled_policy = tile_policy(policy, num_tasks)
    tiled_vector = tile_policy(vector, num_tasks)
    if first_order:
        jv = tiled_vector
    else:
        hv = inner_hessian_products(tiled_policy, inner, tiled_vector, estimator=estimator)
        jv = tf.nest.map_structure(lambda v, h: v + inner_lr * h, tiled_vector, hv)  # J v = v + αHv
    with tf.GradientTape() as outer_tape:
        outer_tape.watch(adapted)
        with tf.GradientTape() as tape:
            tape.watch(adapted)
            divergence = gaussian_policy_kl(adapted, adapted, outer)
        grads = tape.gradient(divergence, adapted)
        directional = _dot(grads, jv)
    fjv = outer_tape.gradient(directional, adapted)  # per task (1/T) F_i J_i v
    if first_order:
        jt_fjv = fjv
    else:
        hf = inner_hessian_products(tiled_policy, inner, fjv, estimator=estimator)
        jt_fjv = tf.nest.map_structure(lambda w, h: w + inner_lr * h, fjv, hf)  # Jᵀw = w + αHw (H symmetric)
    return tf.nest.map_structure(lambda t: tf.reduce_sum(t, axis=0), jt_fjv)  # Σ_i: θ is shared


def gaussian_policy_kl(old_policy: GaussianPolicyParams, policy: GaussianPolicyParams,
                       batch: PolicyGradientBatch) -> tf.Tensor:
    """Mean over tasks of the mean over alive steps of KL(π_old(· | s) ‖ π(· | s)), a scalar."""
    observations = _flat(batch.observations)
    old_mean = tf.stop_gradient(policy_mean(old_policy, observations))
    old_log_std = tf.stop_gradient(old_policy.log_std[:, tf.newaxis, :] if old_policy.log_std.shape.rank == 2
                                   else old_policy.log_std)
    kl = tf.reshape(gaussian_kl(old_mean, old_log_std, policy, observations), tf.shape(batch.masks))
    per_task = tf.reduce_sum(kl * batch.masks, axis=[1, 2]) / tf.reduce_sum(batch.masks, axis=[1, 2])
    return tf.reduce_mean(per_task)

