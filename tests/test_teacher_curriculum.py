"""The curriculum teacher: hand calculations, the chain family, curriculum beats uniform."""

from __future__ import annotations

import math

import numpy as np
import pytest

from metalearn_lib.teacher.curriculum import (
    ChainTasks,
    CurriculumTeacher,
    UniformTeacher,
    compare_teachers,
    run_curriculum,
)


def test_probabilities_and_update_hand_calculation():
    teacher = CurriculumTeacher(temperature=1.0, exploration=0.2, smoothing=0.5)
    teacher.reset(2)
    np.testing.assert_allclose(teacher.probabilities(), [0.5, 0.5])  # Q = 0: uniform
    teacher.observe(1, -2.0)  # Q_1 = 0 + 0.5·(|−2| − 0) = 1
    np.testing.assert_allclose(teacher.scores, [0.0, 1.0])
    e = math.e
    np.testing.assert_allclose(teacher.probabilities(), [0.8 / (1 + e) + 0.1, 0.8 * e / (1 + e) + 0.1])
    teacher.observe(1, 0.0)  # Q_1 = 1 + 0.5·(0 − 1) = 0.5; scaled by max → same probabilities
    np.testing.assert_allclose(teacher.scores, [0.0, 0.5])
    np.testing.assert_allclose(teacher.probabilities(), [0.8 / (1 + e) + 0.1, 0.8 * e / (1 + e) + 0.1])


def test_chain_losses_and_practise_hand_calculation():
    tasks = ChainTasks(num_tasks=3, skill=2.0, init=0.5, learning_rate=0.1, num_points=4, noise_std=0.0)
    np.testing.assert_allclose(tasks.targets(), [2.0, 4.0, 8.0])
    theta = tasks.init_params()
    np.testing.assert_allclose(tasks.losses(theta), [(0.5 - 2) ** 2, (0.25 - 4) ** 2, (0.125 - 8) ** 2])
    x = np.random.default_rng(7).standard_normal(4)
    new = tasks.practise(theta, 1, np.random.default_rng(7))
    # θ_2 ← θ_2 − η·2·mean((θ_1θ_2 − c_2) x²)·θ_1, other subskills unchanged
    expected = 0.5 - 0.1 * 2 * np.mean((0.25 - 4.0) * x**2) * 0.5
    np.testing.assert_allclose(new, [0.5, expected, 0.5])
    np.testing.assert_allclose(theta, [0.5, 0.5, 0.5])  # input untouched


def test_order_matters_in_the_chain():
    tasks = ChainTasks(num_tasks=3, noise_std=0.0)
    rng = np.random.default_rng(0)
    theta = tasks.init_params()
    for _ in range(200):  # practising task 3 first: gated by θ_1θ_2 = 0.01, almost no progress
        theta = tasks.practise(theta, 2, rng)
    assert tasks.losses(theta)[2] > 0.9
    theta = tasks.init_params()
    for k in (0, 1, 2):  # in order: every task learned in the same budget
        for _ in range(200):
            theta = tasks.practise(theta, k, rng)
    assert tasks.losses(theta).max() < 1e-3


def test_uniform_teacher_is_uniform():
    result = run_curriculum(UniformTeacher(), ChainTasks(num_tasks=4), max_rounds=4000, target=1e-9,
                            seed=0, stop_at_target=False)
    counts = np.bincount(result.choices, minlength=4) / 4000
    np.testing.assert_allclose(counts, 0.25, atol=0.03)
    assert result.per_task_loss.shape == (4000, 4)


def test_run_curriculum_records_rounds_to_target():
    result = run_curriculum(CurriculumTeacher(), ChainTasks(num_tasks=3), max_rounds=3000, seed=1)
    t = result.rounds_to_target
    assert t is not None and len(result.choices) == t and result.per_task_loss.shape == (t, 3)
    assert result.per_task_loss[-1].max() <= 0.01 < result.per_task_loss[-2].max()
    again = run_curriculum(CurriculumTeacher(), ChainTasks(num_tasks=3), max_rounds=3000, seed=1)
    np.testing.assert_array_equal(result.choices, again.choices)  # deterministic given the seed


def test_curriculum_practises_the_frontier_in_order():
    result = run_curriculum(CurriculumTeacher(), ChainTasks(num_tasks=5), seed=0)
    first_time_mostly = [np.median(np.flatnonzero(result.choices == k)) for k in range(5)]
    assert np.all(np.diff(first_time_mostly) > 0)  # the bulk of practice moves up the chain


def test_curriculum_beats_uniform_over_seeds():
    rounds = compare_teachers(range(10), ChainTasks(num_tasks=5))
    cur, uni = rounds["curriculum"], rounds["uniform"]
    assert np.all(cur < 3000) and np.all(uni < 3000)  # both reach the target
    assert cur.mean() < 0.75 * uni.mean()
    ci = 1.96 * np.sqrt(cur.var(ddof=1) / 10 + uni.var(ddof=1) / 10)
    assert uni.mean() - cur.mean() > ci  # the gap exceeds its 95% interval
    assert np.mean(cur < uni) >= 0.9


def test_validation_errors():
    with pytest.raises(ValueError, match="num_tasks"):
        ChainTasks(num_tasks=0)
    with pytest.raises(ValueError, match="noise_std"):
        ChainTasks(noise_std=-1.0)
    with pytest.raises(ValueError, match="exploration"):
        CurriculumTeacher(exploration=1.5)
    with pytest.raises(ValueError, match="temperature"):
        CurriculumTeacher(temperature=0.0)
    with pytest.raises(ValueError, match="reset"):
        CurriculumTeacher().probabilities()
    with pytest.raises(ValueError, match="task must be"):
        ChainTasks(num_tasks=2).practise(np.ones(2), 2, np.random.default_rng(0))
    with pytest.raises(TypeError, match="teacher"):
        run_curriculum(object())
    with pytest.raises(TypeError, match="tasks"):
        run_curriculum(UniformTeacher(), tasks="chain")
    with pytest.raises(ValueError, match="max_rounds"):
        run_curriculum(UniformTeacher(), max_rounds=0)
    with pytest.raises(ValueError, match="target"):
        run_curriculum(UniformTeacher(), target=0.0)
