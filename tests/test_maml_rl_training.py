"""MAML-RL end to end: a tiny configuration learns to adapt; the shipped policy reproduces its record."""

from __future__ import annotations

import numpy as np
import pytest

from metalearn_lib.maml_rl import (
    MAMLRLConfig,
    PointNavigation,
    adaptation_curve,
    load_policy,
    load_shipped_policy,
    save_policy,
    shipped_policy_info,
    shipped_policy_path,
    train_maml_rl,
)

TINY = MAMLRLConfig(hidden_sizes=(32,), meta_batch_size=10, num_trajectories=10, cg_iterations=5,
                    fisher_trajectories=None, seed=0)


@pytest.fixture(scope="module")
def tiny_run():
    env = PointNavigation(horizon=30)
    return env, train_maml_rl(env, TINY, num_iterations=40, iterations_per_call=20)


def test_a_tiny_configuration_learns_to_adapt(tiny_run) -> None:
    env, result = tiny_run
    goals = env.sample_tasks(40, 99)
    curve = adaptation_curve(result.policy, env, goals, num_steps=1, num_trajectories=20, seed=5)
    gain = curve.mean[1] - curve.mean[0]
    assert gain > curve.ci95[0] + curve.ci95[1], f"one step should clearly help: {curve.mean} ± {curve.ci95}"
    assert result.metric("accepted").mean() > 0.8
    assert result.metric("post_return")[-10:].mean() > result.metric("post_return")[:10].mean()


def test_training_resumes_exactly_and_policies_round_trip(tiny_run, tmp_path) -> None:
    env, _ = tiny_run
    whole = train_maml_rl(env, TINY, num_iterations=4, iterations_per_call=2)
    half = train_maml_rl(env, TINY, num_iterations=2, iterations_per_call=2)
    rest = train_maml_rl(env, num_iterations=2, iterations_per_call=2, resume=half)
    np.testing.assert_array_equal(rest.policy.mean_net[0].numpy(), whole.policy.mean_net[0].numpy())
    np.testing.assert_array_equal(rest.metrics, whole.metrics)
    save_policy(tmp_path / "p.npz", whole, note="x")
    policy, config, meta = load_policy(tmp_path / "p.npz")
    assert config == TINY and meta["iteration"] == 4 and meta["extra"] == {"note": "x"}
    np.testing.assert_array_equal(policy.log_std.numpy(), whole.policy.log_std.numpy())


@pytest.mark.parametrize("method", ["maml", "pretrained"])
def test_the_shipped_policy_reproduces_its_documented_returns(method) -> None:
    info = shipped_policy_info(method)
    policy, config = load_shipped_policy(method)
    assert shipped_policy_path(method).stat().st_size < 1_000_000
    assert info["method"] == method and config.to_dict() == info["config"]
    env = PointNavigation()
    evaluation = info["evaluation"]
    goals = env.sample_tasks(evaluation["num_test_goals"], evaluation["test_seed"])
    curve = adaptation_curve(policy, env, goals, seed=evaluation["test_seed"])
    for row in evaluation["rows"]:
        assert abs(curve.mean[row["steps"]] - row["mean_return"]) <= row["ci95"], (row, curve.mean)
