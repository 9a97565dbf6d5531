"""Checks for the exercises of ``06_maml_rl``: reward-to-go, the REINFORCE surrogate, one MAML-RL inner step.

* :func:`check_reward_to_go` — ``reward_to_go(rewards, discount)``, Ĝ_t = Σ_{t' ≥ t} γ^{t'−t} r_{t'}
  for every trajectory (rows) and step (columns), NumPy in and out;
* :func:`check_reinforce_surrogate` — ``reinforce_surrogate(log_prob, observations, actions,
  rewards_to_go, baseline)``, the scalar Ĵ(θ) = mean_{n,t} log π_θ(a_{nt} | s_{nt}) (Ĝ_{nt} − b_{nt}).
  The check compares its value **and its gradient** with respect to the policy's parameters (taken
  by the check's own tape), so a surrogate computed outside TensorFlow is caught;
* :func:`check_inner_step` — ``inner_step(params, objective, inner_lr)``, θ'_i = θ_i + α ∇Ĵ_i(θ_i)
  for per-task parameters (a leading task axis) and ``objective(params) -> [num_tasks]``.

Expected answers come from :mod:`metalearn_lib.rl.policy_gradient` and
:func:`metalearn_lib.maml_rl.adapt_policy`; the diagnoses recompute the typical mistakes (the total
return at every step, the baseline added, the log-probabilities of the wrong actions, a descent
step, a gradient averaged over tasks) and name them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import tensorflow as tf

from metalearn_lib.checks.core import Case, NoGradient, WrongShape, run_check
from metalearn_lib.rl.gaussian_policy import gaussian_log_prob, init_gaussian_policy
from metalearn_lib.rl.policy_gradient import reward_to_go as library_reward_to_go

__all__ = ["check_inner_step", "check_reinforce_surrogate", "check_reward_to_go"]

_RTOL, _ATOL = 2e-4, 1e-5


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and np.allclose(a, b, rtol=_RTOL, atol=_ATOL)


# ============================================================================================
# reward_to_go(rewards, discount) -> [N, H]
# ============================================================================================
def _rtg(rewards: np.ndarray, discount: float) -> np.ndarray:
    return library_reward_to_go(tf.constant(rewards, tf.float64), discount).numpy()


def _rtg_cases() -> list[Case]:
    rng = np.random.default_rng(6)

    def case(name: str, rewards: Any, discount: float, hint: str) -> Case:
        rewards = np.asarray(rewards, np.float64)
        return Case(name, (rewards,), _rtg(rewards, discount), hint, {"discount": discount})

    rule = "Ĝ_t = r_t + γ r_{t+1} + γ² r_{t+2} + … : the discounted sum of the rewards from step t to the end."
    return [
        case("one trajectory, γ = 1: the sum of the rewards from t on", [[1.0, 2.0, 3.0, 4.0]], 1.0, rule),
        case("two trajectories, γ = 0.9", np.round(rng.normal(size=(2, 6)), 2), 0.9,
             "Each row is one trajectory; discount within the row, γ^(t' − t) for a reward t' − t steps ahead."),
        case("a reward only at the end, γ = 0.5", [[0.0, 0.0, 0.0, 8.0]], 0.5, rule),
        case("γ = 0: each step's own reward", [[3.0, -1.0, 2.0]], 0.0, "With γ = 0, Ĝ_t = r_t."),
    ]


def _diagnose_rtg(case: Case, got: np.ndarray) -> str | None:
    rewards = case.args[0]
    gamma = case.kwargs["discount"]
    horizon = rewards.shape[1]
    powers = gamma ** np.arange(horizon)
    variants = [
        (np.repeat(_rtg(rewards, gamma)[:, :1], horizon, axis=1),
         "Every step got the total return of its trajectory. An action cannot change the rewards that came before "
         "it: weigh step t by the rewards *from t on*, Ĝ_t = Σ_{t' ≥ t} γ^(t'−t) r_t'."),
        (np.repeat(rewards.sum(axis=1, keepdims=True), horizon, axis=1),
         "Every step got the undiscounted total return Σ_t r_t: sum only the rewards from step t on, discounted."),
        (_rtg(rewards, 1.0),
         f"The rewards are not discounted: multiply a reward k steps ahead by γ^k (γ = {gamma:g})."),
        (np.cumsum((rewards * powers)[:, ::-1], axis=1)[:, ::-1],
         "The discount counts from the start of the trajectory (γ^t'), not from step t (γ^(t'−t)): the reward of "
         "step t itself has weight 1 in Ĝ_t."),
        (np.cumsum(rewards, axis=1),
         "That is the sum of the rewards *up to* t; reward-to-go sums from t to the end (a reversed cumulative sum)."),
    ]
    for value, hint in variants:
        if _close(got, value) and not _close(got, np.asarray(case.expected)):
            return hint
    return None


def check_reward_to_go(function: Callable[..., Any], *, quiet: bool = False) -> None:
    """Check a learner's ``reward_to_go(rewards, discount)`` on 4 cases (``rewards``: ``[N, H]``
    NumPy, one trajectory a row). Prints ✅ and returns ``None``, or raises
    :class:`~metalearn_lib.checks.core.CheckFailed` with the verdict."""

    def call(rewards: np.ndarray, *, discount: float) -> Any:
        return function(rewards.copy(), discount)

    run_check(call, _rtg_cases(), diagnoses=(_diagnose_rtg,), name="reward_to_go", rtol=_RTOL, atol=_ATOL,
              quiet=quiet)


# ============================================================================================
# reinforce_surrogate(log_prob, observations, actions, rewards_to_go, baseline) -> scalar
# ============================================================================================
@dataclass(frozen=True)
class _LogProb:
    """log π_θ(a | s) of a small Gaussian policy, callable as ``log_prob(observations, actions)``
    on ``[N, H, 2]`` arrays → ``[N, H]``; prints as its description in a verdict."""

    seed: int

    @property
    def policy(self) -> Any:
        return init_gaussian_policy(2, 2, self.seed, hidden_sizes=(8,), init_std=0.5, dtype=tf.float64)

    def with_policy(self, policy: Any) -> Callable[[Any, Any], tf.Tensor]:
        def log_prob(observations: Any, actions: Any) -> tf.Tensor:
            obs = tf.convert_to_tensor(observations, tf.float64)
            act = tf.convert_to_tensor(actions, tf.float64)
            flat = gaussian_log_prob(policy, tf.reshape(obs, [1, -1, 2]), tf.reshape(act, [1, -1, 2]))
            return tf.reshape(flat, tf.shape(obs)[:-1])

        return log_prob

    def __repr__(self) -> str:
        return "log_prob"


def _surrogate_and_gradient(log_prob: _LogProb, surrogate: Callable[[Callable[..., tf.Tensor]], Any]) -> np.ndarray:
    """[value, ∂value/∂θ…] of ``surrogate(log_prob_fn)`` with θ the policy's parameters."""
    policy = log_prob.policy
    with tf.GradientTape() as tape:
        tape.watch(policy)
        value = surrogate(log_prob.with_policy(policy))
        if not isinstance(value, tf.Tensor):
            raise NoGradient(f"a {type(value).__name__}, not a tf.Tensor: compute the surrogate with TensorFlow "
                             "operations on log_prob(...) so that its gradient exists")
        if value.shape.rank != 0:
            raise WrongShape(f"a tensor of shape {value.shape.as_list()}: the surrogate is one number (a mean)")
    grads = tape.gradient(value, policy)
    if any(g is None for g in tf.nest.flatten(grads)):
        raise NoGradient("the surrogate's gradient with respect to the policy came back None: multiply "
                         "log_prob(observations, actions) by the advantages inside TensorFlow")
    flat = np.concatenate([np.ravel(np.asarray(g, np.float64)) for g in tf.nest.flatten(grads)])
    return np.concatenate([[float(value)], flat])


