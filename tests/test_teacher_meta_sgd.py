"""Tests of :mod:`metalearn_lib.teacher.meta_sgd` (and the per-parameter α of ``two_level``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
import tensorflow as tf

from metalearn_lib.models import forward, init_mlp, mse
from metalearn_lib.tasks import SinusoidFamily
from metalearn_lib.teacher.meta_sgd import (
    MetaSGDResult,
    MetaSGDTeacher,
    evaluate_meta_sgd,
    init_alphas,
    meta_sgd_gradient,
    meta_sgd_loss,
    meta_train_meta_sgd,
)
from metalearn_lib.two_level import adapt, evaluate_fine_tuning, maml_loss, meta_gradient


@dataclass(frozen=True)
class _State:
    """A stand-in for ``loop.LearnerState`` (only ``grads`` is read)."""

    params: list[tf.Tensor]
    loss: tf.Tensor
    grads: list[tf.Tensor]
    step: int


def _tiny(seed: int = 3) -> list[tf.Tensor]:
    return init_mlp([1, 3, 1], seed=seed, init="glorot", dtype=tf.float64)


def _batch(num_tasks: int = 2, num_shots: int = 4, seed: int = 5) -> tuple[tf.Tensor, ...]:
    b = SinusoidFamily().sample(num_tasks, num_shots, 6, seed=seed)
    return tuple(tf.cast(t, tf.float64) for t in (b.support_x, b.support_y, b.query_x,
                                                   b.query_y))


def _random_alphas(params: list[tf.Tensor], seed: int = 0) -> list[tf.Tensor]:
    rng = np.random.default_rng(seed)
    return [tf.constant(rng.uniform(0.01, 0.2, p.shape), tf.float64) for p in params]


# --------------------------------------------------------------------------------------------
# the update, by hand
# --------------------------------------------------------------------------------------------
def test_hand_case_of_the_meta_sgd_step():
    """f(x) = w2·(w1·x + b1) + b2 (identity activation), one point (x, y) = (2, 1):
    θ = (w1, b1, w2, b2) = (1, 0, 1, 0) gives f = 2, L = (f − y)² = 1, ∇L = 2(f − y)·(w2·x, w2,
    w1·x + b1, 1) = (4, 2, 4, 2); with α = (0.1, 0.2, 0.3, 0.4): θ' = (0.6, −0.4, −0.2, −0.8)."""
    params = [tf.constant([[1.0]], tf.float64), tf.constant([0.0], tf.float64),
              tf.constant([[1.0]], tf.float64), tf.constant([0.0], tf.float64)]
    alphas = [tf.constant([[0.1]], tf.float64), tf.constant([0.2], tf.float64),
              tf.constant([[0.3]], tf.float64), tf.constant([0.4], tf.float64)]
    x = tf.constant([[[2.0]]], tf.float64)
    y = tf.constant([[[1.0]]], tf.float64)
    adapted = adapt(params, x, y, inner_lr=alphas, activation="identity")
    got = [float(tf.reshape(p, [-1])[0]) for p in adapted]
    np.testing.assert_allclose(got, [0.6, -0.4, -0.2, -0.8], rtol=1e-12)
    # the teacher gives the same step as an update Δθ = −α ⊙ ∇L
    teacher = MetaSGDTeacher(alphas)
    teacher.reset(params)
    grads = [tf.constant([[4.0]], tf.float64), tf.constant([2.0], tf.float64),
             tf.constant([[4.0]], tf.float64), tf.constant([2.0], tf.float64)]
    delta = teacher.update(_State(params, tf.constant(1.0, tf.float64), grads, 0))
    np.testing.assert_allclose([float(tf.reshape(d, [-1])[0]) for d in delta],
                               [-0.4, -0.4, -1.2, -0.8], rtol=1e-12)


def test_scalar_teacher_is_sgd():
    grads = [tf.constant([1.0, -2.0]), tf.constant([[3.0]])]
    delta = MetaSGDTeacher(0.5).update(_State([], tf.constant(0.0), grads, 0))
    np.testing.assert_allclose(delta[0].numpy(), [-0.5, 1.0])
    np.testing.assert_allclose(delta[1].numpy(), [[-1.5]])


def test_uniform_alpha_equals_maml():
    params = _tiny()
    sx, sy, qx, qy = _batch()
    alphas = init_alphas(params, 0.03)
    a = meta_sgd_loss(params, alphas, sx, sy, qx, qy)
    b = maml_loss(params, sx, sy, qx, qy, inner_lr=0.03)
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)
    _, g_msgd, _ = meta_sgd_gradient(params, alphas, sx, sy, qx, qy)
    _, g_maml = meta_gradient(params, sx, sy, qx, qy, inner_lr=0.03)
    for u, v in zip(g_msgd, g_maml, strict=True):
        np.testing.assert_allclose(u.numpy(), v.numpy(), rtol=1e-10, atol=1e-14)


