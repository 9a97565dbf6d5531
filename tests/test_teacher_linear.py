"""Linear teachers: hand calculations, the article teacher's failure modes, the exact teacher."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from metalearn_lib.teacher.linear import (
    ArticleTeacher,
    ExactLinearTeacher,
    GradientTeacher,
    article_analysis,
    article_fixed_point,
    descent_cosine,
    linear_loss,
    max_stable_learning_rate,
)
from metalearn_lib.teacher.loop import learner_state, run_teacher_loop

# Tiny case: X = diag(1, 2), y = (1, 2)ᵀ, n = 2. XᵀX = diag(1, 4), Xᵀy = (1, 4)ᵀ, θ* = (1, 1)ᵀ.
X = np.array([[1.0, 0.0], [0.0, 2.0]], dtype=np.float32)
Y = np.array([[1.0], [2.0]], dtype=np.float32)


def state_at(theta, x=X, y=Y, l2=0.0, step=0):
    return learner_state(linear_loss(x, y, l2), [tf.constant(theta, tf.float32)], step)


def random_data(n=20, d=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)) * np.array([1.0, 2.0, 0.5])[:d]
    y = x @ rng.normal(size=(d, 1)) + 0.1 * rng.normal(size=(n, 1))
    return x, y


def test_linear_loss_hand_calculation():
    # θ = 0: L = (1² + 2²)/2 = 2.5; ∇L = (2/n) Xᵀ(Xθ − y) = −Xᵀy = (−1, −4).
    s = state_at([[0.0], [0.0]])
    assert float(s.loss) == pytest.approx(2.5)
    np.testing.assert_allclose(s.grads[0].numpy(), [[-1.0], [-4.0]])
    # ridge λ = 1 at θ = (1, 1): residual 0, L = λ‖θ‖²/n = 1.
    assert float(state_at([[1.0], [1.0]], l2=1.0).loss) == pytest.approx(1.0)


def test_gradient_teacher_hand_calculation():
    delta = GradientTeacher(0.1).update(state_at([[0.0], [0.0]]))
    np.testing.assert_allclose(delta[0].numpy(), [[0.1], [0.4]], rtol=1e-6)  # −η∇L = 0.1·(1, 4)


def test_article_teacher_hand_calculation():
    s = state_at([[0.5], [0.5]])
    replace = ArticleTeacher(X, Y).update(s)[0].numpy()  # Xᵀy − θ = (1, 4) − (0.5, 0.5)
    np.testing.assert_allclose(replace, [[0.5], [3.5]])
    add = ArticleTeacher(X, Y, step_size=0.5, mode="add").update(s)[0].numpy()  # 0.5·(1, 4)
    np.testing.assert_allclose(add, [[0.5], [2.0]])
    # mini-batches of one row: b = t mod 2, X_0ᵀy_0 = (1, 0), X_1ᵀy_1 = (0, 4)
    batched = ArticleTeacher(X, Y, batch_size=1)
    np.testing.assert_allclose(batched.update(state_at([[0.0], [0.0]], step=0))[0].numpy(), [[1.0], [0.0]])
    np.testing.assert_allclose(batched.update(state_at([[0.0], [0.0]], step=1))[0].numpy(), [[0.0], [4.0]])
    # θ of shape [d] keeps its shape
    flat = learner_state(linear_loss(X, Y), [tf.constant([0.5, 0.5])])
    assert ArticleTeacher(X, Y).update(flat)[0].shape == (2,)


def test_exact_teacher_hand_calculation():
    np.testing.assert_allclose(ExactLinearTeacher(X, Y).update(state_at([[0.0], [3.0]]))[0].numpy(),
                               [[1.0], [-2.0]], atol=1e-6)  # θ* − θ = (1, 1) − (0, 3)
    # ridge λ = 1: θ* = diag(2, 5)⁻¹ (1, 4) = (0.5, 0.8)
    np.testing.assert_allclose(ExactLinearTeacher(X, Y, l2=1.0).theta_star.numpy(), [[0.5], [0.8]], atol=1e-6)


@pytest.mark.parametrize("l2", [0.0, 0.7])
def test_exact_teacher_reaches_the_optimum_in_one_step(l2):
    x, y = random_data()
    traj = run_teacher_loop(ExactLinearTeacher(x, y, l2), linear_loss(x, y, l2),
                            [tf.zeros([3, 1], tf.float64)], max_steps=3)
    expected = (np.linalg.lstsq(x, y, rcond=None)[0] if l2 == 0
                else np.linalg.solve(x.T @ x + l2 * np.eye(3), x.T @ y))
    np.testing.assert_allclose(traj.params[1][0].numpy(), expected, atol=1e-8)
    np.testing.assert_allclose(traj.losses[1:], traj.losses[1], rtol=1e-12)  # later updates are 0
    assert traj.losses[1] < traj.losses[0]


def test_gradient_teacher_stability_threshold():
    x, y = random_data()
    limit = max_stable_learning_rate(x)
    assert limit == pytest.approx(x.shape[0] / np.linalg.eigvalsh(x.T @ x).max())
    assert max_stable_learning_rate(X) == pytest.approx(0.5)  # n / λ_max = 2 / 4
    init = [tf.zeros([3, 1], tf.float64)]
    optimum = float(np.sum((x @ np.linalg.lstsq(x, y, rcond=None)[0] - y) ** 2) / len(x))
    good = run_teacher_loop(GradientTeacher(0.9 * limit), linear_loss(x, y), init,
                            max_steps=2000, target_loss=optimum + 1e-6)
    assert good.stopped == "target"
    bad = run_teacher_loop(GradientTeacher(1.1 * limit), linear_loss(x, y), init, max_steps=2000)
    assert bad.stopped == "diverged"


def test_article_replace_stalls_above_the_optimum():
    x, y = random_data()
    info = article_analysis(x, y)
    traj = run_teacher_loop(ArticleTeacher(x, y), linear_loss(x, y), [tf.zeros([3, 1], tf.float64)],
                            max_steps=5, diverge_above=1e12)
    np.testing.assert_allclose(traj.params[1][0].numpy(), x.T @ y)  # θ_1 = Xᵀy
    np.testing.assert_allclose(traj.params[-1][0].numpy(), article_fixed_point(x, y).numpy())
    np.testing.assert_allclose(traj.losses[1:], info.loss_article)  # stalls
    assert not info.fixed_point_optimal
    assert info.stall_gap > 10 * info.loss_star  # far above the least-squares loss
    # the stall point has a non-zero gradient: the teacher ignores it
    assert np.linalg.norm(learner_state(linear_loss(x, y), [tf.constant(x.T @ y)]).grads[0]) > 1.0


def test_article_replace_is_optimal_with_orthonormal_columns():
    x, _ = np.linalg.qr(np.random.default_rng(1).normal(size=(20, 3)))  # XᵀX = I
    y = np.random.default_rng(2).normal(size=(20, 1))
    info = article_analysis(x, y)
    assert info.fixed_point_optimal
    assert info.stall_gap == pytest.approx(0.0, abs=1e-12)


def test_article_minibatch_replace_never_settles():
    x, y = random_data()
    traj = run_teacher_loop(ArticleTeacher(x, y, batch_size=5), linear_loss(x, y),
                            [tf.zeros([3, 1], tf.float64)], max_steps=8, diverge_above=1e12)
    thetas = [p[0].numpy() for p in traj.params[1:]]
    assert not np.allclose(thetas[0], thetas[1])
    np.testing.assert_allclose(thetas[0], thetas[4])  # period B = 4 cycle


def test_article_add_descends_then_diverges():
    x, y = random_data()
    info = article_analysis(x, y)
    s = 0.1 * info.ray_optimum  # so that the ray optimum is ~10 steps away
    traj = run_teacher_loop(ArticleTeacher(x, y, step_size=s, mode="add"), linear_loss(x, y),
                            [tf.zeros([3, 1], tf.float64)], max_steps=10_000, diverge_above=1e4)
    assert traj.stopped == "diverged"
    diffs = np.diff(traj.losses)
    m = info.descending_steps(s)
    assert m == 10
    assert np.all(diffs[:m] < 0) and np.all(diffs[m:] > 0)
    cosines = []
    teacher = ArticleTeacher(x, y, step_size=s, mode="add")
    for t, params in enumerate(traj.params[:-1]):
        state = learner_state(linear_loss(x, y), params, t)
        cosines.append(descent_cosine(teacher.update(state), state.grads))
    cosines = np.array(cosines)
    assert cosines[0] == pytest.approx(1.0)  # at θ = 0, Xᵀy ∝ −∇L
    assert np.all(cosines[:m] > 0) and np.all(cosines[m + 1:] < 0)


def test_descent_cosine_hand_calculation():
    assert descent_cosine([np.array([1.0, 0.0])], [np.array([-1.0, -1.0])]) == pytest.approx(2**-0.5)
    assert descent_cosine([np.array([1.0, 1.0])], [np.array([1.0, 1.0])]) == pytest.approx(-1.0)
    assert descent_cosine([np.zeros(2)], [np.ones(2)]) == 0.0
    with pytest.raises(ValueError, match="number of tensors"):
        descent_cosine([np.ones(2)], [])
    with pytest.raises(ValueError, match="size"):
        descent_cosine([np.ones(2)], [np.ones(3)])


def test_validation_errors():
    with pytest.raises(ValueError, match=r"x must have shape \[n, d\]"):
        ExactLinearTeacher(np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match="y must have shape"):
        ArticleTeacher(X, np.ones((3, 1)))
    with pytest.raises(TypeError, match="x must be"):
        linear_loss(np.array(["a"]), Y)
    with pytest.raises(ValueError, match="l2"):
        ExactLinearTeacher(X, Y, l2=-1.0)
    with pytest.raises(ValueError, match="mode"):
        ArticleTeacher(X, Y, mode="multiply")
    with pytest.raises(ValueError, match="step_size"):
        ArticleTeacher(X, Y, step_size=0.0)
    with pytest.raises(ValueError, match="batch_size"):
        ArticleTeacher(X, Y, batch_size=0)
    with pytest.raises(ValueError, match="learning_rate"):
        GradientTeacher(0.0)
    with pytest.raises(ValueError, match=r"params\[0\] must have shape"):
        ExactLinearTeacher(X, Y).update(learner_state(lambda p: tf.reduce_sum(p[0]), [tf.ones([3])]))
    with pytest.raises(ValueError, match="one parameter"):
        linear_loss(X, Y)([tf.ones([2, 1]), tf.ones([2, 1])])
