"""Chapter 8, online learning: drifting and switching sinusoid streams, and the learners that track them."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import tensorflow as tf

from metalearn_lib import seed_everything
from metalearn_lib.applications.online import (
    ONLINE_METHODS,
    build_regime_experts,
    cumulative_loss,
    cumulative_regret,
    fixed_share_update,
    mean_and_ci95,
    online_meta_update,
    run_expert_hedge,
    run_online,
)
from metalearn_lib.applications.streams import (
    DriftingSinusoidStream,
    StreamBatch,
    SwitchingSinusoidStream,
    reflect_into,
)
from metalearn_lib.averaging import hedge_update, run_hedge
from metalearn_lib.models import forward, init_mlp, mse, tile_params
from metalearn_lib.two_level import adapt

ALPHA = 0.3  # a large inner step, so second-order terms stand far above finite-difference noise


@pytest.fixture(autouse=True)
def _seed() -> None:
    seed_everything(0)


def _tiny(dtype: tf.DType = tf.float64, hidden: int = 3) -> list[tf.Tensor]:
    params = init_mlp([1, hidden, 1], seed=3, init="glorot", dtype=dtype)
    return [p + 0.1 for p in params]  # non-zero biases


def _drift(num_rounds: int = 6, dtype: tf.DType = tf.float64, **kwargs) -> DriftingSinusoidStream:
    defaults = dict(amplitude_drift=0.2, phase_drift=0.1, jump_probability=0.2,
                    amplitude_range=(0.1, 10.0))
    return DriftingSinusoidStream(num_rounds, dtype=dtype, **{**defaults, **kwargs})


def _replace_stream(batch: StreamBatch, stream: int, other: StreamBatch) -> StreamBatch:
    """``batch`` with stream ``stream``'s points taken from ``other``."""
    def swap(a: tf.Tensor, b: tf.Tensor) -> tf.Tensor:
        mask = tf.reshape(tf.range(a.shape[0]) == stream, [-1] + [1] * (a.shape.rank - 1))
        return tf.where(mask, b, a)

    return dataclasses.replace(batch, **{n: swap(getattr(batch, n), getattr(other, n))
                                         for n in ("support_x", "support_y", "query_x", "query_y")})


# ----------------------------------------------------------------------------------------------
# streams
# ----------------------------------------------------------------------------------------------


def test_drifting_stream_shapes_targets_and_seeding():
    stream = _drift(num_rounds=7, dtype=tf.float32)
    batch = stream.sample(3, 4, 5, seed=11)
    assert batch.support_x.shape == (3, 7, 4, 1) and batch.query_y.shape == (3, 7, 5, 1)
    assert batch.amplitude.shape == (3, 7) and batch.changed.shape == (3, 7)
    assert batch.support_x.dtype == tf.float32 and batch.regime is None
    assert (batch.num_streams, batch.num_rounds, batch.num_shots, batch.num_query) == (3, 7, 4, 5)
    a, phi = batch.amplitude.numpy(), batch.phase.numpy()
    expected = a[..., None, None] * np.sin(batch.query_x.numpy() - phi[..., None, None])
    np.testing.assert_allclose(batch.query_y.numpy(), expected, atol=1e-5)
    assert np.all(np.abs(batch.support_x.numpy()) <= 5.0)
    assert np.all((phi >= 0) & (phi < 2 * math.pi))
    assert not batch.changed.numpy()[:, 0].any()
    again = stream.sample(3, 4, 5, seed=11)
    np.testing.assert_array_equal(again.support_y.numpy(), batch.support_y.numpy())
    other = stream.sample(3, 4, 5, seed=12)
    assert not np.allclose(other.amplitude.numpy(), a)
    round_2 = batch.round(2)
    np.testing.assert_array_equal(round_2.support_x.numpy(), batch.support_x.numpy()[:, 2])
    with pytest.raises(ValueError, match="t must be"):
        batch.round(7)


