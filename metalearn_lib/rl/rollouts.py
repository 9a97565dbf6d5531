"""Rollouts: one trial of every task of a batch, played by the recurrent actor-critic.

The trial loop runs as one batch (``[B, …]`` tensors, no Python loop over tasks), either unrolled
over a short static horizon or as a ``tf.range`` loop with ``TensorArray`` s for long ones, inside
the caller's ``tf.function``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import tensorflow as tf

from metalearn_lib.rl.environments import BatchedEpisodicEnv, check_env, env_transition
from metalearn_lib.rl.networks import (
    ActorCriticParams,
    agent_input_size,
    agent_inputs,
    as_actor_critic_params,
    gru_step,
)
from metalearn_lib.rl.sampling import derive_seed, sample_actions
from metalearn_lib.tasks import SeedLike, seed_pair
from metalearn_lib.validation import check_int

__all__ = ["Rollout", "play_trial", "rollout"]


class Rollout(NamedTuple):
    """One trial of every task of a batch (time on axis 1).

    Attributes:
        actions: ``[B, T]`` int32.
        rewards: ``[B, T]``.
        dones: ``[B, T]`` 1.0 where an episode ended at that step.
        logits: ``[B, T, A]`` policy logits.
        values: ``[B, T]`` V(h_t).
        mean_rewards: ``[B, T]`` E[r_t | task, s_t, a_t] when the trial was played with
            ``mean_rewards=True`` (a :class:`~metalearn_lib.rl.environments.StatefulEpisodicEnv`
            with ``mean_rewards``), else ``None``.
        task_values: ``[B, T]`` the environment's ``oracle_values`` at each step when played with
            ``task_values=True``, else ``None``.
    """

    actions: tf.Tensor
    rewards: tf.Tensor
    dones: tf.Tensor
    logits: tf.Tensor
    values: tf.Tensor
    mean_rewards: tf.Tensor | None = None
    task_values: tf.Tensor | None = None


def play_trial(params: ActorCriticParams, env: BatchedEpisodicEnv, tasks: Any, seed: tf.Tensor,
             greedy: bool, use_done_flag: bool, unroll: bool | None = None, mean_rewards: bool = False,
             task_values: bool = False) -> Rollout:
    """The trial loop, no argument checks.

    ``unroll``: a Python loop over the static horizon (one graph node per step) or a
    ``tf.range`` loop with ``TensorArray`` s; ``None`` unrolls horizons up to 16. ``mean_rewards``:
    also record E[r_t | task, s_t, a_t] from a stateful environment's ``mean_rewards(tasks, state,
    actions)`` (the actions and everything else are unchanged). ``task_values``: also record a
    stateful environment's ``oracle_values(tasks, state, t)`` at every step, before it is taken.
    """
    dtype = params.w_x.dtype
    obs = tf.cast(env.initial_observations(tasks), dtype)
    batch = tf.shape(obs)[0]
    h = tf.zeros([batch, params.hidden_size], dtype)
    prev_a = tf.fill([batch], -1)
    prev_r = tf.zeros([batch], dtype)
    prev_d = tf.zeros([batch], dtype)
    horizon = env.horizon
    if unroll is None:
        unroll = horizon <= 16
    state, transition = env_transition(env, tasks)  # () and env.step for a stateless environment

    def body(t: Any, h: tf.Tensor, state: Any, obs: tf.Tensor, prev_a: tf.Tensor, prev_r: tf.Tensor,
             prev_d: tf.Tensor) -> tuple[Any, ...]:
        x = agent_inputs(obs, prev_a, prev_r, prev_d, t, horizon, env.num_actions,
                         use_done_flag=use_done_flag, dtype=dtype)
        h, logits, value = gru_step(params, h, x)
        if greedy:
            action = tf.argmax(logits, axis=-1, output_type=tf.int32)
        else:
            action = sample_actions(tf.stop_gradient(logits), derive_seed(seed, 2 * t + 1))
        extra = (tf.cast(env.mean_rewards(tasks, state, action), dtype),) if mean_rewards else ()
        if task_values:
            extra = (*extra, tf.cast(env.oracle_values(tasks, state, t), dtype))
        state, reward, obs, done = transition(tasks, state, action, t, derive_seed(seed, 2 * t + 2))
        return (h, state, tf.cast(obs, dtype), action, tf.cast(reward, dtype), tf.cast(done, dtype), logits, value,
                *extra)

    fields = ("actions", "rewards", "dones", "logits", "values", *(("mean_rewards",) if mean_rewards else ()),
              *(("task_values",) if task_values else ()))
    if unroll:
        out: dict[str, list[tf.Tensor]] = {k: [] for k in fields}
        for t in range(horizon):
            h, state, obs, prev_a, prev_r, prev_d, logits, value, *extra = body(t, h, state, obs, prev_a, prev_r,
                                                                                prev_d)
            for k, v in zip(fields, (prev_a, prev_r, prev_d, logits, value, *extra), strict=True):
                out[k].append(v)
        return Rollout(**{k: tf.stack(out[k], axis=1) for k in fields})
    arrays = [tf.TensorArray(tf.int32 if k == "actions" else dtype, size=horizon) for k in fields]
    obs = tf.ensure_shape(obs, [None, env.observation_size])
    for t in tf.range(horizon):
        tf.autograph.experimental.set_loop_options(
            shape_invariants=[(obs, tf.TensorShape([None, env.observation_size]))])
        h, state, obs, prev_a, prev_r, prev_d, logits, value, *extra = body(t, h, state, obs, prev_a, prev_r, prev_d)
        arrays = [a.write(t, v) for a, v in zip(arrays, (prev_a, prev_r, prev_d, logits, value, *extra), strict=True)]
    stacked = [a.stack() for a in arrays]  # [T, B, ...]
    return Rollout(**{k: tf.transpose(s, [1, 0, 2] if s.shape.rank == 3 else [1, 0])
                      for k, s in zip(fields, stacked, strict=True)})


def rollout(
    params: Sequence[tf.Tensor],
    env: BatchedEpisodicEnv,
    num_tasks: int,
    seed: SeedLike,
    *,
    greedy: bool = False,
    use_done_flag: bool = False,
    tasks: Any = None,
    unroll: bool | None = None,
) -> tuple[Any, Rollout]:
    """Play one trial of ``num_tasks`` tasks with the agent (eagerly; wrap in ``tf.function`` for speed).

    Tasks are ``env.sample_tasks(num_tasks, derive_seed(seed, 0))`` unless ``tasks`` is given; the
    action at step t is drawn with ``derive_seed(seed, 2t + 1)`` (or is the arg-max with
    ``greedy=True``), the environment's step uses ``derive_seed(seed, 2t + 2)``. ``unroll`` as in
    :class:`A2CConfig`.

    Returns:
        ``(tasks, rollout)``.
    """
    check_env(env)
    params = as_actor_critic_params(params)
    num_tasks = check_int("num_tasks", num_tasks)
    pair = seed_pair(seed)
    if tasks is None:
        tasks = env.sample_tasks(num_tasks, derive_seed(pair, 0))
    expected = agent_input_size(env.num_actions, env.observation_size, use_done_flag=use_done_flag)
    if params.input_size != expected or params.num_actions != env.num_actions:
        raise ValueError(f"params do not fit this environment: inputs {params.input_size} (expected {expected}), "
                         f"actions {params.num_actions} (expected {env.num_actions})")
    return tasks, play_trial(params, env, tasks, pair, bool(greedy), bool(use_done_flag), unroll)