def _reference(obs: np.ndarray, actions: np.ndarray, rtg: np.ndarray, baseline: np.ndarray, *, sign: float = -1.0,
               reduce: str = "mean", shift: int = 0) -> Callable[[Callable[..., tf.Tensor]], tf.Tensor]:
    def surrogate(log_prob: Callable[..., tf.Tensor]) -> tf.Tensor:
        if shift:
            lp = log_prob(obs[:, :-1], actions[:, 1:])
            weights = (rtg + sign * baseline)[:, :-1]
        else:
            lp = log_prob(obs, actions)
            weights = rtg + sign * baseline
        total = lp * tf.constant(weights, tf.float64)
        return tf.reduce_mean(total) if reduce == "mean" else tf.reduce_sum(total)

    return surrogate


def _surrogate_cases() -> list[Case]:
    def case(name: str, seed: int, num_trajectories: int, horizon: int, hint: str) -> Case:
        rng = np.random.default_rng(seed)
        obs = np.round(rng.normal(scale=0.3, size=(num_trajectories, horizon, 2)), 3)
        actions = np.round(rng.normal(size=(num_trajectories, horizon, 2)), 3)
        rtg = np.round(rng.normal(-5.0, 2.0, size=(num_trajectories, horizon)), 3)
        baseline = np.round(rtg + rng.normal(scale=1.0, size=rtg.shape), 3)
        log_prob = _LogProb(seed)
        expected = _surrogate_and_gradient(log_prob, _reference(obs, actions, rtg, baseline))
        return Case(name, (log_prob, obs, actions, rtg, baseline), expected, hint)

    rule = ("Ĵ(θ) = mean over trajectories and steps of log_prob(observations, actions) · (rewards_to_go − "
            "baseline) — one number whose gradient is the policy gradient.")
    return [
        case("one trajectory of 5 steps", 1, 1, 5, rule),
        case("four trajectories of 6 steps", 2, 4, 6, rule),
        case("three trajectories of 10 steps", 3, 3, 10, rule),
    ]