def test_drift_steps_have_the_stated_std_and_no_jumps_means_no_changes():
    # far from the walls: the amplitude's and the phase's steps are N(0, σ²)
    stream = DriftingSinusoidStream(50, amplitude_drift=0.3, phase_drift=0.05, jump_probability=0.0,
                                    amplitude_range=(0.0, 1000.0), initial_amplitude_range=(500.0, 501.0))
    batch = stream.sample(400, 1, 1, seed=0)
    amplitude_steps = np.diff(batch.amplitude.numpy(), axis=1)
    phase_steps = np.diff(batch.phase.numpy(), axis=1)
    phase_steps = (phase_steps + math.pi) % (2 * math.pi) - math.pi  # undo the wrap to [0, 2π)
    assert amplitude_steps.std() == pytest.approx(0.3, rel=0.03)
    assert phase_steps.std() == pytest.approx(0.05, rel=0.03)
    assert abs(amplitude_steps.mean()) < 0.01
    assert not batch.changed.numpy().any()


def test_no_drift_keeps_the_task_fixed():
    batch = DriftingSinusoidStream(5, 0.0, 0.0, 0.0).sample(4, 2, 2, seed=1)
    a = batch.amplitude.numpy()
    np.testing.assert_array_equal(a, np.repeat(a[:, :1], 5, axis=1))
    assert np.all((a >= 0.1) & (a <= 5.0)) and np.all(batch.phase.numpy() <= math.pi)


def test_jumps_happen_at_their_probability_and_redraw_from_the_jump_range():
    stream = DriftingSinusoidStream(100, amplitude_drift=0.01, phase_drift=0.0, jump_probability=0.1,
                                    amplitude_range=(0.1, 20.0), jump_amplitude_range=(15.0, 20.0))
    batch = stream.sample(200, 1, 1, seed=3)
    jumps = batch.changed.numpy()[:, 1:]
    assert jumps.mean() == pytest.approx(0.1, abs=0.01)  # 19,800 Bernoulli(0.1): std 0.002
    a = batch.amplitude.numpy()[:, 1:]
    assert np.all((a[jumps] >= 15.0) & (a[jumps] <= 20.0))
    # a round without a jump moves by a small step only
    steps = np.abs(np.diff(batch.amplitude.numpy(), axis=1))[~jumps]
    assert steps.max() < 0.1
    every_round = DriftingSinusoidStream(200, 0.01, 0.0, 1.0, amplitude_range=(0.1, 20.0),
                                         jump_amplitude_range=(15.0, 20.0)).sample(50, 1, 1, seed=4)
    assert every_round.changed.numpy()[:, 1:].all()
    assert every_round.amplitude.numpy()[:, 1:].mean() == pytest.approx(17.5, abs=0.1)


def test_the_amplitude_is_reflected_at_its_walls():
    np.testing.assert_allclose(reflect_into(tf.constant([0.3, 5.3, -0.1, 10.0, 14.9]), 0.1, 5.0).numpy(),
                               [0.3, 4.7, 0.3, 0.2, 4.9], atol=1e-5)  # 14.9 → −4.9 → 5.1 → 4.9
    stream = DriftingSinusoidStream(200, amplitude_drift=1.0, phase_drift=0.0, jump_probability=0.0,
                                    amplitude_range=(0.1, 3.0), initial_amplitude_range=(0.1, 3.0))
    a = stream.sample(50, 1, 1, seed=5).amplitude.numpy()
    assert a.min() >= 0.1 - 1e-6 and a.max() <= 3.0 + 1e-6
    assert a.min() < 0.3 and a.max() > 2.8  # it does reach the walls


def test_switching_stream_switches_at_the_hazard_rate_between_its_regimes():
    stream = SwitchingSinusoidStream(100, num_regimes=3, switch_probability=0.1)
    batch = stream.sample(200, 2, 3, seed=0)
    regime = batch.regime.numpy()
    assert regime.shape == (200, 100) and regime.min() == 0 and regime.max() == 2
    switched = batch.changed.numpy()
    np.testing.assert_array_equal(switched[:, 1:], regime[:, 1:] != regime[:, :-1])
    assert not switched[:, 0].any()
    assert switched[:, 1:].mean() == pytest.approx(0.1, abs=0.01)
    # the task is the active regime's sinusoid, regimes drawn from the MAML family
    ra, rp = batch.regime_amplitude.numpy(), batch.regime_phase.numpy()
    np.testing.assert_array_equal(batch.amplitude.numpy(), np.take_along_axis(ra, regime, axis=1))
    np.testing.assert_array_equal(batch.phase.numpy(), np.take_along_axis(rp, regime, axis=1))
    assert ra.min() >= 0.1 and ra.max() <= 5.0 and rp.min() >= 0 and rp.max() <= math.pi
    # where a stream switches to is uniform over the other regimes, and streams differ
    moves = (regime[:, 1:] - regime[:, :-1]) % 3
    assert np.mean(moves[switched[:, 1:]] == 1) == pytest.approx(0.5, abs=0.05)
    assert not np.allclose(ra[0], ra[1])
    assert np.all(np.bincount(regime[:, 0], minlength=3) > 40)
    assert batch.in_training_range().numpy().all()


