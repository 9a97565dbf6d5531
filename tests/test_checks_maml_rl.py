"""The checks of ``06_maml_rl``: right answers pass, every typical wrong one is rejected with its hint."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from metalearn_lib.checks.maml_rl import check_inner_step, check_reinforce_surrogate, check_reward_to_go
from metalearn_lib.rl.policy_gradient import reward_to_go as library_reward_to_go
from tests.check_tools import verdict_of
from tests.notebook_tools import REPO_ROOT, solution_namespace

SOLUTIONS = REPO_ROOT / "solutions" / "06_maml_rl_exercises.ipynb"


# =============================================================================================
# reward_to_go(rewards, discount)
# =============================================================================================
def right_rtg_library(rewards, discount):
    return library_reward_to_go(tf.constant(rewards), discount).numpy()


def right_rtg_matrix(rewards, discount):
    steps = np.arange(rewards.shape[1])
    lag = steps[:, None] - steps[None, :]
    return rewards @ np.where(lag >= 0, float(discount) ** np.maximum(lag, 0), 0.0)


@pytest.mark.parametrize("implementation", [right_rtg_library, right_rtg_matrix])
def test_right_rewards_to_go_pass(implementation, capsys):
    assert check_reward_to_go(implementation) is None
    assert "✅ reward_to_go: all 4 checks passed." in capsys.readouterr().out


def rtg_total_return(rewards, discount):
    return np.repeat(right_rtg_library(rewards, discount)[:, :1], rewards.shape[1], axis=1)


def rtg_undiscounted(rewards, discount):
    return right_rtg_library(rewards, 1.0)


def rtg_discount_from_start(rewards, discount):
    powers = discount ** np.arange(rewards.shape[1])
    return np.cumsum((rewards * powers)[:, ::-1], axis=1)[:, ::-1]


def rtg_forward(rewards, discount):
    return np.cumsum(rewards, axis=1)


@pytest.mark.parametrize(("implementation", "hint"), [
    (rtg_total_return, "total return of its trajectory"),
    (rtg_undiscounted, "not discounted"),
    (rtg_discount_from_start, "counts from the start"),
    (rtg_forward, "*up to* t"),
])
def test_wrong_rewards_to_go_are_rejected_with_a_useful_hint(implementation, hint):
    assert hint in verdict_of(check_reward_to_go, implementation)


# =============================================================================================
# reinforce_surrogate(log_prob, observations, actions, rewards_to_go, baseline)
# =============================================================================================
def right_surrogate(log_prob, observations, actions, rewards_to_go, baseline):
    return tf.reduce_mean(log_prob(observations, actions) * (rewards_to_go - baseline))


def right_surrogate_by_sum(log_prob, observations, actions, rewards_to_go, baseline):
    weights = tf.constant(rewards_to_go - baseline)
    return tf.reduce_sum(log_prob(observations, actions) * weights) / float(np.size(rewards_to_go))


@pytest.mark.parametrize("implementation", [right_surrogate, right_surrogate_by_sum])
def test_right_surrogates_pass(implementation, capsys):
    assert check_reinforce_surrogate(implementation) is None
    assert "✅ reinforce_surrogate: all 3 checks passed." in capsys.readouterr().out


def surrogate_plus_baseline(log_prob, observations, actions, rewards_to_go, baseline):
    return tf.reduce_mean(log_prob(observations, actions) * (rewards_to_go + baseline))


def surrogate_wrong_actions(log_prob, observations, actions, rewards_to_go, baseline):
    return tf.reduce_mean(log_prob(observations[:, :-1], actions[:, 1:]) * (rewards_to_go - baseline)[:, :-1])


def surrogate_as_a_loss(log_prob, observations, actions, rewards_to_go, baseline):
    return -right_surrogate(log_prob, observations, actions, rewards_to_go, baseline)


def surrogate_summed(log_prob, observations, actions, rewards_to_go, baseline):
    return tf.reduce_sum(log_prob(observations, actions) * (rewards_to_go - baseline))


def surrogate_in_numpy(log_prob, observations, actions, rewards_to_go, baseline):
    return float(np.mean(log_prob(observations, actions).numpy() * (rewards_to_go - baseline)))


def surrogate_stopped(log_prob, observations, actions, rewards_to_go, baseline):
    return tf.stop_gradient(right_surrogate(log_prob, observations, actions, rewards_to_go, baseline))


@pytest.mark.parametrize(("implementation", "hint"), [
    (surrogate_plus_baseline, "baseline was added"),
    (surrogate_wrong_actions, "wrong actions"),
    (surrogate_as_a_loss, "sign is flipped"),
    (surrogate_summed, "sum over all steps"),
    (surrogate_in_numpy, "not a tf.Tensor"),
    (surrogate_stopped, "came back None"),
])
def test_wrong_surrogates_are_rejected_with_a_useful_hint(implementation, hint):
    assert hint in verdict_of(check_reinforce_surrogate, implementation)


# =============================================================================================
# inner_step(params, objective, inner_lr)
# =============================================================================================
def right_inner_step(params, objective, inner_lr):
    with tf.GradientTape() as tape:
        tape.watch(params)
        total = tf.reduce_sum(objective(params))
    return [p + inner_lr * g for p, g in zip(params, tape.gradient(total, params), strict=True)]


def test_a_right_inner_step_passes(capsys):
    assert check_inner_step(right_inner_step) is None
    assert "✅ inner_step: all 3 checks passed." in capsys.readouterr().out


def _step_with(transform):
    def inner_step(params, objective, inner_lr):
        with tf.GradientTape() as tape:
            tape.watch(params)
            total = tf.reduce_sum(objective(params))
        grads = tape.gradient(total, params)
        return transform(params, grads, inner_lr, objective)
    return inner_step


inner_step_downhill = _step_with(lambda ps, gs, lr, f: [p - lr * g for p, g in zip(ps, gs, strict=True)])
inner_step_task_mean = _step_with(lambda ps, gs, lr, f: [p + lr * tf.reduce_mean(g, axis=0, keepdims=True)
                                                         for p, g in zip(ps, gs, strict=True)])
inner_step_no_lr = _step_with(lambda ps, gs, lr, f: [p + g for p, g in zip(ps, gs, strict=True)])


def inner_step_mean_objective(params, objective, inner_lr):
    with tf.GradientTape() as tape:
        tape.watch(params)
        total = tf.reduce_mean(objective(params))
    return [p + inner_lr * g for p, g in zip(params, tape.gradient(total, params), strict=True)]


@pytest.mark.parametrize(("implementation", "hint"), [
    (inner_step_downhill, "downhill"),
    (inner_step_task_mean, "averaged over the task axis"),
    (inner_step_mean_objective, "averaged over tasks"),
    (inner_step_no_lr, "ignores inner_lr"),
])
def test_wrong_inner_steps_are_rejected_with_a_useful_hint(implementation, hint):
    assert hint in verdict_of(check_inner_step, implementation)


# =============================================================================================
# the solutions notebook's functions are the library's
# =============================================================================================
@pytest.fixture(scope="module")
def inline():
    return solution_namespace(SOLUTIONS)


def test_the_solution_notebooks_functions_pass_their_checks(inline, capsys):
    check_reward_to_go(inline["reward_to_go"])
    check_reinforce_surrogate(inline["reinforce_surrogate"])
    check_inner_step(inline["inner_step"])
    assert capsys.readouterr().out.count("✅") == 3