def _diagnose_surrogate(case: Case, got: np.ndarray) -> str | None:
    log_prob, obs, actions, rtg, baseline = case.args
    variants = [
        (_reference(obs, actions, rtg, baseline, sign=+1.0),
         "The baseline was added: the advantage is rewards_to_go − baseline (the baseline is subtracted)."),
        (_reference(obs, actions, rtg, 0.0 * baseline),
         "The baseline is missing: weigh each log-probability by rewards_to_go − baseline."),
        (_reference(obs, actions, rtg, baseline, reduce="sum"),
         "That is the sum over all steps: take the mean (tf.reduce_mean), so the step size does not grow with the "
         "number of samples."),
        (_reference(obs, actions, rtg, baseline, shift=1),
         "These are the log-probabilities of the wrong actions: action t must be scored in the observation it was "
         "taken in, log_prob(observations, actions) with the arrays as given (no shift between them)."),
        (lambda lp: -_reference(obs, actions, rtg, baseline)(lp),
         "The sign is flipped: this is a *loss* (−Ĵ). Return the objective itself; the inner step climbs it."),
    ]
    for surrogate, hint in variants:
        if _close(got, _surrogate_and_gradient(log_prob, surrogate)):
            return hint
    if _close(got[:1], np.asarray(case.expected)[:1]):
        return ("The value is right but not its gradient: compute the surrogate from log_prob(...) with TensorFlow "
                "operations only (no .numpy(), no tf.stop_gradient on the log-probabilities).")
    return None


def check_reinforce_surrogate(function: Callable[..., Any], *, quiet: bool = False) -> None:
    """Check a learner's ``reinforce_surrogate(log_prob, observations, actions, rewards_to_go, baseline)``
    on 3 cases: its value and its gradient with respect to the policy's parameters.

    ``log_prob(observations, actions)`` gives ``[N, H]`` log-densities of a Gaussian policy;
    ``observations``, ``actions`` are ``[N, H, 2]``, ``rewards_to_go`` and ``baseline`` ``[N, H]``
    (NumPy). Prints ✅ and returns ``None``, or raises :class:`~metalearn_lib.checks.core.CheckFailed`.
    """

    def call(log_prob: _LogProb, obs: np.ndarray, actions: np.ndarray, rtg: np.ndarray, baseline: np.ndarray) -> Any:
        return _surrogate_and_gradient(log_prob, lambda fn: function(fn, obs.copy(), actions.copy(), rtg.copy(),
                                                                     baseline.copy()))

    run_check(call, _surrogate_cases(), diagnoses=(_diagnose_surrogate,), name="reinforce_surrogate", rtol=_RTOL,
              atol=_ATOL, quiet=quiet)


# ============================================================================================
# inner_step(params, objective, inner_lr) -> list of [T, ...]
# ============================================================================================
@dataclass(frozen=True)
class _Objective:
    """Ĵ_i(θ_i) of a toy per-task objective (a concave quadratic in every parameter), callable on
    per-task parameters → ``[num_tasks]``; prints as its description."""

    targets: tuple[np.ndarray, ...]
    scales: np.ndarray

    def __call__(self, params: Sequence[Any]) -> tf.Tensor:
        total = 0.0
        for p, target in zip(params, self.targets, strict=True):
            p = tf.convert_to_tensor(p, tf.float64)
            axes = list(range(1, p.shape.rank))
            total += -tf.reduce_sum(tf.square(p - target) + 0.3 * tf.sin(3.0 * p), axis=axes)
        return tf.constant(self.scales) * total

    def __repr__(self) -> str:
        return "objective"


