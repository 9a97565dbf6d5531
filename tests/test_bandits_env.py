"""Chapter 5's task distribution: Bernoulli bandits as tensors, batched pulls, a Gymnasium env."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import tensorflow as tf
from gymnasium.utils.env_checker import check_env

from metalearn_lib.bandits import BernoulliBanditEnv, BernoulliBandits, expected_max_mean, pull

# ----------------------------------------------------------------------------------------------
# the task distribution
# ----------------------------------------------------------------------------------------------


def test_sample_means_shape_range_and_dtype():
    means = BernoulliBandits(5).sample_means(1000, seed=0)
    assert means.shape == (1000, 5) and means.dtype == tf.float32
    assert float(tf.reduce_min(means)) >= 0.0 and float(tf.reduce_max(means)) <= 1.0
    # U[0, 1]: mean 1/2, variance 1/12
    assert abs(float(tf.reduce_mean(means)) - 0.5) < 0.01
    assert abs(float(tf.math.reduce_variance(means)) - 1 / 12) < 0.005
    assert BernoulliBandits(3).sample_means(4, seed=0, dtype=tf.float64).dtype == tf.float64


def test_sample_means_respects_a_narrower_range():
    means = BernoulliBandits(4, low=0.2, high=0.3).sample_means(500, seed=1).numpy()
    assert means.min() >= 0.2 and means.max() <= 0.3


def test_sample_means_is_deterministic_and_the_same_inside_tf_function():
    bandits = BernoulliBandits(5)
    eager = bandits.sample_means(64, seed=7).numpy()
    np.testing.assert_array_equal(eager, bandits.sample_means(64, seed=7).numpy())
    assert not np.array_equal(eager, bandits.sample_means(64, seed=8).numpy())

    @tf.function
    def compiled(seed):
        return bandits.sample_means(64, seed=seed)

    np.testing.assert_array_equal(eager, compiled(tf.constant([7, 0])).numpy())  # int s ≡ pair [s, 0]


def test_expected_max_mean_formula_and_monte_carlo():
    assert expected_max_mean(1) == pytest.approx(0.5)
    assert expected_max_mean(5) == pytest.approx(5 / 6)
    assert expected_max_mean(2, 0.2, 0.4) == pytest.approx(0.2 + 0.2 * 2 / 3)
    means = BernoulliBandits(5).sample_means(20000, seed=3).numpy()
    assert means.max(axis=1).mean() == pytest.approx(5 / 6, abs=0.005)
    assert BernoulliBandits(10).expected_best(100) == pytest.approx(100 * 10 / 11)


@pytest.mark.parametrize("kwargs, name", [
    ({"num_arms": 0}, "num_arms"),
    ({"num_arms": 3, "low": -0.1}, "low"),
    ({"num_arms": 3, "low": 0.5, "high": 0.5}, "low and high"),
    ({"num_arms": 3, "high": 1.5}, "low and high"),
])
def test_bad_distributions_are_refused(kwargs, name):
    with pytest.raises(ValueError, match=name):
        BernoulliBandits(**kwargs)


def test_bad_arguments_name_themselves():
    with pytest.raises(TypeError, match="num_arms"):
        BernoulliBandits(2.5)
    with pytest.raises(ValueError, match="num_bandits"):
        BernoulliBandits(3).sample_means(0, seed=0)
    with pytest.raises(ValueError, match="num_pulls"):
        BernoulliBandits(3).expected_best(0)
    with pytest.raises(ValueError, match="num_arms"):
        expected_max_mean(0)


# ----------------------------------------------------------------------------------------------
# batched pulls
# ----------------------------------------------------------------------------------------------


def test_pull_frequencies_match_the_means():
    means = tf.constant([[0.1, 0.5, 0.9]] * 20000, dtype=tf.float64)
    for arm, p in enumerate((0.1, 0.5, 0.9)):
        actions = tf.fill([20000], arm)
        rewards = pull(means, actions, seed=tf.constant([5, arm])).numpy()
        assert set(np.unique(rewards)) <= {0.0, 1.0}
        assert rewards.dtype == np.float64
        assert rewards.mean() == pytest.approx(p, abs=4 * np.sqrt(p * (1 - p) / 20000))


def test_pull_is_deterministic_given_the_seed_and_works_in_tf_function():
    means = BernoulliBandits(4).sample_means(256, seed=0)
    actions = tf.constant(np.arange(256) % 4, dtype=tf.int32)
    first = pull(means, actions, seed=11).numpy()
    np.testing.assert_array_equal(first, pull(means, actions, seed=11).numpy())
    compiled = tf.function(lambda s: pull(means, actions, s))
    np.testing.assert_array_equal(first, compiled(tf.constant([11, 0])).numpy())


def test_pull_edge_means_are_certain():
    means = tf.constant([[0.0, 1.0]] * 50)
    assert float(tf.reduce_sum(pull(means, tf.zeros([50], tf.int32), seed=0))) == 0.0
    assert float(tf.reduce_sum(pull(means, tf.ones([50], tf.int32), seed=0))) == 50.0


def test_pull_refuses_bad_shapes():
    means = tf.zeros([4, 3])
    with pytest.raises(ValueError, match="means"):
        pull(tf.zeros([4]), tf.zeros([4], tf.int32), seed=0)
    with pytest.raises(ValueError, match="actions"):
        pull(means, tf.zeros([4, 1], tf.int32), seed=0)
    with pytest.raises(ValueError, match="actions"):
        pull(means, tf.zeros([4]), seed=0)


# ----------------------------------------------------------------------------------------------
# the Gymnasium environment
# ----------------------------------------------------------------------------------------------


def test_the_env_passes_gymnasiums_checker():
    with warnings.catch_warnings():
        # "Not able to test alternative render modes ... not having a spec": the env has no renderer
        warnings.filterwarnings("ignore", message=".*render modes.*", category=UserWarning)
        check_env(BernoulliBanditEnv(num_arms=5, num_pulls=10))


def test_an_episode_lasts_num_pulls_and_reports_regret():
    env = BernoulliBanditEnv(num_arms=3, num_pulls=4)
    obs, info = env.reset(seed=0, options={"means": [0.2, 0.9, 0.5]})
    assert obs.shape == (1,) and obs[0] == 0.0 and info["best_arm"] == 1
    for t in range(4):
        obs, reward, terminated, truncated, info = env.step(0)
        assert reward in (0.0, 1.0) and not truncated
        assert obs[0] == pytest.approx((t + 1) / 4)
        assert info["regret"] == pytest.approx(0.7)
        assert terminated == (t == 3)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(0)


def test_env_reset_is_deterministic_given_the_seed():
    env = BernoulliBanditEnv(num_arms=5)
    _, first = env.reset(seed=3)
    rewards = [env.step(i % 5)[1] for i in range(10)]
    _, again = env.reset(seed=3)
    np.testing.assert_array_equal(first["means"], again["means"])
    assert rewards == [env.step(i % 5)[1] for i in range(10)]
    assert np.all((first["means"] >= 0) & (first["means"] <= 1))


def test_env_reward_frequency_matches_the_mean():
    env = BernoulliBanditEnv(num_arms=2, num_pulls=4000)
    env.reset(seed=1, options={"means": [0.3, 0.8]})
    rewards = [env.step(1)[1] for _ in range(4000)]
    assert np.mean(rewards) == pytest.approx(0.8, abs=4 * np.sqrt(0.16 / 4000))


def test_env_refuses_bad_arguments():
    with pytest.raises(ValueError, match="num_arms"):
        BernoulliBanditEnv(num_arms=0)
    with pytest.raises(ValueError, match="num_pulls"):
        BernoulliBanditEnv(num_pulls=0)
    env = BernoulliBanditEnv(num_arms=3)
    with pytest.raises(ValueError, match="means"):
        env.reset(options={"means": [0.5, 1.5, 0.1]})
    with pytest.raises(ValueError, match="means"):
        env.reset(options={"means": [0.5, 0.1]})
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action"):
        env.step(3)