@pytest.mark.parametrize("make, match", [
    (lambda: DriftingSinusoidStream(0, 0.1, 0.1, 0.1), "num_rounds"),
    (lambda: DriftingSinusoidStream(5, -0.1, 0.1, 0.1), "amplitude_drift"),
    (lambda: DriftingSinusoidStream(5, 0.1, -1.0, 0.1), "phase_drift"),
    (lambda: DriftingSinusoidStream(5, 0.1, 0.1, 1.5), "jump_probability"),
    (lambda: DriftingSinusoidStream(5, 0.1, 0.1, -0.1), "jump_probability"),
    (lambda: DriftingSinusoidStream(5, 0.1, 0.1, 0.1, amplitude_range=(5.0, 1.0)), "amplitude_range"),
    (lambda: DriftingSinusoidStream(5, 0.1, 0.1, 0.1, initial_amplitude_range=(0.1, 8.0)),
     "initial_amplitude_range"),
    (lambda: DriftingSinusoidStream(5, 0.1, 0.1, 0.1, jump_amplitude_range=(0.0, 5.0)),
     "jump_amplitude_range"),
    (lambda: SwitchingSinusoidStream(5, 0, 0.1), "num_regimes"),
    (lambda: SwitchingSinusoidStream(5, 1, 0.1), "num_regimes"),
    (lambda: SwitchingSinusoidStream(5, 3, 2.0), "switch_probability"),
    (lambda: SwitchingSinusoidStream(5, 3, 0.1, phase_range=(1.0, 1.0)), "phase_range"),
    (lambda: SwitchingSinusoidStream(5, 3, 0.1).sample(0, 2, 2, seed=0), "num_streams"),
    (lambda: _drift().sample(2, 0, 2, seed=0), "num_shots"),
    (lambda: _drift().sample(2, 2, -1, seed=0), "num_query"),
])
def test_streams_reject_bad_arguments_by_name(make, match):
    with pytest.raises(ValueError, match=match):
        make()


# ----------------------------------------------------------------------------------------------
# parameter learners
# ----------------------------------------------------------------------------------------------


def test_frozen_scores_the_fixed_network_on_every_round():
    params = _tiny()
    batch = _drift().sample(3, 4, 5, seed=0)
    result = run_online("frozen", batch, params=params, activation="tanh")
    prediction = forward(params, batch.query_x, activation="tanh").numpy()  # [S, T, Q, 1]
    assert result.losses.shape == (3, 6)
    np.testing.assert_allclose(result.losses, ((prediction - batch.query_y.numpy()) ** 2).mean(axis=(2, 3)),
                               rtol=1e-10)


def test_maml_readapt_is_adapt_from_the_initialisation_on_each_rounds_support():
    params = _tiny()
    batch = _drift().sample(3, 4, 5, seed=1)
    result = run_online("maml_readapt", batch, params=params, inner_lr=ALPHA, num_inner_steps=2,
                        activation="tanh")
    for t in range(batch.num_rounds):
        task = batch.round(t)
        adapted = adapt(params, task.support_x, task.support_y, inner_lr=ALPHA, num_inner_steps=2,
                        activation="tanh")
        np.testing.assert_allclose(result.losses[:, t], mse(forward(adapted, task.query_x, activation="tanh"),
                                                            task.query_y).numpy(), rtol=1e-9)
    frozen = run_online("frozen", batch, params=params, activation="tanh")
    assert not np.allclose(result.losses, frozen.losses)


