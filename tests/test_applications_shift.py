"""Chapter 8's test families, starting points, shift evaluation and sample efficiency."""

from __future__ import annotations

import math

import numpy as np
import pytest
import tensorflow as tf

from metalearn_lib.applications.efficiency import fine_tune_adam, points_needed, sample_efficiency
from metalearn_lib.applications.families import (
    BROAD_SINUSOIDS,
    SHIFT_GRIDS,
    MixtureFamily,
    SquareWaveFamily,
    shifted_family,
)
from metalearn_lib.applications.shift import evaluate_start, shift_rows
from metalearn_lib.applications.starting_points import (
    SINUSOID_RECIPES,
    StartingPoint,
    load_start,
    save_start,
    scratch_start,
    shipped_start_path,
    train_start,
)
from metalearn_lib.models import forward, init_mlp, mse
from metalearn_lib.tasks import LinearFamily, SinusoidFamily
from metalearn_lib.two_level import adapt, evaluate_fine_tuning


def test_shifted_families_move_one_range_each():
    assert shifted_family("amplitude", 2.5).amplitude_range == (2.6, 7.5)
    assert shifted_family("phase", math.pi).phase_range == (math.pi, 2 * math.pi)
    moved = shifted_family("input", 5.0)
    assert moved.x_range == (0.0, 10.0) and moved.amplitude_range == (0.1, 5.0)
    batch = moved.sample(50, 5, 20, seed=0)
    assert float(tf.reduce_min(batch.support_x)) >= 0.0 and float(tf.reduce_min(batch.query_x)) >= 0.0
    assert isinstance(shifted_family("square"), SquareWaveFamily)
    assert isinstance(shifted_family("line"), LinearFamily)
    assert shifted_family("amplitude", 0.0) == SinusoidFamily()
    assert all(grid[0] == 0.0 for grid in SHIFT_GRIDS.values())
    assert BROAD_SINUSOIDS.phase_range == (0.0, 2 * math.pi) and BROAD_SINUSOIDS.x_range == (-5.0, 5.0)


def test_shifted_family_rejects_bad_arguments():
    with pytest.raises(ValueError, match="kind must be one of"):
        shifted_family("frequency", 1.0)
    with pytest.raises(ValueError, match="shift must be 0"):
        shifted_family("square", 1.0)
    with pytest.raises(TypeError, match="shift must be a finite number"):
        shifted_family("phase", "1")
    with pytest.raises(ValueError, match="shift must be a finite number"):
        shifted_family("phase", float("nan"))


def test_square_waves_are_the_sinusoids_squared_off():
    square = SquareWaveFamily().sample(10, 5, 30, seed=4)
    sine = SinusoidFamily().sample(10, 5, 30, seed=4)
    np.testing.assert_array_equal(square.query_x, sine.query_x)
    amplitude = sine.task_params["amplitude"].numpy()[:, None, None]
    np.testing.assert_allclose(square.query_y, amplitude * np.sign(sine.query_y.numpy()), rtol=1e-6)
    assert set(np.unique(np.abs(square.support_y.numpy() / amplitude).round(5))) <= {0.0, 1.0}


def test_mixture_picks_each_component_with_its_probability_and_keeps_its_tasks():
    mixture = MixtureFamily((SinusoidFamily(), SquareWaveFamily()), probabilities=(0.25, 0.75))
    batch = mixture.sample(4000, 3, 3, seed=1)
    component = batch.task_params["component"].numpy()
    assert abs(component.mean() - 0.75) < 0.03
    values = np.abs(batch.support_y.numpy()[component == 1])
    amplitude_like = values.max(axis=1, keepdims=True)
    np.testing.assert_allclose(values, np.broadcast_to(amplitude_like, values.shape), rtol=1e-5)  # square: |y| = A
    with pytest.raises(ValueError, match="two or more"):
        MixtureFamily((SinusoidFamily(),))
    with pytest.raises(ValueError, match="probabilities"):
        MixtureFamily((SinusoidFamily(), SquareWaveFamily()), probabilities=(0.5, 0.6))


def test_starts_save_and_load_with_a_per_parameter_step(tmp_path):
    params = init_mlp([1, 4, 1], seed=0)
    alphas = [tf.fill(p.shape, 0.02) for p in params]
    start = StartingPoint("meta_sgd", params, alphas, {"wall_s": 1.0})
    save_start(start, tmp_path / "s.npz", command="test")
    loaded = load_start(tmp_path / "s.npz")
    assert loaded.name == "meta_sgd" and loaded.record["command"] == "test"
    for a, b in zip(loaded.inner_lr, alphas, strict=True):
        np.testing.assert_array_equal(a, b)
    plain = StartingPoint("maml", params, 0.01)
    save_start(plain, tmp_path / "m.npz")
    assert load_start(tmp_path / "m.npz").inner_lr == 0.01
    assert set(SINUSOID_RECIPES) == {"maml", "meta_sgd", "pretrained", "maml_broad"}
    assert shipped_start_path("maml").name == "sinusoid_maml.npz"
    with pytest.raises(ValueError, match="name must be one of"):
        shipped_start_path("reptile")