# --------------------------------------------------------------------------------------------
# the meta-gradient against finite differences
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_meta_gradient_matches_finite_differences(activation):
    params = _tiny()
    alphas = _random_alphas(params)
    sx, sy, qx, qy = _batch()
    _, g_params, g_alphas = meta_sgd_gradient(params, alphas, sx, sy, qx, qy,
                                              activation=activation)

    def loss(ps: list[tf.Tensor], als: list[tf.Tensor]) -> float:
        return float(meta_sgd_loss(ps, als, sx, sy, qx, qy, activation=activation))

    eps = 1e-6
    for which, grads in (("params", g_params), ("alphas", g_alphas)):
        for k in range(len(params)):
            base = (params if which == "params" else alphas)[k].numpy()
            for idx in np.ndindex(base.shape):
                plus, minus = base.copy(), base.copy()
                plus[idx] += eps
                minus[idx] -= eps

                def swap(v: np.ndarray, k: int = k, which: str = which) -> float:
                    ps, als = list(params), list(alphas)
                    (ps if which == "params" else als)[k] = tf.constant(v, tf.float64)
                    return loss(ps, als)

                fd = (swap(plus) - swap(minus)) / (2 * eps)
                np.testing.assert_allclose(grads[k].numpy()[idx], fd, rtol=1e-5, atol=1e-8,
                                           err_msg=f"{which}[{k}]{idx}")


def test_alpha_gradient_formula_one_step():
    """∇_α L = −(1/N) Σ_i ∇L_i^query(θ'_i) ⊙ ∇L_i^support(θ)."""
    params = _tiny()
    alphas = _random_alphas(params, 1)
    sx, sy, qx, qy = _batch(num_tasks=3)
    _, _, g_alphas = meta_sgd_gradient(params, alphas, sx, sy, qx, qy, activation="tanh")
    expected = [np.zeros(p.shape) for p in params]
    for i in range(3):
        with tf.GradientTape() as tape:
            tape.watch(params)
            ls = tf.reduce_mean(mse(forward(params, sx[i], activation="tanh"), sy[i]))
        g_sup = tape.gradient(ls, params)
        adapted = [p - a * g for p, a, g in zip(params, alphas, g_sup, strict=True)]
        with tf.GradientTape() as tape:
            tape.watch(adapted)
            lq = tf.reduce_mean(mse(forward(adapted, qx[i], activation="tanh"), qy[i]))
        g_q = tape.gradient(lq, adapted)
        for k in range(len(params)):
            expected[k] -= (g_q[k] * g_sup[k]).numpy() / 3
    for got, want in zip(g_alphas, expected, strict=True):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-9, atol=1e-13)


# --------------------------------------------------------------------------------------------
# training
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def trained() -> tuple[MetaSGDResult, list[tf.Tensor]]:
    init = init_mlp([1, 20, 20, 1], seed=0)
    result = meta_train_meta_sgd(init, SinusoidFamily(), num_iterations=300,
                                 meta_batch_size=10, num_shots=5, num_query=10,
                                 init_alpha=0.01, outer_lr=3e-3, iterations_per_call=150)
    return result, init


def test_the_learned_step_sizes_are_updated_by_the_meta_gradient(trained):
    result, init = trained
    assert [a.shape for a in result.alphas] == [p.shape for p in init]
    changed = [float(tf.reduce_max(tf.abs(a - 0.01))) for a in result.alphas]
    assert all(c > 1e-4 for c in changed), changed
    # not a uniform shift: different entries moved differently
    assert all(float(tf.math.reduce_std(a)) > 1e-5 for a in result.alphas if a.shape[-1] > 1)
    assert any(float(tf.reduce_max(tf.abs(p - q))) > 1e-3
               for p, q in zip(result.params, init, strict=True))
    assert result.losses.shape == (300,) and np.all(np.isfinite(result.losses))
    assert result.config["method"] == "meta_sgd" and result.iterations_per_s > 0


def test_training_reduces_meta_test_loss(trained):
    result, init = trained
    family = SinusoidFamily()
    before = MetaSGDResult(init, init_alphas(init, 0.01), np.zeros(1), 1.0, 1.0)
    kw = dict(num_tasks=200, num_shots=5, steps=(1,), seed=10_005)
    after_mse = evaluate_meta_sgd(result, family, **kw).mean_mse[0]
    before_mse = evaluate_meta_sgd(before, family, **kw).mean_mse[0]
    assert after_mse < 0.9 * before_mse, (before_mse, after_mse)
    assert result.losses[-50:].mean() < result.losses[:50].mean()