def test_fine_tune_last_continues_from_the_last_parameters():
    params = _tiny()
    batch = _drift().sample(3, 4, 5, seed=2)
    result = run_online("fine_tune_last", batch, params=params, inner_lr=ALPHA, activation="tanh")
    current = tile_params(params, 3)
    for t in range(batch.num_rounds):
        task = batch.round(t)
        current = adapt(current, task.support_x, task.support_y, inner_lr=ALPHA, activation="tanh")
        np.testing.assert_allclose(result.losses[:, t], mse(forward(current, task.query_x, activation="tanh"),
                                                            task.query_y).numpy(), rtol=1e-9)
    for final, mine in zip(result.final_params, current, strict=True):
        np.testing.assert_allclose(final.numpy(), mine.numpy(), rtol=1e-9)
    readapt = run_online("maml_readapt", batch, params=params, inner_lr=ALPHA, activation="tanh")
    np.testing.assert_allclose(result.losses[:, 0], readapt.losses[:, 0], rtol=1e-12)  # round 0: the same
    assert not np.allclose(result.losses[:, 1:], readapt.losses[:, 1:])


def _by_hand_meta_step(params, sx, sy, qx, qy, *, meta_lr, first_order=False):
    """θ − β ∇_θ L^query(θ − α ∇L^support(θ)) for one task, with two explicit tapes."""
    params = [tf.convert_to_tensor(p) for p in params]
    with tf.GradientTape() as outer:
        outer.watch(params)
        with tf.GradientTape() as inner:
            inner.watch(params)
            support_loss = tf.reduce_mean(tf.square(forward(params, sx, activation="tanh") - sy))
        grads = inner.gradient(support_loss, params)
        if first_order:
            grads = [tf.stop_gradient(g) for g in grads]
        adapted = [p - ALPHA * g for p, g in zip(params, grads, strict=True)]
        query_loss = tf.reduce_mean(tf.square(forward(adapted, qx, activation="tanh") - qy))
    return [p - meta_lr * g for p, g in zip(params, outer.gradient(query_loss, params), strict=True)]


def test_online_meta_update_matches_a_hand_written_tape_for_every_stream():
    params = _tiny()
    task = _drift().sample(3, 4, 5, seed=3).round(2)
    per_stream = tile_params(params, 3)
    for first_order in (False, True):
        updated = online_meta_update(per_stream, task.support_x, task.support_y, task.query_x, task.query_y,
                                     inner_lr=ALPHA, meta_lr=0.05, first_order=first_order, activation="tanh")
        for s in range(3):
            expected = _by_hand_meta_step(params, task.support_x[s], task.support_y[s], task.query_x[s],
                                          task.query_y[s], meta_lr=0.05, first_order=first_order)
            for got, want in zip(updated, expected, strict=True):
                np.testing.assert_allclose(got[s].numpy(), want.numpy(), rtol=1e-9, atol=1e-12)
    # a shared initialisation takes one step on the mean over the streams
    shared = online_meta_update(params, task.support_x, task.support_y, task.query_x, task.query_y,
                                inner_lr=ALPHA, meta_lr=0.05, activation="tanh")
    for got, mine in zip(shared, updated, strict=False):
        assert got.shape == mine.shape[1:]