def test_a_short_training_run_follows_the_recipe():
    start = train_start("meta_sgd", num_iterations=3, jit_compile=False, progress=False)
    assert isinstance(start.inner_lr, list) and len(start.inner_lr) == 6
    assert start.record["recipe"]["num_iterations"] == 3 and start.record["recipe"]["trainer"] == "meta_sgd"


def test_evaluate_start_is_chapter_2s_evaluation_plus_the_normalised_error():
    start = scratch_start(1)
    family = shifted_family("amplitude", 2.5)
    ev = evaluate_start(start, family, num_tasks=40, steps=(0, 1, 3), seed=7)
    ref = evaluate_fine_tuning(start.params, family, num_tasks=40, num_shots=5, num_query=100, steps=(0, 1, 3),
                               inner_lr=0.01, seed=7)
    assert ev.mean_mse == ref.mean_mse and ev.ci95 == ref.ci95
    batch = family.sample(40, 5, 100, seed=7)
    power = float(np.mean(batch.query_y.numpy().astype(np.float64) ** 2))
    np.testing.assert_allclose(ev.mean_nmse, np.array(ev.mean_mse) / power, rtol=1e-9)
    assert 0.9 < ev.mean_nmse[0] < 1.1  # a fresh network predicts ≈ 0: nMSE ≈ 1
    assert ev.at(1) == (ev.mean_mse[1], ev.ci95[1])


def test_shift_rows_cover_every_start_shift_and_step():
    starts = [scratch_start(0), StartingPoint("other", init_mlp([1, 40, 40, 1], seed=5), 0.01)]
    rows = shift_rows(starts, grids={"phase": (0.0, 1.0)}, other_families=("line",), steps=(1, 2), num_tasks=10)
    assert len(rows) == 2 * 3 * 2
    assert {(r["shift_kind"], r["shift"]) for r in rows} == {("phase", 0.0), ("phase", 1.0), ("line", 0.0)}
    assert all(r["experiment"] == "shift_sinusoid" and r["ci95"] >= 0 for r in rows)


def test_fine_tune_adam_fits_the_support_points_of_every_task_separately():
    batch = SinusoidFamily().sample(6, 10, 10, seed=3)
    params = init_mlp([1, 40, 40, 1], seed=0, init="he")
    before = mse(forward(adapt(params, batch.support_x, batch.support_y, inner_lr=0.0, num_inner_steps=0),
                         batch.support_x), batch.support_y).numpy()
    fitted = fine_tune_adam(params, batch.support_x, batch.support_y, num_steps=300, learning_rate=1e-2,
                            jit_compile=False)
    after = mse(forward(fitted, batch.support_x), batch.support_y).numpy()
    assert np.all(after < 0.2 * before)
    alone = fine_tune_adam(params, batch.support_x[:1], batch.support_y[:1], num_steps=300, learning_rate=1e-2,
                           jit_compile=False)
    np.testing.assert_allclose(alone[0][0], fitted[0][0], rtol=1e-4, atol=1e-5)  # tasks do not mix


def test_points_needed_is_the_smallest_k_at_or_below_the_target():
    assert points_needed((1, 2, 5, 10), (3.0, 0.9, 0.5, 0.1), 0.5) == 5
    assert points_needed((1, 2), (3.0, float("nan")), 0.5) is None
    with pytest.raises(ValueError, match="target_mse"):
        points_needed((1,), (1.0,), 0.0)


def test_sample_efficiency_improves_with_more_points_from_scratch():
    result = sample_efficiency(scratch_start(0), SinusoidFamily(), shots=(2, 40), optimiser="adam", num_steps=300,
                               num_tasks=20)
    assert result.mean_mse[1] < result.mean_mse[0]
    assert result.points_needed(1e9) == 2 and "Adam" in result.protocol
    with pytest.raises(ValueError, match="shots must be"):
        sample_efficiency(scratch_start(0), SinusoidFamily(), shots=(5, 2))
    with pytest.raises(ValueError, match="optimiser"):
        sample_efficiency(scratch_start(0), SinusoidFamily(), optimiser="lbfgs")


def test_divergence_is_counted_and_the_median_ignores_it():
    params = init_mlp([1, 40, 40, 1], seed=0, init="he")
    start = StartingPoint("too_fast", params, 0.5)  # a step that blows up on these targets
    ev = evaluate_start(start, SinusoidFamily(), num_tasks=30, steps=(0, 5), seed=2)
    assert ev.diverged_fraction[0] == 0.0 and ev.diverged_fraction[1] > 0.5
    calm = evaluate_start(scratch_start(0), SinusoidFamily(), num_tasks=30, steps=(0, 5), seed=2)
    assert calm.diverged_fraction == (0.0, 0.0) and 0.2 < calm.median_nmse[1] < 2.0
