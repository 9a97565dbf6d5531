"""The four-step teacher loop: stopping rules, trajectory shapes, validation."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from metalearn_lib.teacher.loop import (
    LearnerState,
    Teacher,
    Trajectory,
    learner_state,
    run_teacher_loop,
    steps_to_target,
)


class Scaled:
    """Δθ = −η ∇L, counting resets."""

    def __init__(self, eta: float) -> None:
        self.eta, self.resets, self.steps = eta, 0, []

    def reset(self, params):
        self.resets += 1

    def update(self, state: LearnerState):
        self.steps.append(state.step)
        return [-self.eta * g for g in state.grads]


def quadratic(params):
    return tf.reduce_sum(tf.square(params[0]))  # L = ‖θ‖², ∇L = 2θ


def test_learner_state_hand_calculation():
    state = learner_state(quadratic, [tf.constant([1.0, -2.0])], step=3)
    assert float(state.loss) == pytest.approx(5.0)
    np.testing.assert_allclose(state.grads[0].numpy(), [2.0, -4.0])
    assert state.step == 3


def test_unused_parameter_gets_zero_gradient():
    state = learner_state(quadratic, [tf.constant([1.0]), tf.constant([3.0, 4.0])])
    np.testing.assert_allclose(state.grads[1].numpy(), [0.0, 0.0])


def test_protocol_is_satisfied():
    assert isinstance(Scaled(0.1), Teacher)


def test_stops_at_target_and_records_the_trajectory():
    teacher = Scaled(0.25)  # θ_{t+1} = θ_t − 0.5 θ_t: L halves twice per step (factor 1/4)
    traj = run_teacher_loop(teacher, quadratic, [tf.constant([2.0])], max_steps=50, target_loss=0.02)
    assert traj.stopped == "target"
    np.testing.assert_allclose(traj.losses, [4.0, 1.0, 0.25, 0.0625, 0.015625])
    assert traj.num_steps == 4 and len(traj.params) == 5
    assert teacher.resets == 1 and teacher.steps == [0, 1, 2, 3]
    assert steps_to_target(traj, 0.3) == 2
    assert steps_to_target(traj, 1e-9) is None
    assert traj.final_loss == pytest.approx(0.015625)


def test_stops_at_max_steps():
    traj = run_teacher_loop(Scaled(0.1), quadratic, [tf.constant([1.0])], max_steps=3)
    assert traj.stopped == "max_steps" and traj.num_steps == 3 and len(traj.losses) == 4
    zero = run_teacher_loop(Scaled(0.1), quadratic, [tf.constant([1.0])], max_steps=0)
    assert zero.num_steps == 0 and zero.stopped == "max_steps"


def test_stops_when_diverged():
    traj = run_teacher_loop(Scaled(1.5), quadratic, [tf.constant([1.0])], max_steps=100, diverge_above=1e3)
    assert traj.stopped == "diverged"  # θ_{t+1} = −2θ_t, L = 4^t
    assert traj.losses[-1] > 1e3 and np.all(traj.losses[:-1] <= 1e3)
    assert traj.num_steps == 5


class Bad:
    def __init__(self, out):
        self.out = out

    def reset(self, params):
        pass

    def update(self, state):
        return self.out


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"max_steps": -1}, ValueError, "max_steps"),
        ({"max_steps": 1.5}, TypeError, "max_steps"),
        ({"max_steps": 3, "target_loss": -1.0}, ValueError, "target_loss"),
        ({"max_steps": 3, "diverge_above": 0.0}, ValueError, "diverge_above"),
    ],
)
def test_argument_validation(kwargs, error, match):
    with pytest.raises(error, match=match):
        run_teacher_loop(Scaled(0.1), quadratic, [tf.constant([1.0])], **kwargs)


def test_bad_teacher_loss_and_params():
    with pytest.raises(TypeError, match="teacher"):
        run_teacher_loop(object(), quadratic, [tf.constant([1.0])], max_steps=1)
    with pytest.raises(TypeError, match="loss_fn"):
        run_teacher_loop(Scaled(0.1), 3.0, [tf.constant([1.0])], max_steps=1)
    with pytest.raises(ValueError, match="init_params"):
        run_teacher_loop(Scaled(0.1), quadratic, [], max_steps=1)
    with pytest.raises(TypeError, match="init_params"):
        run_teacher_loop(Scaled(0.1), quadratic, tf.constant([1.0]), max_steps=1)
    with pytest.raises(TypeError, match="floating"):
        run_teacher_loop(Scaled(0.1), quadratic, [tf.constant([1])], max_steps=1)
    with pytest.raises(ValueError, match="scalar"):
        run_teacher_loop(Scaled(0.1), lambda p: p[0], [tf.constant([1.0, 2.0])], max_steps=1)
    with pytest.raises(ValueError, match="one per parameter"):
        run_teacher_loop(Bad([]), quadratic, [tf.constant([1.0])], max_steps=1)
    with pytest.raises(ValueError, match="shape"):
        run_teacher_loop(Bad([tf.zeros([2])]), quadratic, [tf.constant([1.0])], max_steps=1)
    with pytest.raises(TypeError, match="Trajectory"):
        steps_to_target("not a trajectory", 1.0)
    traj = Trajectory(params=[[tf.zeros([1])]], losses=np.array([1.0]), stopped="max_steps")
    with pytest.raises(ValueError, match="target"):
        steps_to_target(traj, -1.0)