def test_online_meta_update_is_the_finite_difference_gradient_through_the_adaptation():
    params = _tiny()
    task = _drift().sample(1, 4, 5, seed=4).round(0)
    meta_lr = 0.1

    def meta_loss(theta):  # L^query(adapt(θ, support)), one task
        adapted = adapt(theta, task.support_x, task.support_y, inner_lr=ALPHA, activation="tanh")
        return float(tf.reduce_mean(mse(forward(adapted, task.query_x, activation="tanh"), task.query_y)))

    updated = online_meta_update(params, task.support_x, task.support_y, task.query_x, task.query_y,
                                 inner_lr=ALPHA, meta_lr=meta_lr, activation="tanh")
    h = 1e-6
    for k, p in enumerate(params):
        numeric = np.zeros(p.shape)
        for idx in np.ndindex(*p.shape):
            delta = np.zeros(p.shape)
            delta[idx] = h
            plus = [q + delta if j == k else q for j, q in enumerate(params)]
            minus = [q - delta if j == k else q for j, q in enumerate(params)]
            numeric[idx] = (meta_loss(plus) - meta_loss(minus)) / (2 * h)
        np.testing.assert_allclose(updated[k].numpy(), p.numpy() - meta_lr * numeric, rtol=1e-6, atol=1e-8)
    # not the gradient of the support loss, nor of the query loss at θ_init
    with tf.GradientTape() as tape:
        tape.watch(params)
        at_init = tf.reduce_mean(mse(forward(params, task.query_x, activation="tanh"), task.query_y))
    wrong = [p - meta_lr * g for p, g in zip(params, tape.gradient(at_init, params), strict=True)]
    assert max(float(tf.reduce_max(tf.abs(a - b))) for a, b in zip(updated, wrong, strict=True)) > 1e-4


def test_online_meta_update_rejects_bad_arguments():
    params = _tiny()
    task = _drift().sample(2, 4, 5, seed=0).round(0)
    args = (task.support_x, task.support_y, task.query_x, task.query_y)
    with pytest.raises(ValueError, match="meta_lr"):
        online_meta_update(params, *args, inner_lr=0.1, meta_lr=-1.0)
    with pytest.raises(ValueError, match="num_inner_steps"):
        online_meta_update(params, *args, inner_lr=0.1, meta_lr=0.1, num_inner_steps=0)
    with pytest.raises(ValueError, match="streams"):
        online_meta_update(tile_params(params, 3), *args, inner_lr=0.1, meta_lr=0.1)


def test_online_meta_is_the_round_loop_of_its_update():
    params = _tiny()
    batch = _drift().sample(2, 4, 5, seed=5)
    kwargs = dict(inner_lr=ALPHA, activation="tanh")
    result = run_online("online_meta", batch, params=params, meta_lr=0.05, **kwargs)
    init = tile_params(params, 2)
    for t in range(batch.num_rounds):
        task = batch.round(t)
        played = adapt(init, task.support_x, task.support_y, **kwargs)
        np.testing.assert_allclose(result.losses[:, t],
                                   mse(forward(played, task.query_x, activation="tanh"), task.query_y).numpy(),
                                   rtol=1e-8)
        init = online_meta_update(init, task.support_x, task.support_y, task.query_x, task.query_y,
                                  meta_lr=0.05, **kwargs)
    np.testing.assert_allclose(result.final_params[0].numpy(), init[0].numpy(), rtol=1e-8)
    # β = 0: the initialisation never moves, which is re-adapting θ_MAML every round
    still = run_online("online_meta", batch, params=params, meta_lr=0.0, **kwargs)
    readapt = run_online("maml_readapt", batch, params=params, **kwargs)
    np.testing.assert_allclose(still.losses, readapt.losses, rtol=1e-10)
    assert not np.allclose(result.losses[:, 1:], readapt.losses[:, 1:])


@pytest.mark.parametrize("method", ["fine_tune_last", "online_meta"])
def test_streams_do_not_influence_each_other(method):
    params = _tiny()
    stream = _drift()
    batch = stream.sample(3, 4, 5, seed=6)
    changed = _replace_stream(batch, 1, stream.sample(3, 4, 5, seed=99))
    kwargs = dict(params=params, inner_lr=ALPHA, meta_lr=0.1, activation="tanh")
    base, other = run_online(method, batch, **kwargs), run_online(method, changed, **kwargs)
    assert not np.allclose(base.losses[1], other.losses[1])
    np.testing.assert_allclose(other.losses[[0, 2]], base.losses[[0, 2]], rtol=1e-12)
    # and a stream run alone gives the losses it has in the batch
    alone = dataclasses.replace(batch, **{n: getattr(batch, n)[2:] for n in
                                          ("support_x", "support_y", "query_x", "query_y")})
    np.testing.assert_allclose(run_online(method, alone, **kwargs).losses[0], base.losses[2], rtol=1e-9)


