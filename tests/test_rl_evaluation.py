"""Tests for the RL room's generic pieces: the evaluation harness, the protocols, recipes as configs."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from metalearn_lib.bandits.rl2 import RL2_CONFIG, BanditTrials, evaluate_rl2, train_rl2
from metalearn_lib.rl import (
    A2CConfig,
    ActorCriticParams,
    BatchedEpisodicEnv,
    ExpectedRewardsEnv,
    agent_input_size,
    evaluate_agent,
    init_recurrent_actor_critic,
    mean_ci95,
)


def test_mean_ci95_is_the_textbook_formula() -> None:
    values = np.array([1.0, 2.0, 4.0, 7.0])
    mean, ci = mean_ci95(values)
    assert mean == pytest.approx(3.5)
    assert ci == pytest.approx(1.96 * np.std(values, ddof=1) / 2.0)
    means, cis = mean_ci95(np.stack([values, 2 * values], axis=1))
    np.testing.assert_allclose(means, [3.5, 7.0])
    np.testing.assert_allclose(cis, [ci, 2 * ci])
    with pytest.raises(ValueError, match="at least 2"):
        mean_ci95([1.0])


def test_parameters_have_names_and_stay_a_nest() -> None:
    params = init_recurrent_actor_critic(agent_input_size(3), 4, 3, seed=0)
    assert isinstance(params, ActorCriticParams)
    assert params.w_pi.shape == (4, 3) and params.hidden_size == 4 and params.num_actions == 3
    assert len(tf.nest.flatten(params)) == 8
    with tf.GradientTape() as tape:
        tape.watch(params)
        loss = tf.reduce_sum(params.w_pi) + tf.reduce_sum(params.b_v)
    grads = tape.gradient(loss, params)
    assert isinstance(grads, ActorCriticParams) and float(tf.reduce_sum(grads.w_pi)) == 12.0


def test_bandit_trials_follow_both_protocols() -> None:
    env = BanditTrials(3, 5)
    assert isinstance(env, BatchedEpisodicEnv) and isinstance(env, ExpectedRewardsEnv)


def test_generic_harness_matches_the_bandit_wrapper() -> None:
    params = init_recurrent_actor_critic(agent_input_size(4), 8, 4, seed=2)
    env = BanditTrials(4, 6)
    generic = evaluate_agent(params, env, tasks=env.sample_tasks(300, 11), seed=11)
    wrapped = evaluate_rl2(params, 4, 6, num_bandits=300, seed=11)
    assert generic.mean_return == wrapped.mean_reward and generic.ci95 == wrapped.ci95
    np.testing.assert_array_equal(generic.rollout.actions, wrapped.actions)
    assert generic.step_mean.shape == (6,) and generic.step_ci95.shape == (6,)
    assert generic.step_mean.sum() == pytest.approx(generic.mean_return, rel=1e-5)
    sampled = evaluate_agent(params, env, num_tasks=300, seed=11)  # tasks drawn from the same seed
    assert sampled.mean_return == generic.mean_return
    with pytest.raises(ValueError, match="do not fit"):
        evaluate_agent(params, BanditTrials(5, 6), num_tasks=10)


def test_train_rl2_takes_a_recipe_and_field_overrides() -> None:
    recipe = dataclasses.replace(RL2_CONFIG, hidden_size=8, batch_size=16)
    result = train_rl2(3, 4, recipe, num_iterations=3, iterations_per_call=3)
    assert result.config["hidden_size"] == 8 and result.config["entropy_anneal_iterations"] == 3
    assert result.checkpoint.config.learning_rate == RL2_CONFIG.learning_rate
    same = train_rl2(3, 4, num_iterations=3, iterations_per_call=3, hidden_size=8, batch_size=16)
    np.testing.assert_array_equal(result.params.w_x.numpy(), same.params.w_x.numpy())
    with pytest.raises(TypeError, match="hidden_units"):
        train_rl2(3, 4, num_iterations=1, hidden_units=8)
    with pytest.raises(TypeError, match="config must be an A2CConfig"):
        train_rl2(3, 4, {"hidden_size": 8}, num_iterations=1)
    assert A2CConfig().entropy_anneal_iterations == 1
