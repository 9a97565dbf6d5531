"""Advantage actor-critic (A2C, Mnih et al. 2016) for the recurrent agent, trained in one compiled loop.

**The loss** (:func:`a2c_loss`): on a batch of B trials of T steps, advantages and returns held
constant, ::

    L(θ) = −(1/BT) Σ_{b,t} Â_{bt} log π_θ(a_{bt} | h_{bt})
           + c_v · (1/BT) Σ_{b,t} ½ (V_θ(h_{bt}) − R_{bt})²
           − c_H · (1/BT) Σ_{b,t} H(π_θ(· | h_{bt})),     H(π) = −Σ_a π(a) log π(a).

**Training** (:func:`train_a2c`): iteration i samples B tasks and rolls out one trial of each
with the stateless seed [seed, i] (every random number — tasks, actions, rewards — derives from
it), computes Â and R by :func:`~metalearn_lib.rl.advantages.gae`, the loss, and takes one Adam
step (:func:`metalearn_lib.optim.adam_update`). That ``one_iteration`` is all this module writes
of the loop: :func:`metalearn_lib.optim.compile_training_loop` compiles ``iterations_per_call``
of them into one ``tf.function`` call and :func:`metalearn_lib.optim.run_in_chunks` drives the
run. The hyperparameters are one :class:`A2CConfig`; recipes are made from it with
``dataclasses.replace``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import tensorflow as tf

from metalearn_lib.optim import AdamState, adam_init, adam_update, build_cached, compile_training_loop, run_in_chunks
from metalearn_lib.rl.advantages import check_batch_steps, check_discount, gae
from metalearn_lib.rl.checkpoints import Checkpoint
from metalearn_lib.rl.environments import BatchedEpisodicEnv, check_env
from metalearn_lib.rl.networks import (
    ActorCriticParams,
    agent_input_size,
    as_actor_critic_params,
    init_recurrent_actor_critic,
)
from metalearn_lib.rl.rollouts import play_trial
from metalearn_lib.rl.sampling import derive_seed
from metalearn_lib.validation import check_int, check_number

__all__ = ["A2CConfig", "TrainA2CResult", "a2c_loss", "train_a2c"]


def a2c_loss(
    logits: tf.Tensor,
    values: tf.Tensor,
    actions: tf.Tensor,
    advantages: tf.Tensor,
    returns: tf.Tensor,
    *,
    value_coef: float | tf.Tensor = 0.5,
    entropy_coef: float | tf.Tensor = 0.01,
) -> tuple[tf.Tensor, dict[str, tf.Tensor]]:
    """The advantage actor-critic loss of the module docstring, averaged over all B·T steps.

    L = −mean(Â log π(a)) + c_v · mean(½ (V − R)²) − c_H · mean(H(π)); ``advantages`` and
    ``returns`` are held constant (``tf.stop_gradient``).

    Args:
        logits: ``[B, T, A]`` policy logits.
        values: ``[B, T]`` value predictions.
        actions: ``[B, T]`` integer actions taken.
        advantages: ``[B, T]`` Â (e.g. from :func:`gae`).
        returns: ``[B, T]`` value targets R.
        value_coef: c_v ≥ 0.
        entropy_coef: c_H ≥ 0.

    Returns:
        ``(loss, {"policy": …, "value": …, "entropy": …})`` — the three means, before weighting.
    """
    logits = tf.convert_to_tensor(logits)
    if logits.shape.rank != 3:
        raise ValueError(f"logits must have shape [batch, steps, actions], got {logits.shape}")
    dtype = logits.dtype
    values = check_batch_steps("values", values, dtype)
    actions = tf.convert_to_tensor(actions)
    if not actions.dtype.is_integer or actions.shape.rank != 2:
        raise ValueError(f"actions must be an integer tensor of shape [batch, steps], got {actions.dtype.name} "
                         f"{actions.shape}")
    advantages = tf.stop_gradient(check_batch_steps("advantages", advantages, dtype))
    returns = tf.stop_gradient(check_batch_steps("returns", returns, dtype))
    log_probs = tf.nn.log_softmax(logits, axis=-1)
    log_pa = tf.gather(log_probs, actions, batch_dims=2)
    policy = -tf.reduce_mean(log_pa * advantages)
    value = tf.reduce_mean(0.5 * tf.square(values - returns))
    entropy = tf.reduce_mean(-tf.reduce_sum(tf.exp(log_probs) * log_probs, axis=-1))
    loss = policy + tf.cast(value_coef, dtype) * value - tf.cast(entropy_coef, dtype) * entropy
    return loss, {"policy": policy, "value": value, "entropy": entropy}


# --------------------------------------------------------------------------------------------
# training


@dataclass(frozen=True)
class A2CConfig:
    """Hyperparameters of :func:`train_a2c` (all checked on construction).

    Attributes:
        hidden_size: GRU width H.
        batch_size: trials (tasks) per iteration B.
        learning_rate: Adam's step size η at iteration 0.
        learning_rate_final: η after ``entropy_anneal_iterations`` (linear in between, on the entropy
            bonus's schedule); ``None``: constant ``learning_rate``.
        gamma, lam: discount γ and GAE λ, in [0, 1].
        value_coef: c_v ≥ 0.
        value_scale: s > 0, the critic's unit: during training the value head outputs v(h) and
            V(h) = s·v(h) enters GAE, while the value loss compares v with R / s. Long trials
            with γ near 1 have returns of tens, which a head starting at 0 and moving ~η per Adam
            step reaches only after thousands of iterations (meanwhile the advantages are noise);
            s ≈ the typical return makes the critic's targets O(1). The trained ``params`` of
            :class:`TrainA2CResult` have s folded into W_v, b_v (V in reward units); checkpoints
            keep the training parametrisation. s = 1 changes nothing.
        entropy_coef: c_H at iteration 0, ≥ 0.
        entropy_coef_final: c_H after ``entropy_anneal_iterations`` (linear in between);
            ``None``: constant ``entropy_coef``. The schedule depends on the absolute iteration
            only, so resumed runs follow it exactly.
        entropy_anneal_iterations: length of the linear anneal, ≥ 1; ``None``: the length of
            the run that starts training (:func:`train_a2c` fixes it then, so a resumed run keeps
            the first run's schedule).
        max_grad_norm: clip the gradient to this global norm (> 0); ``None``: no clipping.
        normalize_advantages: standardise Â over the batch (mean 0, std 1) before the loss.
        use_done_flag: feed the previous "episode ended" flag to the agent.
        expected_rewards: compute Â and R from E[r_t | task, a_t] (the environment's
            ``expected_rewards(tasks, actions)``) instead of the sampled r_t. The objective is
            unchanged — E[Σ_t E[r_t | task, a_t]] = E[Σ_t r_t] — but the returns lose the
            reward noise (Rao–Blackwellisation), so the policy gradient is less noisy. The agent
            still *sees* only the sampled rewards; only the trainer, which knows the task it
            drew, uses the means (like a critic with privileged information). Needs an
            environment that has the method — for a stateful environment (an MDP),
            ``mean_rewards(tasks, state, actions)``, E[r_t | task, s_t, a_t], read at every step.
        task_baseline: add a task-aware baseline b_t to the critic (stateful environments with
            ``oracle_values(tasks, state, t)``, e.g. the expected reward-to-go of the oracle that
            knows the MDP): GAE runs on V_t = b_t + s·v(h_t), and the critic learns the residual
            R_t − b_t. The trainer knows the task it drew, so b_t removes most of the between-task
            spread of the returns from the advantages (a rich MDP no longer makes every action look
            good); the agent's inputs are unchanged, and with λ = 1 the gradient stays unbiased
            (b_t does not depend on a_t). The trained value head then predicts the residual.
        seed: int ≥ 0, the seed of the initial parameters and of the stream [seed, iteration].
        jit_compile: compile the training chunk with XLA.
        unroll: run a trial as a Python loop over its steps (``True``) or as a ``tf.range``
            loop (``False``); ``None``: unroll horizons up to 16. Long unrolled trials compile
            slowly under XLA (n = 100: minutes, and run slower), the loop compiles in seconds.
    """

    hidden_size: int = 128
    batch_size: int = 256
    learning_rate: float = 1e-3
    learning_rate_final: float | None = None
    gamma: float = 0.99
    lam: float = 0.3
    value_coef: float = 0.5
    value_scale: float = 1.0
    entropy_coef: float = 0.01
    entropy_coef_final: float | None = None
    entropy_anneal_iterations: int | None = 1
    max_grad_norm: float | None = 1.0
    normalize_advantages: bool = False
    use_done_flag: bool = False
    expected_rewards: bool = False
    task_baseline: bool = False
    seed: int = 0
    jit_compile: bool = True
    unroll: bool | None = None

    def __post_init__(self) -> None:
        check_int("hidden_size", self.hidden_size)
        check_int("batch_size", self.batch_size)
        check_number("learning_rate", self.learning_rate)
        if self.learning_rate_final is not None:
            check_number("learning_rate_final", self.learning_rate_final, positive=False)
        check_discount(self.gamma, self.lam)
        check_number("value_coef", self.value_coef, positive=False)
        check_number("value_scale", self.value_scale)
        check_number("entropy_coef", self.entropy_coef, positive=False)
        if self.entropy_coef_final is not None:
            check_number("entropy_coef_final", self.entropy_coef_final, positive=False)
        if self.entropy_anneal_iterations is not None:
            check_int("entropy_anneal_iterations", self.entropy_anneal_iterations)
        if self.max_grad_norm is not None:
            check_number("max_grad_norm", self.max_grad_norm)
        for name in ("normalize_advantages", "use_done_flag", "expected_rewards", "task_baseline", "jit_compile"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be a bool, got {type(getattr(self, name)).__name__}")
        check_int("seed", self.seed, 0)
        if self.unroll is not None and not isinstance(self.unroll, bool):
            raise TypeError(f"unroll must be a bool or None, got {type(self.unroll).__name__}")

    def _annealed(self, start: float, final: float | None, iteration: int | tf.Tensor) -> float | tf.Tensor:
        """start + (final − start) · min(1, i / entropy_anneal_iterations); ``start`` when ``final`` is None."""
        if final is None:
            return start
        if self.entropy_anneal_iterations is None:
            raise ValueError("entropy_anneal_iterations is None: train_a2c sets it to the run's length")
        frac = tf.minimum(1.0, tf.cast(iteration, tf.float32) / float(self.entropy_anneal_iterations))
        return start + (final - start) * frac

    def entropy_coef_at(self, iteration: int | tf.Tensor) -> float | tf.Tensor:
        """c_H(i) = c_0 + (c_final − c_0) · min(1, i / entropy_anneal_iterations)."""
        return self._annealed(self.entropy_coef, self.entropy_coef_final, iteration)

    def learning_rate_at(self, iteration: int | tf.Tensor) -> float | tf.Tensor:
        """η(i) = η_0 + (η_final − η_0) · min(1, i / entropy_anneal_iterations)."""
        return self._annealed(self.learning_rate, self.learning_rate_final, iteration)

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-ready dict."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class TrainA2CResult:
    """What :func:`train_a2c` returns.

    Attributes:
        params: the trained parameters, value head in reward units (``config.value_scale``
            folded in).
        checkpoint: the final state (pass to :func:`train_a2c`'s ``resume`` or
            :func:`save_checkpoint`).
        rewards: ``[num_iterations]`` mean total reward of the batch's trials, per iteration.
        losses: ``[num_iterations]`` the A2C loss.
        entropies: ``[num_iterations]`` mean policy entropy (nats).
        wall_s: seconds spent (tracing and compiling included).
        iterations_per_s: ``num_iterations / wall_s``.
        config: the :class:`A2CConfig`.
    """

    params: ActorCriticParams
    checkpoint: Checkpoint
    rewards: np.ndarray
    losses: np.ndarray
    entropies: np.ndarray
    wall_s: float
    iterations_per_s: float
    config: A2CConfig


def _make_chunk(env: BatchedEpisodicEnv, config: A2CConfig) -> Callable[..., Any]:
    """The compiled ``run_chunk((params, adam), start, length) -> ((params, adam), metrics [length, 4])``."""
    batch_size = config.batch_size
    stateful = callable(getattr(env, "transition", None))

    def one_iteration(carry: tuple[ActorCriticParams, AdamState], iteration: tf.Tensor
                      ) -> tuple[tuple[ActorCriticParams, AdamState], tf.Tensor]:
        params, adam = carry
        seed = tf.stack([tf.constant(config.seed, tf.int64), iteration])
        tasks = env.sample_tasks(batch_size, derive_seed(seed, 0))
        with tf.GradientTape() as tape:
            tape.watch(params)
            ro = play_trial(params, env, tasks, seed, False, config.use_done_flag, config.unroll,
                            mean_rewards=config.expected_rewards and stateful, task_values=config.task_baseline)
            values = config.value_scale * tf.stop_gradient(ro.values)  # V = s·v
            if config.task_baseline:  # V = b + s·v
                values = values + tf.cast(ro.task_values, values.dtype)
            if not config.expected_rewards:
                train_rewards = ro.rewards
            else:  # E[r_t | task, a_t] (stateless) or E[r_t | task, s_t, a_t] (stateful)
                train_rewards = ro.mean_rewards if stateful else env.expected_rewards(tasks, ro.actions)
            adv, ret = gae(tf.cast(train_rewards, ro.values.dtype), values, 0.0, config.gamma, config.lam)
            if config.task_baseline:
                ret = ret - tf.cast(ro.task_values, ret.dtype)  # the critic learns R − b
            ret = ret / config.value_scale  # the critic's loss in its own unit
            if config.normalize_advantages:
                mean, var = tf.nn.moments(adv, axes=[0, 1])
                adv = (adv - mean) / (tf.sqrt(var) + 1e-8)
            loss, parts = a2c_loss(ro.logits, ro.values, ro.actions, adv, ret, value_coef=config.value_coef,
                                   entropy_coef=config.entropy_coef_at(iteration))
        grads = tape.gradient(loss, params)
        if config.max_grad_norm is not None:
            grads, _ = tf.clip_by_global_norm(grads, config.max_grad_norm)
        new_params, adam = adam_update(params, grads, adam, learning_rate=config.learning_rate_at(iteration))
        total = tf.reduce_mean(tf.reduce_sum(ro.rewards, axis=1))
        metrics = tf.stack([total, loss, parts["entropy"], parts["value"]])
        return (ActorCriticParams(*new_params), adam), metrics

    return compile_training_loop(one_iteration, jit_compile=config.jit_compile, metrics_dtype=tf.float32)


def train_a2c(
    env: BatchedEpisodicEnv,
    config: A2CConfig | None = None,
    *,
    num_iterations: int,
    resume: Checkpoint | None = None,
    iterations_per_call: int = 50,
    progress: bool = False,
    desc: str = "A2C",
    extra: dict[str, Any] | None = None,
) -> TrainA2CResult:
    """Train the recurrent actor-critic on ``env``'s tasks with A2C + GAE and Adam.

    Iteration i (counted from 0 over the whole run, resumptions included): seed s_i =
    [config.seed, i]; B = ``config.batch_size`` tasks from ``env.sample_tasks(B,
    derive_seed(s_i, 0))``; one trial of each (:func:`rollout` with seed s_i); Â, R from
    :func:`gae` with bootstrap 0 at the end of the trial (optionally standardised); θ ←
    Adam(θ, clip(∇_θ :func:`a2c_loss`)). ``iterations_per_call`` iterations run in one compiled
    call (XLA if ``config.jit_compile``).

    Args:
        env: a :class:`BatchedEpisodicEnv`.
        config: hyperparameters (ignored when resuming: the checkpoint's config is used).
        num_iterations: iterations to run now, ≥ 1.
        resume: continue from this checkpoint (its parameters, Adam state and iteration count).
        iterations_per_call: iterations per compiled call, ≥ 1.
        progress: show a ``tqdm.auto`` bar with the recent mean reward.
        desc: the progress bar's label.
        extra: JSON-ready metadata stored in the returned checkpoint (kept from ``resume`` if
            ``None``).

    Returns:
        A :class:`TrainA2CResult`.

    Raises:
        ValueError, TypeError: an argument out of range or of the wrong type, or a checkpoint
            whose parameters do not fit ``env``.
    """
    check_env(env)
    num_iterations = check_int("num_iterations", num_iterations)
    iterations_per_call = check_int("iterations_per_call", iterations_per_call)
    if resume is not None:
        if not isinstance(resume, Checkpoint):
            raise TypeError(f"resume must be a Checkpoint, got {type(resume).__name__}")
        config = resume.config
        params = as_actor_critic_params(resume.params)
        adam = resume.adam_state
        start = check_int("resume.iteration", resume.iteration, 0)
        extra = dict(resume.extra) if extra is None else extra
    else:
        config = A2CConfig() if config is None else config
        if not isinstance(config, A2CConfig):
            raise TypeError(f"config must be an A2CConfig, got {type(config).__name__}")
        if config.entropy_anneal_iterations is None:
            config = dataclasses.replace(config, entropy_anneal_iterations=num_iterations)
        params = init_recurrent_actor_critic(
            agent_input_size(env.num_actions, env.observation_size, use_done_flag=config.use_done_flag),
            config.hidden_size, env.num_actions, config.seed)
        adam = adam_init(params)
        start = 0
    expected = agent_input_size(env.num_actions, env.observation_size, use_done_flag=config.use_done_flag)
    if params.input_size != expected or params.num_actions != env.num_actions \
            or params.hidden_size != config.hidden_size:
        raise ValueError(f"the checkpoint's parameters do not fit this environment and config: inputs "
                         f"{params.input_size} (expected {expected}), actions {params.num_actions} "
                         f"(expected {env.num_actions}), hidden {params.hidden_size}")
    stateful = callable(getattr(env, "transition", None))
    method = "mean_rewards" if stateful else "expected_rewards"
    if config.task_baseline and not (stateful and callable(getattr(env, "oracle_values", None))):
        raise TypeError(f"config.task_baseline needs a stateful environment with an oracle_values(tasks, state, t) "
                        f"method; {type(env).__name__} has none")
    if config.expected_rewards and not callable(getattr(env, method, None)):
        signature = "mean_rewards(tasks, state, actions)" if stateful else "expected_rewards(tasks, actions)"
        raise TypeError(f"config.expected_rewards needs an environment with an {signature} method; "
                        f"{type(env).__name__} has none")
    run_chunk = build_cached(_make_chunk, env, config)  # the same (env, config) reuses its compiled chunk
    (params, adam), metrics, wall_s = run_in_chunks(
        run_chunk, (params, adam), num_iterations=num_iterations, start=start,
        iterations_per_call=iterations_per_call, progress=progress, desc=desc,
        postfix=lambda m: {"reward": f"{float(np.mean(m[:, 0])):.3f}"})
    checkpoint = Checkpoint(params, adam, start + num_iterations, config, dict(extra or {}))
    if config.value_scale != 1.0:  # fold s into the value head: V(h) = h (s·W_v) + s·b_v
        params = params._replace(w_v=params.w_v * config.value_scale, b_v=params.b_v * config.value_scale)
    return TrainA2CResult(params, checkpoint, metrics[:, 0], metrics[:, 1], metrics[:, 2], wall_s,
                          num_iterations / wall_s, config)