def test_run_online_is_repeatable_and_compiles_with_xla():
    params = _tiny(tf.float32, hidden=4)
    batch = _drift(dtype=tf.float32).sample(2, 4, 5, seed=7)
    eager = run_online("online_meta", batch, params=params, inner_lr=0.1, meta_lr=0.05)
    again = run_online("online_meta", batch, params=params, inner_lr=0.1, meta_lr=0.05)
    np.testing.assert_array_equal(eager.losses, again.losses)
    xla = run_online("online_meta", batch, params=params, inner_lr=0.1, meta_lr=0.05, jit_compile=True)
    np.testing.assert_allclose(xla.losses, eager.losses, rtol=1e-4)
    assert eager.config["meta_lr"] == 0.05 and eager.config["num_rounds"] == 6


def test_run_online_rejects_bad_arguments():
    params = _tiny()
    batch = _drift().sample(2, 4, 5, seed=0)
    with pytest.raises(ValueError, match="method"):
        run_online("follow_the_leader", batch, params=params)
    with pytest.raises(ValueError, match="shared"):
        run_online("frozen", batch, params=tile_params(params, 2))
    with pytest.raises(ValueError, match="inner_lr"):
        run_online("maml_readapt", batch, params=params, inner_lr=-0.1)
    with pytest.raises(ValueError, match="streams, rounds"):
        run_online("frozen", batch.round(0), params=params)  # one round, not a stream
    with pytest.raises(TypeError, match="StreamBatch"):
        run_online("frozen", params, params=params)
    assert set(ONLINE_METHODS) == {"frozen", "fine_tune_last", "maml_readapt", "online_meta"}


# ----------------------------------------------------------------------------------------------
# experts: Hedge and fixed share
# ----------------------------------------------------------------------------------------------


def test_fixed_share_with_no_share_is_chapter_3s_hedge_and_full_share_is_uniform():
    rng = np.random.default_rng(0)
    log_w = np.log(rng.dirichlet(np.ones(4), size=3))
    losses = rng.uniform(0, 5, size=(3, 4))
    np.testing.assert_allclose(fixed_share_update(log_w, losses, 0.7, 0.0), hedge_update(log_w, losses, 0.7),
                               rtol=1e-12)
    np.testing.assert_allclose(fixed_share_update(log_w, losses, 0.7, 1.0), np.full((3, 4), -math.log(4)),
                               rtol=1e-12)
    mixed = np.exp(fixed_share_update(log_w, losses, 0.7, 0.2))
    np.testing.assert_allclose(mixed, 0.8 * np.exp(hedge_update(log_w, losses, 0.7)) + 0.05, rtol=1e-12)
    np.testing.assert_allclose(mixed.sum(axis=-1), 1.0)
    # an expert Hedge has written off (weight 0) gets α/N back
    dead = fixed_share_update(np.array([0.0, -np.inf]), np.array([0.0, 0.0]), 1.0, 0.1)
    np.testing.assert_allclose(np.exp(dead), [0.95, 0.05])
    with pytest.raises(ValueError, match="share"):
        fixed_share_update(log_w, losses, 0.7, 1.5)


def _switching_batch(num_streams: int = 2, num_rounds: int = 12) -> StreamBatch:
    return SwitchingSinusoidStream(num_rounds, 3, 0.3, dtype=tf.float64).sample(num_streams, 4, 6, seed=8)