@dataclass(frozen=True)
class _PerTask:
    arrays: tuple[np.ndarray, ...]

    def __repr__(self) -> str:
        return "[" + ", ".join(f"{tuple(a.shape)}" for a in self.arrays) + "]"


def _step(objective: _Objective, params: Sequence[np.ndarray], inner_lr: float) -> np.ndarray:
    tensors = [tf.constant(p, tf.float64) for p in params]
    with tf.GradientTape() as tape:
        tape.watch(tensors)
        value = tf.reduce_sum(objective(tensors))
    grads = tape.gradient(value, tensors)
    return np.concatenate([(p + inner_lr * g).numpy().reshape(p.shape[0], -1) for p, g in zip(tensors, grads,
                                                                                               strict=True)], axis=1)


def _inner_cases() -> list[Case]:
    def case(name: str, num_tasks: int, inner_lr: float, seed: int, hint: str) -> Case:
        rng = np.random.default_rng(seed)
        shapes = [(3, 2), (2,)]
        params = tuple(np.round(rng.normal(size=(num_tasks, *s)), 3) for s in shapes)
        targets = tuple(np.round(rng.normal(size=(num_tasks, *s)), 3) for s in shapes)
        objective = _Objective(targets, np.linspace(1.0, 2.0, num_tasks))
        return Case(name, (_PerTask(params), objective), _step(objective, params, inner_lr), hint,
                    {"inner_lr": inner_lr})

    rule = ("θ'_i = θ_i + α ∇Ĵ_i(θ_i): differentiate the *sum* of the per-task objectives with respect to the "
            "per-task parameters (slice i of the gradient is ∇Ĵ_i) and step *up* that gradient.")
    return [
        case("one task, α = 0.1", 1, 0.1, 1, rule),
        case("three tasks, each along its own gradient", 3, 0.1, 2, rule),
        case("α = 0.05: the step scales with inner_lr", 3, 0.05, 3, "The step is inner_lr times the gradient."),
    ]


def _diagnose_inner(case: Case, got: np.ndarray) -> str | None:
    params = case.args[0].arrays
    alpha = float(case.kwargs["inner_lr"])
    theta = np.concatenate([p.reshape(p.shape[0], -1) for p in params], axis=1)
    step = np.asarray(case.expected) - theta  # α ∇Ĵ_i
    num_tasks = theta.shape[0]
    variants = [
        (theta - step, "The step goes downhill: MAML-RL's inner step *ascends* the return, θ' = θ + α∇Ĵ."),
        (theta + step / num_tasks,
         "The step is 1/num_tasks of the right one: the per-task objectives were averaged over tasks. Sum them "
         "(tf.reduce_sum) — each task's slice of the gradient is then its own ∇Ĵ_i."),
        (theta + np.repeat(step.mean(axis=0, keepdims=True), num_tasks, axis=0),
         "Every task took the same step: the gradient was averaged over the task axis. Task i must step along its "
         "own slice ∇Ĵ_i; keep the task axis."),
        (theta + step / alpha, "The step ignores inner_lr: multiply the gradient by it."),
    ]
    for value, hint in variants:
        if _close(got, value) and not _close(got, np.asarray(case.expected)):
            return hint
    return None


def check_inner_step(function: Callable[..., Any], *, quiet: bool = False) -> None:
    """Check a learner's ``inner_step(params, objective, inner_lr)`` on 3 cases.

    ``params`` is a list of tf.float64 tensors with a leading task axis; ``objective(params)`` returns
    ``[num_tasks]``. The function must return the adapted list, same shapes. Prints ✅ and returns
    ``None``, or raises :class:`~metalearn_lib.checks.core.CheckFailed`.
    """

    def call(params: _PerTask, objective: _Objective, *, inner_lr: float) -> Any:
        result = function([tf.constant(p, tf.float64) for p in params.arrays], objective, inner_lr)
        if not isinstance(result, (list, tuple)) or len(result) != len(params.arrays):
            raise WrongShape(f"a {type(result).__name__}: return a list of {len(params.arrays)} tensors, one per "
                             "parameter, each with the task axis first")
        arrays = [np.asarray(r, np.float64) for r in result]
        for a, p in zip(arrays, params.arrays, strict=True):
            if a.shape != p.shape:
                raise WrongShape(f"a parameter of shape {a.shape}, expected {p.shape} (keep the task axis)")
        return np.concatenate([a.reshape(a.shape[0], -1) for a in arrays], axis=1)

    run_check(call, _inner_cases(), diagnoses=(_diagnose_inner,), name="inner_step", rtol=_RTOL, atol=_ATOL,
              quiet=quiet)