def test_evaluate_with_uniform_alpha_equals_scalar_alpha(trained):
    result, _ = trained
    family = SinusoidFamily()
    kw = dict(num_tasks=20, num_shots=5, steps=(0, 1, 3), seed=7)
    a = evaluate_fine_tuning(result.params, family, inner_lr=init_alphas(result.params, 0.02),
                             **kw)
    b = evaluate_fine_tuning(result.params, family, inner_lr=0.02, **kw)
    np.testing.assert_allclose(a.per_task_mse, b.per_task_mse, rtol=1e-6)


def test_teacher_runs_in_the_loop(trained):
    loop = pytest.importorskip("metalearn_lib.teacher.loop")
    result, _ = trained
    b = SinusoidFamily().sample(1, 5, 50, seed=123)

    def loss_fn(params: list[tf.Tensor]) -> tf.Tensor:
        return tf.reduce_mean(mse(forward(params, b.support_x[0]), b.support_y[0]))

    traj = loop.run_teacher_loop(MetaSGDTeacher(result.alphas), loss_fn, result.params,
                                 max_steps=1)
    adapted = adapt(result.params, b.support_x, b.support_y, inner_lr=result.alphas)
    for p, q in zip(traj.final_params, adapted, strict=True):
        np.testing.assert_allclose(p.numpy(), q[0].numpy(), rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------------
def test_validation_errors():
    params = _tiny()
    sx, sy, qx, qy = _batch()
    alphas = init_alphas(params)
    with pytest.raises(ValueError, match="alphas"):
        meta_sgd_loss(params, alphas[:-1], sx, sy, qx, qy)
    with pytest.raises(ValueError, match=r"alphas\[0\]"):
        meta_sgd_loss(params, [tf.zeros([2, 2], tf.float64), *alphas[1:]], sx, sy, qx, qy)
    with pytest.raises(TypeError, match="alphas"):
        meta_sgd_gradient(params, tf.zeros([3]), sx, sy, qx, qy)
    with pytest.raises(ValueError, match="inner_lr"):
        adapt(params, sx, sy, inner_lr=alphas[:2])
    with pytest.raises(ValueError, match=r"inner_lr\[1\]"):
        adapt(params, sx, sy, inner_lr=[alphas[0], tf.zeros([7], tf.float64), *alphas[2:]])
    with pytest.raises(TypeError, match=r"inner_lr\[0\]"):
        adapt(params, sx, sy, inner_lr=[tf.zeros([1, 3], tf.int32), *alphas[1:]])
    with pytest.raises(ValueError, match="inner_lr"):
        adapt(params, sx, sy, inner_lr=-0.1)
    with pytest.raises(ValueError, match="value"):
        init_alphas(params, -1.0)
    family = SinusoidFamily()
    with pytest.raises(ValueError, match="num_iterations"):
        meta_train_meta_sgd(params, family, num_iterations=0)
    with pytest.raises(TypeError, match="meta_batch_size"):
        meta_train_meta_sgd(params, family, num_iterations=1, meta_batch_size=2.5)
    with pytest.raises(ValueError, match="outer_lr"):
        meta_train_meta_sgd(params, family, num_iterations=1, outer_lr=0.0)
    with pytest.raises(ValueError, match="init_alpha"):
        meta_train_meta_sgd(params, family, num_iterations=1, init_alpha=-0.01)
    with pytest.raises(ValueError, match="alphas"):
        meta_train_meta_sgd(params, family, num_iterations=1, init_alpha=alphas[:1])
    with pytest.raises(TypeError, match="family"):
        meta_train_meta_sgd(params, object(), num_iterations=1)
    with pytest.raises(TypeError, match="params"):
        meta_train_meta_sgd(tf.zeros([1, 3]), family, num_iterations=1)
    with pytest.raises(TypeError, match="result"):
        evaluate_meta_sgd(params, family)
    with pytest.raises(ValueError, match="alpha"):
        MetaSGDTeacher(-0.1)
    with pytest.raises(TypeError, match="alpha"):
        MetaSGDTeacher("fast")
    with pytest.raises(TypeError, match="alpha"):
        MetaSGDTeacher(tf.ones([3]))
    with pytest.raises(ValueError, match="alpha"):
        MetaSGDTeacher([])
    teacher = MetaSGDTeacher(alphas)
    with pytest.raises(ValueError, match="alphas"):
        teacher.reset(params[:2])
    with pytest.raises(TypeError, match="state"):
        teacher.update(object())
    assert "4 tensors" in repr(teacher) and "0.5" in repr(MetaSGDTeacher(0.5))
