"""Policy gradients for batched continuous-control tasks: trajectories, reward-to-go, baselines, REINFORCE.

Shapes: T tasks, N trajectories a task, H steps a trajectory (the horizon). A batch of
trajectories is a :class:`Trajectories` of ``[T, N, H, …]`` tensors, sampled by
:func:`sample_trajectories` with every trajectory of every task stepping at once.

**Reward-to-go** (:func:`reward_to_go`): Ĝ_t = Σ_{t' ≥ t} γ^{t'−t} r_{t'} — the return *from*
step t on. REINFORCE weighs log π(a_t | s_t) by Ĝ_t, not by the whole return Σ_t r_t: rewards
before t do not depend on a_t, so dropping them keeps the gradient unbiased and removes noise.

**Baseline** (:func:`linear_feature_baseline`): b(s_t) = φ(s_t, t)ᵀ w, fitted per task by ridge
regression of Ĝ_t on the features φ = [s, s², t/100, (t/100)², (t/100)³, 1] of that task's own
trajectories (the linear feature baseline of rllab, which the MAML code uses). Subtracting it
leaves the gradient's expectation unchanged (E[∇log π(a|s)] = 0) and cuts its variance.

**REINFORCE** (:func:`reinforce_surrogate`): with advantages Â_t = Ĝ_t − b(s_t) (standardised
per task, as rllab does, with :func:`normalize_advantages`), the surrogate ::

    Ĵ(θ) = (1 / #steps) Σ_{n, t alive} log π_θ(a_{nt} | s_{nt}) · Â_{nt}

has ∇Ĵ(θ) = the policy-gradient estimate; gradient *ascent* θ ← θ + α∇Ĵ improves the return.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import tensorflow as tf

from metalearn_lib.rl.gaussian_policy import GaussianPolicyParams, policy_mean, sample_gaussian_actions
from metalearn_lib.rl.sampling import derive_seed

__all__ = [
    "Trajectories",
    "baseline_features",
    "linear_feature_baseline",
    "normalize_advantages",
    "reinforce_surrogate",
    "reward_to_go",
    "sample_trajectories",
]


class Trajectories(NamedTuple):
    """N trajectories of each of T tasks, H steps each.

    Attributes:
        observations: ``[T, N, H, O]`` s_t, the observation each action was taken in.
        actions: ``[T, N, H, A]`` a_t as sampled (before the environment clips them).
        rewards: ``[T, N, H]`` r_t, 0 after the episode ended.
        masks: ``[T, N, H]`` 1.0 for the steps that happened (up to and including the step
            where the episode ended), 0.0 after.
    """

    observations: tf.Tensor
    actions: tf.Tensor
    rewards: tf.Tensor
    masks: tf.Tensor


def sample_trajectories(policy: GaussianPolicyParams, env: Any, tasks: Any, num_trajectories: int,
                        seed: tf.Tensor) -> Trajectories:
    """Roll out ``num_trajectories`` trajectories of every task with a Gaussian policy, all at once.

    ``env`` is batched and functional: ``reset(tasks, N) -> (state, observations [T, N, O])`` and
    ``step(tasks, state, actions [T, N, A], t, seed) -> (state, observations, rewards [T, N],
    dones [T, N])`` (e.g. :class:`metalearn_lib.maml_rl.navigation.PointNavigation`). The action
    at step t is a_t = μ_θ(s_t) + σ ⊙ ε_t, ε_t from ``derive_seed(seed, t)``; the environment's
    step uses ``derive_seed(seed, H + t)``. ``policy`` may be shared or per task. A ``tf.range``
    loop over the horizon (call inside a ``tf.function``); no gradient flows through sampling.
    """
    policy = tf.nest.map_structure(tf.stop_gradient, policy)
    state, obs = env.reset(tasks, num_trajectories)
    dtype = obs.dtype
    horizon = env.horizon
    log_std = policy.log_std[:, tf.newaxis, :] if policy.log_std.shape.rank == 2 else policy.log_std
    arrays = [tf.TensorArray(dtype, size=horizon) for _ in range(4)]
    alive = tf.ones(tf.shape(obs)[:2], dtype)
    for t in tf.range(horizon):
        mean = policy_mean(policy, obs)
        actions = sample_gaussian_actions(mean, log_std, derive_seed(seed, t))
        new_state, new_obs, rewards, dones = env.step(tasks, state, actions, t, derive_seed(seed, horizon + t))
        arrays = [a.write(t, v) for a, v in zip(arrays, (obs, actions, rewards * alive, alive), strict=True)]
        alive = alive * (1.0 - tf.cast(dones, dtype))
        state, obs = new_state, new_obs
    obs_t, act_t, rew_t, mask_t = (a.stack() for a in arrays)  # time first
    return Trajectories(observations=tf.transpose(obs_t, [1, 2, 0, 3]), actions=tf.transpose(act_t, [1, 2, 0, 3]),
                        rewards=tf.transpose(rew_t, [1, 2, 0]), masks=tf.transpose(mask_t, [1, 2, 0]))


def reward_to_go(rewards: tf.Tensor, discount: float = 1.0) -> tf.Tensor:
    """Ĝ_t = Σ_{t' ≥ t} γ^{t'−t} r_{t'} along the last axis (one matrix product: Ĝ = r Γ with
    Γ_{t' t} = γ^{t'−t} for t' ≥ t, else 0). Rewards after an episode's end must already be 0."""
    rewards = tf.convert_to_tensor(rewards)
    horizon = rewards.shape[-1]
    steps = tf.range(horizon, dtype=rewards.dtype)
    lag = steps[:, tf.newaxis] - steps[tf.newaxis, :]  # t' − t
    gamma = tf.constant(discount, rewards.dtype)  # (tf.cast of a Python float would round it to float32 first)
    weights = tf.where(lag >= 0, tf.pow(gamma, tf.maximum(lag, 0.0)), tf.zeros_like(lag))
    return tf.einsum("...s,st->...t", rewards, weights)


def baseline_features(observations: tf.Tensor, time_scale: float = 100.0) -> tf.Tensor:
    """φ(s_t, t) = [s, s², t/c, (t/c)², (t/c)³, 1] with s clipped to [−10, 10] and c = ``time_scale``:
    ``[..., H, O]`` → ``[..., H, 2O + 4]``."""
    obs = tf.clip_by_value(observations, -10.0, 10.0)
    steps = tf.range(obs.shape[-2], dtype=obs.dtype) / time_scale
    times = tf.broadcast_to(steps[:, tf.newaxis], tf.concat([tf.shape(obs)[:-1], [1]], axis=0))
    return tf.concat([obs, tf.square(obs), times, times ** 2, times ** 3, tf.ones_like(times)], axis=-1)


def linear_feature_baseline(observations: tf.Tensor, returns: tf.Tensor, masks: tf.Tensor, *,
                            reg_coeff: float = 1e-5) -> tf.Tensor:
    """b = φ w_i with w_i = argmin Σ_{n,t alive} (φ_{nt}ᵀ w − Ĝ_{nt})² + λ‖w‖², one fit per task.

    Args:
        observations: ``[T, N, H, O]``.
        returns: ``[T, N, H]`` the targets Ĝ_t.
        masks: ``[T, N, H]`` which steps count.
        reg_coeff: λ > 0 (rllab's 1e-5).

    Returns:
        ``[T, N, H]`` the baseline values (held constant: no gradient).
    """
    features = baseline_features(observations) * masks[..., tf.newaxis]
    num_tasks = tf.shape(features)[0]
    size = features.shape[-1]
    # in float64: with thousands of rows, λ = 1e-5 is below float32's resolution of the Gram
    # matrix, which is singular when a nearly deterministic policy repeats the same trajectory
    x = tf.cast(tf.reshape(features, [num_tasks, -1, size]), tf.float64)
    y = tf.cast(tf.reshape(returns * masks, [num_tasks, -1, 1]), tf.float64)
    gram = tf.matmul(x, x, transpose_a=True) + reg_coeff * tf.eye(size, dtype=tf.float64)
    weights = tf.linalg.solve(gram, tf.matmul(x, y, transpose_a=True))  # [T, F, 1]
    values = tf.cast(tf.reshape(tf.matmul(x, weights), tf.shape(returns)), returns.dtype)
    return tf.stop_gradient(values * masks)


def normalize_advantages(advantages: tf.Tensor, masks: tf.Tensor, epsilon: float = 1e-8) -> tf.Tensor:
    """(Â − mean) / (std + ε) over each task's alive steps (axes N, H), 0 where the mask is 0."""
    count = tf.reduce_sum(masks, axis=[-2, -1], keepdims=True)
    mean = tf.reduce_sum(advantages * masks, axis=[-2, -1], keepdims=True) / count
    var = tf.reduce_sum(tf.square(advantages - mean) * masks, axis=[-2, -1], keepdims=True) / count
    return (advantages - mean) / (tf.sqrt(var) + epsilon) * masks


def reinforce_surrogate(log_probs: tf.Tensor, advantages: tf.Tensor, masks: tf.Tensor) -> tf.Tensor:
    """Ĵ_i(θ) = Σ_{n,t} m_{nt} log π_θ(a_{nt} | s_{nt}) Â_{nt} / Σ_{n,t} m_{nt}, one per task: ``[T, N, H]`` → ``[T]``.

    Â is held constant; ∇Ĵ_i is task i's policy-gradient estimate (ascend it).
    """
    advantages = tf.stop_gradient(advantages)
    return tf.reduce_sum(log_probs * advantages * masks, axis=[-2, -1]) / tf.reduce_sum(masks, axis=[-2, -1])
