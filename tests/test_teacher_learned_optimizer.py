"""Tests for metalearn_lib.teacher.learned_optimizer (chapter 4, the learned optimiser)."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from metalearn_lib.models import init_mlp
from metalearn_lib.tasks import LinearFamily
from metalearn_lib.teacher.learned_optimizer import (
    LearnedOptimizerTeacher,
    ScaledFeatures,
    compare_optimizers,
    init_learned_optimizer,
    init_optimizer_state,
    learned_update,
    meta_train_learned_optimizer,
    unrolled_loss,
)

SCALES = tuple(np.logspace(-1, 1, 4).tolist())


def _family(dtype: tf.DType = tf.float32) -> ScaledFeatures:
    return ScaledFeatures(LinearFamily(num_features=4, noise_std=0.1, dtype=dtype), SCALES)


@pytest.fixture(scope="module")
def trained() -> object:
    return meta_train_learned_optimizer(_family(), num_iterations=150, unroll=10, meta_batch_size=8,
                                        num_shots=12, hidden=8, outer_lr=1e-2, seed=0)


def _fd_setup() -> tuple[list[tf.Tensor], list[tf.Tensor], object]:
    fam = _family(tf.float64)
    phi = init_learned_optimizer(hidden=3, seed=2, dtype=tf.float64)
    phi[2] = phi[2] * 30.0  # make the learned correction matter
    return phi, init_mlp([4, 1], 0, dtype=tf.float64), fam.sample(3, 5, seed=7)


def _meta_grad(phi: list[tf.Tensor], theta0: list[tf.Tensor], batch: object, num_steps: int,
               second_order: bool) -> list[tf.Tensor]:
    with tf.GradientTape() as tape:
        tape.watch(phi)
        value = unrolled_loss(phi, theta0, batch, num_steps, second_order=second_order)
    return tape.gradient(value, phi)


def test_meta_gradient_matches_finite_differences() -> None:
    phi, theta0, batch = _fd_setup()
    grads = _meta_grad(phi, theta0, batch, 4, True)
    rng = np.random.default_rng(0)
    eps = 1e-6
    for _ in range(3):  # directional derivatives along random directions
        direction = [tf.constant(rng.normal(size=p.shape.as_list())) for p in phi]
        plus = unrolled_loss([p + eps * d for p, d in zip(phi, direction, strict=True)], theta0, batch, 4)
        minus = unrolled_loss([p - eps * d for p, d in zip(phi, direction, strict=True)], theta0, batch, 4)
        fd = float((plus - minus) / (2 * eps))
        analytic = float(sum(tf.reduce_sum(g * d) for g, d in zip(grads, direction, strict=True)))
        assert analytic == pytest.approx(fd, rel=1e-6, abs=1e-10)
    for i, p in enumerate(phi):  # and one coordinate of every tensor
        e = np.zeros(p.shape.as_list())
        e.flat[0] = 1.0
        shifted = [q + eps * tf.constant(e) if j == i else q for j, q in enumerate(phi)]
        shifted_m = [q - eps * tf.constant(e) if j == i else q for j, q in enumerate(phi)]
        fd = float((unrolled_loss(shifted, theta0, batch, 4) - unrolled_loss(shifted_m, theta0, batch, 4))
                   / (2 * eps))
        assert float(tf.reshape(grads[i], [-1])[0]) == pytest.approx(fd, rel=1e-6, abs=1e-10)


def test_first_order_meta_gradient() -> None:
    phi, theta0, batch = _fd_setup()
    # one step: θ_0 and ∇L(θ_0) do not depend on φ, so first and second order agree exactly
    for g1, g2 in zip(_meta_grad(phi, theta0, batch, 1, False), _meta_grad(phi, theta0, batch, 1, True),
                      strict=True):
        np.testing.assert_allclose(g1.numpy(), g2.numpy(), rtol=1e-10, atol=1e-14)
    # longer unrolls: finite and different (the Hessian terms are dropped)
    g_fo = _meta_grad(phi, theta0, batch, 4, False)
    g_so = _meta_grad(phi, theta0, batch, 4, True)
    assert all(np.all(np.isfinite(g.numpy())) for g in g_fo)
    assert not np.allclose(g_fo[0].numpy(), g_so[0].numpy())


def test_updates_are_coordinate_wise() -> None:
    phi = init_learned_optimizer(hidden=8, seed=1)
    phi[2] = phi[2] * 50.0
    g = tf.random.stateless_normal([10], [1, 2])
    perm = np.random.default_rng(1).permutation(10)
    state = init_optimizer_state([g])
    for _ in range(3):  # a few steps so the state is non-trivial
        (upd,), state = learned_update(phi, [g], state)
    state_p = init_optimizer_state([g])
    gp = tf.gather(g, perm)
    for _ in range(3):
        (upd_p,), state_p = learned_update(phi, [gp], state_p)
    np.testing.assert_allclose(upd_p.numpy(), tf.gather(upd, perm).numpy(), rtol=1e-6)
    # any shapes: per-task tensors go through the same network
    ups, _ = learned_update(phi, [tf.ones([2, 3, 1]), tf.ones([2, 1])],
                            init_optimizer_state([tf.ones([2, 3, 1]), tf.ones([2, 1])]))
    assert [u.shape.as_list() for u in ups] == [[2, 3, 1], [2, 1]]


def test_meta_training_reduces_unrolled_loss(trained: object) -> None:
    fam = _family()
    batch = fam.sample(64, 12, seed=123_456)
    theta0 = init_mlp([4, 1], 0)
    before = float(unrolled_loss(init_learned_optimizer(hidden=8, seed=0), theta0, batch, 10))
    after = float(unrolled_loss(trained.opt_params, theta0, batch, 10))
    assert after < 0.8 * before
    assert trained.losses.shape == (150,)
    assert np.all(np.isfinite(trained.losses))
    assert trained.config["second_order"] is True


def test_meta_training_is_deterministic() -> None:
    kw = dict(num_iterations=3, unroll=3, meta_batch_size=2, num_shots=4, hidden=2, seed=5)
    a = meta_train_learned_optimizer(_family(), **kw)
    b = meta_train_learned_optimizer(_family(), truncations=1, **kw)
    np.testing.assert_array_equal(a.losses, b.losses)
    for p, q in zip(a.opt_params, b.opt_params, strict=True):
        np.testing.assert_array_equal(p.numpy(), q.numpy())
    c = meta_train_learned_optimizer(_family(), truncations=2, **kw)
    assert c.losses.shape == (3,) and np.all(np.isfinite(c.losses))


def test_trained_optimizer_beats_tuned_sgd_at_trained_horizon(trained: object) -> None:
    result = compare_optimizers(trained.opt_params, _family(), num_tasks=100, num_shots=12,
                                horizons=(10, 50), sgd_lrs=(0.003, 0.01, 0.03, 0.1),
                                adam_lrs=(0.03, 0.1, 0.3), seed=99)
    learned, sgd = result["learned"][10], result["sgd"][10]
    assert learned[0] + learned[1] < sgd[0] - sgd[1]
    assert learned[0] < result["initial"][0]
    assert set(result) >= {"horizons", "learned", "sgd", "adam", "sgd_lr", "adam_lr", "initial"}
    assert result["sgd_lr"][10] in (0.003, 0.01, 0.03, 0.1)
    assert np.isfinite(result["learned"][50][0])


def test_teacher_runs_in_the_loop(trained: object) -> None:
    loop = pytest.importorskip("metalearn_lib.teacher.loop")
    batch = _family().sample(1, 12, seed=3)
    x, y = batch.support_x[0], batch.support_y[0]

    def loss_fn(params: list[tf.Tensor]) -> tf.Tensor:
        pred = tf.matmul(x, params[0]) + params[1]
        return tf.reduce_mean(tf.square(pred - y))

    teacher = LearnedOptimizerTeacher(trained.opt_params)
    traj = loop.run_teacher_loop(teacher, loss_fn, init_mlp([4, 1], 0), max_steps=10)
    assert traj.num_steps == 10
    assert traj.final_loss < 0.5 * traj.losses[0]
    # reset clears the state: a second run repeats the first exactly
    again = loop.run_teacher_loop(teacher, loss_fn, init_mlp([4, 1], 0), max_steps=10)
    np.testing.assert_allclose(again.losses, traj.losses)


def test_validation_errors_name_the_argument() -> None:
    fam = _family()
    phi = init_learned_optimizer(hidden=2)
    with pytest.raises(ValueError, match="hidden"):
        init_learned_optimizer(hidden=0)
    with pytest.raises(ValueError, match="init_lr"):
        init_learned_optimizer(init_lr=0.0)
    with pytest.raises(ValueError, match="opt_params"):
        LearnedOptimizerTeacher(phi[:3])
    with pytest.raises(ValueError, match="opt_params"):
        unrolled_loss([tf.zeros([2, 2])] * 5, init_mlp([4, 1], 0), fam.sample(2, 3, seed=0), 2)
    with pytest.raises(ValueError, match="num_steps"):
        unrolled_loss(phi, init_mlp([4, 1], 0), fam.sample(2, 3, seed=0), 0)
    with pytest.raises(TypeError, match="batch"):
        unrolled_loss(phi, init_mlp([4, 1], 0), "tasks", 2)
    with pytest.raises(TypeError, match="family"):
        meta_train_learned_optimizer(object(), num_iterations=1)
    for name in ("num_iterations", "unroll", "truncations", "meta_batch_size", "num_shots"):
        kwargs = dict(num_iterations=1)
        kwargs[name] = 0
        with pytest.raises(ValueError, match=name):
            meta_train_learned_optimizer(fam, **kwargs)
    with pytest.raises(ValueError, match="outer_lr"):
        meta_train_learned_optimizer(fam, num_iterations=1, outer_lr=-1.0)
    with pytest.raises(ValueError, match="horizons"):
        compare_optimizers(phi, fam, horizons=())
    with pytest.raises(ValueError, match="horizons"):
        compare_optimizers(phi, fam, horizons=(0,))
    with pytest.raises(ValueError, match="sgd_lrs"):
        compare_optimizers(phi, fam, sgd_lrs=())
    with pytest.raises(ValueError, match=r"adam_lrs\[0\]"):
        compare_optimizers(phi, fam, adam_lrs=(-0.1,))
    with pytest.raises(ValueError, match="num_tasks"):
        compare_optimizers(phi, fam, num_tasks=1)
    with pytest.raises(ValueError, match="scales"):
        ScaledFeatures(LinearFamily(num_features=2), (1.0, 0.0))
    with pytest.raises(ValueError, match="scales"):
        ScaledFeatures(LinearFamily(num_features=2), (1.0,)).sample(2, 3, seed=0)
    with pytest.raises(TypeError, match="grads"):
        LearnedOptimizerTeacher(phi).update(object())