def test_plain_hedge_over_experts_is_chapter_3s_closed_form():
    batch = _switching_batch()
    pool = [tf.stack([init_mlp([1, 3, 1], seed=s, init="glorot", dtype=tf.float64)[k] + 0.3 * s
                      for s in range(4)]) for k in range(4)]  # four different fixed networks
    result = run_expert_hedge(pool, batch, learning_rate=0.5)
    assert result.method == "hedge" and result.weights.shape == (2, 12, 4)
    outputs = np.stack([forward([p[n] for p in pool], batch.query_x[s], activation="relu").numpy()[..., 0]
                        for s in range(2) for n in range(4)]).reshape(2, 4, 12, 6)
    targets = batch.query_y.numpy()[..., 0]
    expert_losses = ((outputs - targets[:, None]) ** 2).mean(axis=-1)  # [S, N, T]
    for s in range(2):
        scale = expert_losses[s].max()  # run_hedge wants losses in [0, 1]: η ℓ = (η c)(ℓ / c)
        closed = run_hedge(expert_losses[s].T / scale, learning_rate=0.5 * scale)
        np.testing.assert_allclose(result.weights[s], closed.weights, rtol=1e-9)
        prediction = np.einsum("tn,ntq->tq", result.weights[s], outputs[s])
        np.testing.assert_allclose(result.losses[s], ((prediction - targets[s]) ** 2).mean(axis=-1), rtol=1e-9)
    # the same pool given per stream gives the same run
    per_stream = [tf.stack([p, p]) for p in pool]
    np.testing.assert_allclose(run_expert_hedge(per_stream, batch, learning_rate=0.5).losses, result.losses,
                               rtol=1e-12)
    uniform = run_expert_hedge(pool, batch, learning_rate=0.5, share=1.0)
    assert uniform.method == "hedge_fixed_share"
    np.testing.assert_allclose(uniform.weights, 0.25)


def _with_regimes(batch: StreamBatch, amplitudes: list[float], phases: list[float]) -> StreamBatch:
    """``batch`` (its regime sequence and inputs) with the given regimes in every stream."""
    ra = tf.constant([amplitudes] * batch.num_streams, tf.float64)
    rp = tf.constant([phases] * batch.num_streams, tf.float64)
    a = tf.gather(ra, batch.regime, batch_dims=1)[..., None, None]
    phi = tf.gather(rp, batch.regime, batch_dims=1)[..., None, None]
    return dataclasses.replace(batch, support_y=a * tf.sin(batch.support_x - phi),
                               query_y=a * tf.sin(batch.query_x - phi), amplitude=a[..., 0, 0],
                               phase=phi[..., 0, 0], regime_amplitude=ra, regime_phase=rp)


def test_regime_experts_fit_their_own_regime_and_fixed_share_follows_the_switches():
    amplitudes, phases = [0.2, 3.0, 3.0], [0.0, 0.0, 3.0]
    batch = _with_regimes(_switching_batch(num_streams=2, num_rounds=40), amplitudes, phases)
    params = init_mlp([1, 16, 1], seed=1, init="glorot", dtype=tf.float64)
    experts = build_regime_experts(params, batch, num_points=60, num_steps=300, inner_lr=0.02, seed=2)
    assert experts[0].shape == (2, 3, 1, 16)
    x = tf.constant(np.linspace(-5, 5, 50)[:, None])
    losses = np.array([[float(tf.reduce_mean(tf.square(forward([p[1, e] for p in experts], x)
                                                       - amplitudes[r] * tf.sin(x - phases[r]))))
                        for r in range(3)] for e in range(3)])  # [expert, regime]
    np.testing.assert_array_equal(np.argmin(losses, axis=0), [0, 1, 2])
    untrained = build_regime_experts(params, batch, num_steps=0)
    np.testing.assert_array_equal(untrained[0][1, 2].numpy(), params[0].numpy())
    # the pool knows the regimes: with fixed share the ensemble follows the active one faster
    hedge = run_expert_hedge(experts, batch, learning_rate=2.0)
    share = run_expert_hedge(experts, batch, learning_rate=2.0, share=0.1)
    assert np.all(share.weights.min(axis=-1) >= 0.1 / 3 - 1e-12)
    assert share.losses.mean() < hedge.losses.mean()
    with pytest.raises(ValueError, match="switching"):
        build_regime_experts(params, _drift().sample(2, 2, 2, seed=0))


def test_cumulative_curves_and_ci():
    losses = np.array([[1.0, 2.0, 3.0], [0.0, 1.0, 1.0]])
    np.testing.assert_array_equal(cumulative_loss(losses), [[1, 3, 6], [0, 1, 2]])
    np.testing.assert_array_equal(cumulative_regret(losses, np.ones_like(losses)), [[0, 1, 3], [-1, -1, -1]])
    mean, ci = mean_and_ci95([1.0, 3.0])
    assert mean == 2.0 and ci == pytest.approx(1.96 * 1.0 / math.sqrt(2))
    with pytest.raises(ValueError, match="reference_losses"):
        cumulative_regret(losses, losses[:, :2])
