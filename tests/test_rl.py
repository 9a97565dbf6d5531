"""Tests for metalearn_lib.rl: GAE, the GRU actor-critic, the A2C loss, checkpoints and resuming."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
import tensorflow as tf

from metalearn_lib import seed_everything
from metalearn_lib.rl import (
    A2CConfig,
    BatchedEpisodicEnv,
    Checkpoint,
    StatefulEpisodicEnv,
    a2c_loss,
    actor_critic_step,
    agent_input_size,
    agent_inputs,
    check_env,
    derive_seed,
    discounted_returns,
    gae,
    init_recurrent_actor_critic,
    load_checkpoint,
    rollout,
    sample_actions,
    save_checkpoint,
    train_a2c,
    unroll_actor_critic,
)
from metalearn_lib.tasks import uniform01


@pytest.fixture(autouse=True)
def _seed() -> None:
    seed_everything(0)


@dataclass(frozen=True)
class GuessTheArm:
    """A toy environment: each task hides one of A arms; reward 1 for pulling it.

    The observation is a constant 1 (to exercise a non-empty observation); an "episode" is
    ``episode_length`` steps, so a trial of ``horizon`` steps holds several.
    """

    num_actions: int = 3
    horizon: int = 6
    episode_length: int = 3
    observation_size: int = 1

    def sample_tasks(self, num_tasks: int, seed) -> tf.Tensor:
        u = uniform01([num_tasks], derive_seed(seed, 7), tf.float32)
        return tf.cast(u * self.num_actions, tf.int32)

    def initial_observations(self, tasks: tf.Tensor) -> tf.Tensor:
        return tf.ones([tf.shape(tasks)[0], 1])

    def step(self, tasks, actions, t, seed):
        rewards = tf.cast(tf.equal(actions, tasks), tf.float32)
        done = tf.cast(tf.equal((t + 1) % self.episode_length, 0), tf.float32)
        return rewards, tf.ones([tf.shape(tasks)[0], 1]), tf.fill(tf.shape(rewards), done)

    def expected_rewards(self, tasks, actions):
        return tf.cast(tf.equal(actions, tasks[:, tf.newaxis]), tf.float32)  # rewards are deterministic here


@dataclass(frozen=True)
class GuessTheArmNoMeans:
    """The toy environment without ``expected_rewards``."""

    num_actions: int = 3
    horizon: int = 6
    observation_size: int = 1
    sample_tasks = GuessTheArm.sample_tasks
    initial_observations = GuessTheArm.initial_observations

    def step(self, tasks, actions, t, seed):
        return GuessTheArm.step(GuessTheArm(), tasks, actions, t, seed)


@dataclass(frozen=True)
class WalkToTheEnd:
    """A toy stateful environment: a line of ``length`` cells, start at 0; action 1 moves right,
    action 0 stays; reward 1 on reaching the last cell (then back to 0). The observation is the
    one-hot of the cell, which a stateless ``step`` could not know."""

    num_actions: int = 2
    horizon: int = 8
    length: int = 3
    episode_length: int = 4

    @property
    def observation_size(self) -> int:
        return self.length

    def sample_tasks(self, num_tasks: int, seed) -> tf.Tensor:
        return tf.zeros([num_tasks], tf.int32)

    def initial_observations(self, tasks):
        return tf.one_hot(tf.zeros_like(tasks), self.length)

    def initial_state(self, tasks):
        return tf.zeros_like(tasks)

    def transition(self, tasks, state, actions, t, seed):
        moved = tf.minimum(state + actions, self.length - 1)
        rewards = tf.cast(tf.equal(moved, self.length - 1), tf.float32)
        done = tf.fill(tf.shape(rewards), tf.cast(tf.equal((t + 1) % self.episode_length, 0), tf.float32))
        next_state = tf.where(done > 0, tf.zeros_like(moved), moved)
        return next_state, rewards, tf.one_hot(next_state, self.length), done

    def mean_rewards(self, tasks, state, actions):
        return tf.cast(tf.equal(tf.minimum(state + actions, self.length - 1), self.length - 1), tf.float32)


def test_a_stateful_env_threads_its_state_through_the_rollout() -> None:
    env = WalkToTheEnd()
    assert isinstance(env, StatefulEpisodicEnv) and not isinstance(env, BatchedEpisodicEnv)
    check_env(env)
    params = init_recurrent_actor_critic(agent_input_size(2, 3, use_done_flag=True), 8, 2, seed=0)
    for unroll in (True, False):
        _, ro = rollout(params, env, 64, seed=5, use_done_flag=True, unroll=unroll)
        actions, rewards = ro.actions.numpy(), ro.rewards.numpy()
        cell = np.zeros(64, dtype=int)
        for t in range(env.horizon):  # replay the walk from the actions alone
            cell = np.minimum(cell + actions[:, t], env.length - 1)
            np.testing.assert_array_equal(rewards[:, t], (cell == env.length - 1).astype(np.float32))
            if (t + 1) % env.episode_length == 0:
                cell[:] = 0
        assert 0 < rewards.mean() < 1  # some walks reach the end, some do not


def test_a_stateful_env_gives_its_mean_rewards_to_the_trainer() -> None:
    from metalearn_lib.rl import play_trial

    env = WalkToTheEnd()
    params = init_recurrent_actor_critic(agent_input_size(2, 3, use_done_flag=True), 8, 2, seed=0)
    tasks = env.sample_tasks(16, 0)
    seed = tf.constant([3, 0], tf.int64)
    plain = play_trial(params, env, tasks, seed, False, True, unroll=False)
    with_means = play_trial(params, env, tasks, seed, False, True, unroll=False, mean_rewards=True)
    assert plain.mean_rewards is None
    np.testing.assert_array_equal(with_means.actions, plain.actions)  # recording changes nothing else
    np.testing.assert_array_equal(with_means.mean_rewards, plain.rewards)  # deterministic rewards here
    config = A2CConfig(hidden_size=8, batch_size=16, expected_rewards=True, use_done_flag=True, jit_compile=False)
    result = train_a2c(env, config, num_iterations=4, iterations_per_call=2)
    assert result.rewards.shape == (4,)


def test_check_env_names_what_a_stateful_env_lacks() -> None:
    @dataclass(frozen=True)
    class NoInitialState:
        num_actions: int = 2
        horizon: int = 4
        observation_size: int = 3
        sample_tasks = WalkToTheEnd.sample_tasks
        initial_observations = WalkToTheEnd.initial_observations
        transition = WalkToTheEnd.transition

    with pytest.raises(TypeError, match="initial_state"):
        check_env(NoInitialState())


# --------------------------------------------------------------------------------------------
# GAE
# --------------------------------------------------------------------------------------------
def test_gae_matches_a_hand_computation() -> None:
    # γ = 0.9, λ = 0.8, V = (0.5, 0.4, 0.3), V_3 = 0.2, r = (1, 0, 1):
    # δ = (1 + 0.36 − 0.5, 0 + 0.27 − 0.4, 1 + 0.18 − 0.3) = (0.86, −0.13, 0.88)
    # Â_2 = 0.88, Â_1 = −0.13 + 0.72·0.88 = 0.5036, Â_0 = 0.86 + 0.72·0.5036 = 1.222592
    adv, ret = gae([[1.0, 0.0, 1.0]], [[0.5, 0.4, 0.3]], [0.2], gamma=0.9, lam=0.8)
    np.testing.assert_allclose(adv.numpy(), [[1.222592, 0.5036, 0.88]], rtol=1e-6)
    np.testing.assert_allclose(ret.numpy(), [[1.722592, 0.9036, 1.18]], rtol=1e-6)


def _gae_reference(r, v, boot, gamma, lam, d):
    """The textbook loop, one trajectory and one step at a time."""
    batch, steps = r.shape
    adv = np.zeros((batch, steps))
    for b in range(batch):
        running = 0.0
        for t in reversed(range(steps)):
            next_v = boot[b] if t == steps - 1 else v[b, t + 1]
            delta = r[b, t] + gamma * (1 - d[b, t]) * next_v - v[b, t]
            running = delta + gamma * lam * (1 - d[b, t]) * running
            adv[b, t] = running
    return adv


@pytest.mark.parametrize("lam", [0.0, 0.3, 0.95, 1.0])
def test_gae_matches_a_reference_loop(lam: float) -> None:
    rng = np.random.default_rng(1)
    r, v = rng.normal(size=(4, 9)), rng.normal(size=(4, 9))
    d = (rng.random((4, 9)) < 0.2).astype(float)
    boot = rng.normal(size=4)
    adv, ret = gae(r, v, boot, gamma=0.97, lam=lam, dones=d)
    expected = _gae_reference(r, v, boot, 0.97, lam, d)
    np.testing.assert_allclose(adv.numpy(), expected, atol=1e-12)
    np.testing.assert_allclose(ret.numpy(), expected + v, atol=1e-12)


def test_gae_limits_are_monte_carlo_and_td() -> None:
    rng = np.random.default_rng(2)
    r, v = rng.normal(size=(3, 5)), rng.normal(size=(3, 5))
    d = np.zeros((3, 5))
    d[:, 2] = 1.0
    g = discounted_returns(r, 0.9, 0.0, dones=d).numpy()
    adv1, ret1 = gae(r, v, 0.0, gamma=0.9, lam=1.0, dones=d)
    np.testing.assert_allclose(adv1.numpy(), g - v, atol=1e-12)  # λ = 1: G_t − V_t
    np.testing.assert_allclose(ret1.numpy(), g, atol=1e-12)
    adv0, _ = gae(r, v, 0.0, gamma=0.9, lam=0.0, dones=d)
    next_v = np.concatenate([v[:, 1:], np.zeros((3, 1))], axis=1)
    np.testing.assert_allclose(adv0.numpy(), r + 0.9 * (1 - d) * next_v - v, atol=1e-12)  # λ = 0: δ_t
    # G_t by hand for the first row's first episode: r0 + 0.9 r1 + 0.81 r2 (the episode ends at t = 2)
    assert g[0, 0] == pytest.approx(r[0, 0] + 0.9 * r[0, 1] + 0.81 * r[0, 2])


# --------------------------------------------------------------------------------------------
# the network
# --------------------------------------------------------------------------------------------
def test_step_and_unroll_shapes() -> None:
    params = init_recurrent_actor_critic(7, 16, 5, seed=0)
    assert [p.shape.as_list() for p in params] == [[7, 48], [16, 48], [48], [48], [16, 5], [5], [16, 1], [1]]
    h, logits, value = actor_critic_step(params, tf.zeros([4, 16]), tf.ones([4, 7]))
    assert h.shape == (4, 16) and logits.shape == (4, 5) and value.shape == (4,)
    assert np.all(np.abs(h.numpy()) < 1.0)  # a convex mix of tanh and the previous state
    logits_seq, values_seq, h_last = unroll_actor_critic(params, tf.ones([4, 3, 7]))
    assert logits_seq.shape == (4, 3, 5) and values_seq.shape == (4, 3) and h_last.shape == (4, 16)
    np.testing.assert_allclose(logits_seq[:, 0].numpy(), logits.numpy(), rtol=1e-6)
    # W_h is made of orthogonal blocks; the first policy is almost uniform
    w_h = params[1].numpy()[:, :16]
    np.testing.assert_allclose(w_h.T @ w_h, np.eye(16), atol=1e-5)
    assert np.abs(logits.numpy()).max() < 0.1


def test_init_is_deterministic_per_seed() -> None:
    a = init_recurrent_actor_critic(4, 8, 3, seed=5)
    b = init_recurrent_actor_critic(4, 8, 3, seed=5)
    c = init_recurrent_actor_critic(4, 8, 3, seed=6)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(a[0], c[0])


def test_agent_inputs_layout() -> None:
    x = agent_inputs(tf.fill([2, 1], 9.0), tf.constant([-1, 2]), tf.constant([0.0, 1.0]), tf.constant([0.0, 1.0]),
                     3, 10, 3, use_done_flag=True)
    np.testing.assert_allclose(x.numpy(), [[9, 0, 0, 0, 0, 0, 0.3], [9, 0, 0, 1, 1, 1, 0.3]], rtol=1e-6)
    assert agent_input_size(3, 1, use_done_flag=True) == 7 and agent_input_size(5) == 7


def test_sample_actions_follows_the_policy_and_is_deterministic() -> None:
    logits = tf.math.log(tf.tile([[0.1, 0.6, 0.3]], [20_000, 1]))
    actions = sample_actions(logits, 3).numpy()
    freq = np.bincount(actions, minlength=3) / len(actions)
    np.testing.assert_allclose(freq, [0.1, 0.6, 0.3], atol=0.015)
    np.testing.assert_array_equal(actions, sample_actions(logits, 3).numpy())
    compiled = tf.function(sample_actions, jit_compile=True)(logits, tf.constant([3, 0], tf.int64))
    assert np.mean(compiled.numpy() == actions) > 0.999  # XLA: the same draws up to CDF rounding


# --------------------------------------------------------------------------------------------
# the loss
# --------------------------------------------------------------------------------------------
def test_a2c_loss_gradient_matches_finite_differences() -> None:
    num_actions, hidden, batch, steps = 3, 3, 2, 3
    params = init_recurrent_actor_critic(agent_input_size(num_actions), hidden, num_actions, seed=1,
                                         dtype=tf.float64)
    params = [p + 0.3 * tf.cast(tf.sin(tf.range(tf.size(p), dtype=tf.float64) + i), tf.float64)
              * tf.ones_like(p) if p.shape.rank == 1 else p for i, p in enumerate(params)]  # non-zero biases
    params[4] = params[4] * 50.0  # a policy far from uniform
    rng = np.random.default_rng(0)
    inputs = tf.constant(rng.normal(size=(batch, steps, agent_input_size(num_actions))))
    actions = tf.constant(rng.integers(0, num_actions, size=(batch, steps)))
    advantages = tf.constant(rng.normal(size=(batch, steps)))
    returns = tf.constant(rng.normal(size=(batch, steps)))

    def loss_fn(ps):
        logits, values, _ = unroll_actor_critic(ps, inputs)
        return a2c_loss(logits, values, actions, advantages, returns, value_coef=0.7, entropy_coef=0.2)[0]

    with tf.GradientTape() as tape:
        tape.watch(params)
        loss = loss_fn(params)
    grads = tape.gradient(loss, params)
    eps = 1e-6
    for k, p in enumerate(params):
        fd = np.zeros(p.shape)
        for idx in np.ndindex(*p.shape):
            delta = np.zeros(p.shape)
            delta[idx] = eps
            plus = [q + delta if j == k else q for j, q in enumerate(params)]
            minus = [q - delta if j == k else q for j, q in enumerate(params)]
            fd[idx] = (float(loss_fn(plus)) - float(loss_fn(minus))) / (2 * eps)
        np.testing.assert_allclose(grads[k].numpy(), fd, atol=1e-7, rtol=1e-5, err_msg=f"param {k}")


def test_a2c_loss_parts() -> None:
    logits = tf.math.log(tf.constant([[[0.5, 0.5], [0.9, 0.1]]], tf.float64))
    loss, parts = a2c_loss(logits, [[1.0, 2.0]], tf.constant([[0, 1]]), [[1.0, -2.0]], [[0.0, 0.0]],
                           value_coef=0.5, entropy_coef=0.1)
    policy = -(np.log(0.5) * 1.0 + np.log(0.1) * -2.0) / 2
    value = (0.5 * 1.0 + 0.5 * 4.0) / 2
    entropy = (np.log(2) - (0.9 * np.log(0.9) + 0.1 * np.log(0.1))) / 2
    assert float(parts["policy"]) == pytest.approx(policy)
    assert float(parts["value"]) == pytest.approx(value)
    assert float(parts["entropy"]) == pytest.approx(entropy)
    assert float(loss) == pytest.approx(policy + 0.5 * value - 0.1 * entropy)


# --------------------------------------------------------------------------------------------
# rollouts and training
# --------------------------------------------------------------------------------------------
def test_the_toy_env_follows_the_protocol_and_rollouts_agree() -> None:
    env = GuessTheArm()
    assert isinstance(env, BatchedEpisodicEnv)
    params = init_recurrent_actor_critic(agent_input_size(3, 1, use_done_flag=True), 8, 3, seed=0)
    tasks, ro = rollout(params, env, 5, seed=4, use_done_flag=True, unroll=True)
    _, ro_loop = rollout(params, env, 5, seed=4, use_done_flag=True, unroll=False)
    assert ro.actions.shape == (5, 6) and ro.logits.shape == (5, 6, 3)
    np.testing.assert_array_equal(ro.actions, ro_loop.actions)
    np.testing.assert_allclose(ro.logits.numpy(), ro_loop.logits.numpy(), rtol=1e-6)
    np.testing.assert_array_equal(ro.rewards, (ro.actions.numpy() == tasks.numpy()[:, None]).astype(np.float32))
    np.testing.assert_array_equal(ro.dones[0], [0, 0, 1, 0, 0, 1])


CONFIG = A2CConfig(hidden_size=8, batch_size=16, learning_rate=1e-2, entropy_coef=0.05, entropy_coef_final=0.0,
                   entropy_anneal_iterations=10, use_done_flag=True, seed=3)


def test_training_learns_the_toy_task() -> None:
    result = train_a2c(GuessTheArm(), A2CConfig(hidden_size=16, batch_size=64, learning_rate=1e-2, seed=0),
                       num_iterations=300, iterations_per_call=100)
    # random play scores 6/3 = 2; remembering the rewarded arm scores up to 6 − (expected misses)
    assert result.rewards[:20].mean() < 2.6
    assert result.rewards[-50:].mean() > 4.0
    assert result.rewards.shape == (300,) and result.iterations_per_s > 0


@pytest.mark.parametrize("jit_compile", [True, False])
def test_checkpoint_resume_is_bit_identical(tmp_path, jit_compile: bool) -> None:
    env = GuessTheArm()
    config = A2CConfig(**{**CONFIG.to_dict(), "jit_compile": jit_compile})
    whole = train_a2c(env, config, num_iterations=10, iterations_per_call=3)
    first = train_a2c(env, config, num_iterations=6, iterations_per_call=3, extra={"note": "toy"})
    save_checkpoint(tmp_path / "ckpt.npz", first.checkpoint)
    loaded = load_checkpoint(tmp_path / "ckpt.npz")
    assert loaded.iteration == 6 and loaded.config == config and loaded.extra == {"note": "toy"}
    second = train_a2c(env, num_iterations=4, resume=loaded, iterations_per_call=3)
    assert second.checkpoint.iteration == 10
    for a, b in zip(whole.params, second.params, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_array_equal(whole.rewards[6:], second.rewards)
    np.testing.assert_array_equal(whole.checkpoint.adam_state.v[0], second.checkpoint.adam_state.v[0])


def test_checkpoint_round_trip_and_weights_only(tmp_path) -> None:
    params = init_recurrent_actor_critic(5, 4, 3, seed=0)
    from metalearn_lib.optim import adam_init

    state = adam_init(params)
    state = state._replace(step=tf.constant(7, tf.int64), m=[m + 0.5 for m in state.m])
    ckpt = Checkpoint(params, state, 7, CONFIG, {"k": 3})
    save_checkpoint(tmp_path / "a.npz", ckpt)
    back = load_checkpoint(tmp_path / "a.npz")
    assert back.iteration == 7 and back.config == CONFIG and back.extra == {"k": 3}
    assert int(back.adam_state.step) == 7
    for x, y in zip([*params, *state.m], [*back.params, *back.adam_state.m], strict=True):
        np.testing.assert_array_equal(x.numpy(), y.numpy())
    save_checkpoint(tmp_path / "w.npz", ckpt, include_optimizer=False)
    weights = load_checkpoint(tmp_path / "w.npz")
    assert int(weights.adam_state.step) == 0
    assert (tmp_path / "w.npz").stat().st_size < (tmp_path / "a.npz").stat().st_size


def test_expected_rewards_equal_sampled_ones_when_rewards_are_deterministic() -> None:
    env = GuessTheArm()
    config = A2CConfig(**{**CONFIG.to_dict(), "jit_compile": False})
    sampled = train_a2c(env, config, num_iterations=4, iterations_per_call=2)
    expected = train_a2c(env, A2CConfig(**{**config.to_dict(), "expected_rewards": True}), num_iterations=4,
                         iterations_per_call=2)
    for a, b in zip(sampled.params, expected.params, strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-7)
    assert not np.array_equal(sampled.params[0].numpy(), init_recurrent_actor_critic(
        agent_input_size(3, 1, use_done_flag=True), 8, 3, seed=3)[0].numpy())


def test_expected_rewards_need_the_environment_method() -> None:
    assert isinstance(GuessTheArmNoMeans(), BatchedEpisodicEnv)
    config = A2CConfig(**{**CONFIG.to_dict(), "use_done_flag": False, "expected_rewards": True})
    with pytest.raises(TypeError, match="expected_rewards"):
        train_a2c(GuessTheArmNoMeans(), config, num_iterations=1)
    with pytest.raises(TypeError, match="expected_rewards"):
        A2CConfig(expected_rewards=1)


def test_a_task_baseline_needs_a_stateful_environment_with_oracle_values() -> None:
    config = A2CConfig(**{**CONFIG.to_dict(), "task_baseline": True})
    with pytest.raises(TypeError, match="oracle_values"):
        train_a2c(GuessTheArm(), config, num_iterations=1)
    with pytest.raises(TypeError, match="task_baseline"):
        A2CConfig(task_baseline="yes")


def test_entropy_schedule() -> None:
    assert CONFIG.entropy_coef_at(0).numpy() == pytest.approx(0.05)
    assert CONFIG.entropy_coef_at(5).numpy() == pytest.approx(0.025)
    assert CONFIG.entropy_coef_at(50).numpy() == pytest.approx(0.0)
    assert A2CConfig(entropy_coef=0.2).entropy_coef_at(10) == 0.2


def test_learning_rate_schedule_follows_the_entropy_schedule() -> None:
    config = A2CConfig(**{**CONFIG.to_dict(), "learning_rate_final": 0.0})
    assert config.learning_rate_at(0).numpy() == pytest.approx(1e-2)
    assert config.learning_rate_at(5).numpy() == pytest.approx(5e-3)
    assert config.learning_rate_at(50).numpy() == pytest.approx(0.0)
    assert CONFIG.learning_rate_at(7) == 1e-2  # None: constant
    with pytest.raises(ValueError, match="learning_rate_final"):
        A2CConfig(learning_rate_final=-1.0)


def test_a_learning_rate_decayed_to_zero_stops_training() -> None:
    # η falls from 1e-2 to 0 over 1 iteration: the first step moves θ, every later one leaves it where it is
    config = A2CConfig(**{**CONFIG.to_dict(), "learning_rate_final": 0.0, "entropy_anneal_iterations": 1,
                          "jit_compile": False})
    one = train_a2c(GuessTheArm(), config, num_iterations=1, iterations_per_call=1)
    three = train_a2c(GuessTheArm(), config, num_iterations=3, iterations_per_call=1)
    constant = train_a2c(GuessTheArm(), A2CConfig(**{**config.to_dict(), "learning_rate_final": None}),
                         num_iterations=3, iterations_per_call=1)
    for a, b in zip(one.params, three.params, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert not all(np.array_equal(np.asarray(a), np.asarray(c)) for a, c in zip(one.params, constant.params,
                                                                                strict=True))


# --------------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"hidden_size": 0}, ValueError, "hidden_size"),
        ({"batch_size": 2.5}, TypeError, "batch_size"),
        ({"learning_rate": -1.0}, ValueError, "learning_rate"),
        ({"gamma": 1.5}, ValueError, "gamma"),
        ({"lam": -0.1}, ValueError, "lam"),
        ({"entropy_coef": float("nan")}, ValueError, "entropy_coef"),
        ({"max_grad_norm": 0.0}, ValueError, "max_grad_norm"),
        ({"jit_compile": 1}, TypeError, "jit_compile"),
        ({"seed": -1}, ValueError, "seed"),
    ],
)
def test_config_validation(kwargs, error, name) -> None:
    with pytest.raises(error, match=name):
        A2CConfig(**kwargs)


def test_argument_errors_name_the_argument(tmp_path) -> None:
    with pytest.raises(ValueError, match="gamma"):
        gae([[1.0]], [[0.0]], 0.0, gamma=2.0, lam=0.5)
    with pytest.raises(ValueError, match="rewards"):
        gae([1.0, 2.0], [1.0, 2.0], 0.0, gamma=0.9, lam=0.5)
    with pytest.raises(ValueError, match="input_size"):
        init_recurrent_actor_critic(0, 4, 2, seed=0)
    with pytest.raises(TypeError, match="seed"):
        init_recurrent_actor_critic(3, 4, 2, seed=1.5)
    params = init_recurrent_actor_critic(3, 4, 2, seed=0)
    with pytest.raises(ValueError, match="params"):
        actor_critic_step(params[:-1], tf.zeros([1, 4]), tf.zeros([1, 3]))
    with pytest.raises(ValueError, match="x must have shape"):
        actor_critic_step(params, tf.zeros([1, 4]), tf.zeros([1, 5]))
    with pytest.raises(TypeError, match="BatchedEpisodicEnv"):
        train_a2c(object(), num_iterations=1)
    with pytest.raises(ValueError, match="num_iterations"):
        train_a2c(GuessTheArm(), num_iterations=0)
    with pytest.raises(ValueError, match="do not fit"):
        rollout(params, GuessTheArm(), 2, seed=0)
    np.savez(tmp_path / "other.npz", x=np.zeros(2))
    with pytest.raises(ValueError, match="not a checkpoint"):
        load_checkpoint(tmp_path / "other.npz")
