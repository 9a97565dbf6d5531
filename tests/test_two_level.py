"""Tests for metalearn_lib.two_level: meta-gradients, Reptile, trainers and evaluation."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from metalearn_lib import seed_everything
from metalearn_lib.models import forward, init_mlp, mse, tile_params
from metalearn_lib.tasks import SinusoidFamily
from metalearn_lib.two_level import (
    adam_init,
    adam_update,
    adapt,
    evaluate_fine_tuning,
    maml_loss,
    meta_gradient,
    meta_train,
    pretrain_loss,
    reptile_update,
)

ALPHA = 0.3  # a large inner step so the second-order term is far above finite-difference noise


@pytest.fixture(autouse=True)
def _seed() -> None:
    seed_everything(0)


@pytest.fixture
def tiny() -> tuple[list[tf.Tensor], tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]:
    """A 1-3-1 tanh network in float64 and two sinusoid tasks with 4 + 5 points."""
    params = init_mlp([1, 3, 1], seed=3, init="glorot", dtype=tf.float64)
    params = [p + 0.1 for p in params]  # non-zero biases
    batch = SinusoidFamily(dtype=tf.float64).sample(2, 4, 5, seed=7)
    return params, batch.support_x, batch.support_y, batch.query_x, batch.query_y


def _finite_difference(fn, params: list[tf.Tensor], h: float = 1e-6) -> list[np.ndarray]:
    """Central differences (f(θ + h e_j) − f(θ − h e_j)) / 2h for every scalar of θ."""
    grads = []
    for k, p in enumerate(params):
        g = np.zeros(p.shape)
        for idx in np.ndindex(*p.shape):
            delta = np.zeros(p.shape)
            delta[idx] = h
            plus = [q + delta if j == k else q for j, q in enumerate(params)]
            minus = [q - delta if j == k else q for j, q in enumerate(params)]
            g[idx] = (float(fn(plus)) - float(fn(minus))) / (2 * h)
        grads.append(g)
    return grads


@pytest.mark.parametrize("num_inner_steps", [1, 2])
def test_maml_gradient_matches_finite_differences(tiny, num_inner_steps: int) -> None:
    params, sx, sy, qx, qy = tiny
    kwargs = dict(inner_lr=ALPHA, num_inner_steps=num_inner_steps, activation="tanh")
    _, grads = meta_gradient(params, sx, sy, qx, qy, **kwargs)
    numeric = _finite_difference(lambda p: maml_loss(p, sx, sy, qx, qy, **kwargs), params)
    for g, n in zip(grads, numeric, strict=True):
        np.testing.assert_allclose(g.numpy(), n, rtol=1e-6, atol=1e-8)
    # ... and first-order MAML does not (so the check above has teeth).
    _, fo = meta_gradient(params, sx, sy, qx, qy, first_order=True, **kwargs)
    assert max(np.abs(f.numpy() - n).max() for f, n in zip(fo, numeric, strict=True)) > 1e-3


def test_fomaml_differs_by_exactly_the_second_order_term(tiny) -> None:
    """One step: ∇MAML = ∇FOMAML − α (1/N) Σ_i H_i^support(θ) ∇L_i^query(θ'_i)."""
    params, sx, sy, qx, qy = tiny
    kwargs = dict(inner_lr=ALPHA, num_inner_steps=1, activation="tanh")
    _, maml = meta_gradient(params, sx, sy, qx, qy, **kwargs)
    _, fomaml = meta_gradient(params, sx, sy, qx, qy, first_order=True, **kwargs)

    num_tasks = int(sx.shape[0])
    term = [tf.zeros_like(p) for p in params]
    for i in range(num_tasks):  # explicitly, one task at a time, without the library's batching
        with tf.GradientTape() as tape:
            tape.watch(params)
            support_loss = mse(forward(params, sx[i], activation="tanh"), sy[i])
        g_support = tape.gradient(support_loss, params)
        adapted = [p - ALPHA * g for p, g in zip(params, g_support, strict=True)]
        with tf.GradientTape() as tape:
            tape.watch(adapted)
            query_loss = mse(forward(adapted, qx[i], activation="tanh"), qy[i])
        v = tape.gradient(query_loss, adapted)  # ∇L_i^query(θ'_i), a constant below
        # Hessian-vector product H v = ∇_θ (∇_θ L^support(θ) · v).
        with tf.GradientTape() as outer:
            outer.watch(params)
            with tf.GradientTape() as inner:
                inner.watch(params)
                support_loss = mse(forward(params, sx[i], activation="tanh"), sy[i])
            g = inner.gradient(support_loss, params)
            dot = tf.add_n([tf.reduce_sum(a * b) for a, b in zip(g, v, strict=True)])
        hvp = outer.gradient(dot, params)
        term = [t - ALPHA / num_tasks * h for t, h in zip(term, hvp, strict=True)]
        assert max(float(tf.reduce_max(tf.abs(h))) for h in hvp) > 1e-3  # non-trivial

    for m, f, t in zip(maml, fomaml, term, strict=True):
        np.testing.assert_allclose(m.numpy(), (f + t).numpy(), rtol=1e-10, atol=1e-12)


def test_fomaml_gradient_is_the_query_gradient_at_the_adapted_parameters(tiny) -> None:
    params, sx, sy, qx, qy = tiny
    _, fomaml = meta_gradient(params, sx, sy, qx, qy, inner_lr=ALPHA, first_order=True,
                              activation="tanh")
    adapted = adapt(params, sx, sy, inner_lr=ALPHA, activation="tanh")
    with tf.GradientTape() as tape:
        tape.watch(adapted)
        loss = tf.reduce_mean(mse(forward(adapted, qx, activation="tanh"), qy))
    per_task = tape.gradient(loss, adapted)
    for f, g in zip(fomaml, per_task, strict=True):
        np.testing.assert_allclose(f.numpy(), tf.reduce_sum(g, axis=0).numpy(), rtol=1e-10)


def test_adapt_is_batched_per_task(tiny) -> None:
    params, sx, sy, _, _ = tiny
    adapted = adapt(params, sx, sy, inner_lr=ALPHA, num_inner_steps=3, activation="tanh")
    assert [a.shape[0] for a in adapted] == [2] * len(params)
    for i in range(2):  # equals adapting task i alone
        alone = adapt(params, sx[i:i + 1], sy[i:i + 1], inner_lr=ALPHA, num_inner_steps=3,
                      activation="tanh")
        for a, b in zip(adapted, alone, strict=True):
            np.testing.assert_allclose(a[i].numpy(), b[0].numpy(), rtol=1e-12)
    zero = adapt(params, sx, sy, inner_lr=ALPHA, num_inner_steps=0)
    np.testing.assert_array_equal(zero[0].numpy(), tile_params(params, 2)[0].numpy())


def test_reptile_update_on_a_hand_case() -> None:
    """y = w·x + b, θ = (w, b) = (0.5, 0), one task x = (1, 2), y = (1, 3), α = 0.1, ε = 0.5.

    Residuals r = (−0.5, −2); ∂L/∂w = 2·mean(r·x) = −4.5, ∂L/∂b = 2·mean(r) = −2.5, so
    φ̃ = (0.95, 0.25) and θ + ε(φ̃ − θ) = (0.725, 0.125).
    """
    params = [tf.constant([[0.5]], tf.float64), tf.constant([0.0], tf.float64)]
    x = tf.constant([[[1.0], [2.0]]], tf.float64)
    y = tf.constant([[[1.0], [3.0]]], tf.float64)
    new = reptile_update(params, x, y, inner_lr=0.1, num_inner_steps=1, outer_lr=0.5)
    np.testing.assert_allclose(new[0].numpy(), [[0.725]], rtol=1e-12)
    np.testing.assert_allclose(new[1].numpy(), [0.125], rtol=1e-12)


def test_reptile_update_averages_tasks_and_steps() -> None:
    params = init_mlp([1, 4, 1], seed=1, init="glorot", dtype=tf.float64)
    batch = SinusoidFamily(dtype=tf.float64).sample(3, 5, seed=2)
    new = reptile_update(params, batch.support_x, batch.support_y, inner_lr=0.05,
                         num_inner_steps=2, outer_lr=0.3)
    phis = []
    for i in range(3):  # by hand: two SGD steps per task
        phi = list(params)
        for _ in range(2):
            with tf.GradientTape() as tape:
                tape.watch(phi)
                loss = mse(forward(phi, batch.support_x[i]), batch.support_y[i])
            phi = [p - 0.05 * g for p, g in zip(phi, tape.gradient(loss, phi), strict=True)]
        phis.append(phi)
    for k, p in enumerate(params):
        mean_phi = np.mean([phi[k].numpy() for phi in phis], axis=0)
        np.testing.assert_allclose(new[k].numpy(), p.numpy() + 0.3 * (mean_phi - p.numpy()),
                                   rtol=1e-12, atol=1e-14)


def test_adam_update_matches_keras() -> None:
    params = [tf.constant([1.0, -2.0], tf.float64), tf.constant([[0.5]], tf.float64)]
    variables = [tf.Variable(p) for p in params]
    optimizer = tf.keras.optimizers.Adam(learning_rate=0.1, epsilon=1e-12)
    state = adam_init(params)
    for step in range(3):
        grads = [p * (step + 1.0) for p in params]
        optimizer.apply_gradients(zip([v * (step + 1.0) for v in variables], variables,
                                      strict=True))
        params, state = adam_update(params, grads, state, learning_rate=0.1, epsilon=1e-12)
    assert int(state.step) == 3
    # Keras keeps β₁, β₂ in float32, which moves the 6th digit; our Adam runs in float64.
    for p, v in zip(params, variables, strict=True):
        np.testing.assert_allclose(p.numpy(), v.numpy(), rtol=2e-5)


def test_pretrain_loss_is_the_mean_task_mse(tiny) -> None:
    params, sx, sy, _, _ = tiny
    expected = np.mean([mse(forward(params, sx[i]), sy[i]).numpy() for i in range(2)])
    np.testing.assert_allclose(pretrain_loss(params, sx, sy).numpy(), expected, rtol=1e-12)


def test_short_maml_training_reduces_meta_test_loss() -> None:
    family = SinusoidFamily()
    params = init_mlp([1, 40, 40, 1], seed=0, init="glorot")  # learns faster than std 0.01
    before = evaluate_fine_tuning(params, family, num_tasks=200, num_shots=10, steps=(1,))
    result = meta_train(params, family, method="maml", num_iterations=400, meta_batch_size=10,
                        outer_lr=3e-3, iterations_per_call=200)
    after = evaluate_fine_tuning(result.params, family, num_tasks=200, num_shots=10, steps=(1,))
    assert result.losses.shape == (400,)
    assert result.losses[-100:].mean() < 0.6 * result.losses[:100].mean()
    assert after.mean_mse[0] < 0.5 * before.mean_mse[0]  # measured: 4.35 -> 1.25
    assert result.iterations_per_s > 0 and result.config["method"] == "maml"


@pytest.mark.parametrize("method", ["fomaml", "reptile", "pretrained"])
def test_other_trainers_reduce_their_loss(method: str) -> None:
    family = SinusoidFamily()
    kwargs = {"num_inner_steps": 5, "inner_lr": 0.02, "outer_lr": 1.0,
              "anneal_outer_lr": True} if method == "reptile" else {"outer_lr": 3e-3}
    result = meta_train(init_mlp([1, 20, 20, 1], seed=0, init="glorot"), family, method=method,
                        num_iterations=500, meta_batch_size=10, iterations_per_call=500,
                        **kwargs)
    # The pretrained network's best possible MSE is about 2.9 (it cannot adapt), so less drop.
    factor = 0.97 if method == "pretrained" else 0.8  # measured: 0.90, fomaml 0.63, reptile 0.26
    assert result.losses[-100:].mean() < factor * result.losses[:100].mean()


def test_training_is_deterministic_and_chunking_does_not_matter() -> None:
    family = SinusoidFamily()
    params = init_mlp([1, 8, 1], seed=0)
    kwargs = dict(method="maml", num_iterations=30, meta_batch_size=4, seed=5)
    a = meta_train(params, family, iterations_per_call=30, **kwargs)
    b = meta_train(params, family, iterations_per_call=30, **kwargs)
    c = meta_train(params, family, iterations_per_call=7, **kwargs)
    np.testing.assert_array_equal(a.losses, b.losses)
    np.testing.assert_allclose(a.losses, c.losses, rtol=1e-5)
    for p, q in zip(a.params, b.params, strict=True):
        np.testing.assert_array_equal(p.numpy(), q.numpy())


def test_evaluate_fine_tuning_reports_mean_and_ci() -> None:
    family = SinusoidFamily()
    params = init_mlp([1, 8, 1], seed=0, init="glorot")
    result = evaluate_fine_tuning(params, family, num_tasks=50, num_shots=5, num_query=20,
                                  steps=(0, 2), seed=3)
    assert result.per_task_mse.shape == (2, 50)
    np.testing.assert_allclose(result.mean_mse, result.per_task_mse.mean(axis=1), rtol=1e-6)
    np.testing.assert_allclose(result.ci95, 1.96 * result.per_task_mse.std(axis=1) / np.sqrt(50),
                               rtol=1e-6)
    batch = family.sample(50, 5, 20, seed=3)
    np.testing.assert_allclose(result.per_task_mse[0],
                               mse(forward(params, batch.query_x), batch.query_y).numpy(),
                               rtol=1e-6)
    adapted = adapt(params, batch.support_x, batch.support_y, inner_lr=0.01, num_inner_steps=2)
    np.testing.assert_allclose(result.per_task_mse[1],
                               mse(forward(adapted, batch.query_x), batch.query_y).numpy(),
                               rtol=1e-5)
    assert set(result.as_dict()) == {0, 2}
    np.testing.assert_allclose(result.median_mse, np.median(result.per_task_mse, axis=1))
    assert result.num_diverged == (0, 0)


def test_evaluate_fine_tuning_counts_diverging_tasks() -> None:
    params = init_mlp([1, 8, 1], seed=0, init="glorot")
    result = evaluate_fine_tuning(params, SinusoidFamily(), num_tasks=20, steps=(0, 30),
                                  inner_lr=5.0)  # far beyond the stable step size
    assert result.num_diverged[0] == 0 and result.num_diverged[1] > 0


def test_validation_errors(tiny) -> None:
    params, sx, sy, qx, qy = tiny
    family = SinusoidFamily()
    with pytest.raises(ValueError, match="inner_lr"):
        adapt(params, sx, sy, inner_lr=-0.1)
    with pytest.raises(ValueError, match="num_inner_steps"):
        adapt(params, sx, sy, inner_lr=0.1, num_inner_steps=-1)
    with pytest.raises(TypeError, match="num_inner_steps"):
        adapt(params, sx, sy, inner_lr=0.1, num_inner_steps=1.0)
    with pytest.raises(ValueError, match="support_x"):
        adapt(params, sx[0], sy[0], inner_lr=0.1)
    with pytest.raises(ValueError, match="query_x"):
        maml_loss(params, sx, sy, qx, qy[:1], inner_lr=0.1)
    with pytest.raises(ValueError, match="outer_lr"):
        reptile_update(params, sx, sy, inner_lr=0.1, num_inner_steps=1, outer_lr=float("nan"))
    with pytest.raises(ValueError, match="method"):
        meta_train(params, family, method="maml++", num_iterations=1)
    with pytest.raises(ValueError, match="num_iterations"):
        meta_train(params, family, num_iterations=0)
    with pytest.raises(ValueError, match="outer_lr"):
        meta_train(params, family, num_iterations=1, outer_lr=0.0)
    with pytest.raises(TypeError, match="family"):
        meta_train(params, object(), num_iterations=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="steps"):
        evaluate_fine_tuning(params, family, steps=(5, 1))
    with pytest.raises(ValueError, match="num_tasks"):
        evaluate_fine_tuning(params, family, num_tasks=1)


def test_xla_compiled_training_is_deterministic_and_agrees_with_graph_mode() -> None:
    family = SinusoidFamily()
    params = init_mlp([1, 8, 1], seed=0, init="glorot")
    kwargs = dict(method="maml", num_iterations=5, meta_batch_size=4, iterations_per_call=5)
    xla = meta_train(params, family, jit_compile=True, **kwargs)
    again = meta_train(params, family, jit_compile=True, **kwargs)
    graph = meta_train(params, family, jit_compile=False, **kwargs)
    np.testing.assert_array_equal(xla.losses, again.losses)
    # Same tasks, same maths; only the floating-point order of operations differs.
    np.testing.assert_allclose(xla.losses, graph.losses, rtol=1e-4)
