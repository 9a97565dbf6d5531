"""The checks of ``07_meta_rl_mdps``: right answers pass, every typical wrong one is rejected with its hint,
in one short verdict."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from metalearn_lib.checks import CheckFailed
from metalearn_lib.checks.meta_rl_mdps import check_belief_update, check_posterior_update, check_value_iteration
from metalearn_lib.meta_rl_mdps import MDPPosterior
from metalearn_lib.meta_rl_mdps import belief_update as library_belief_update
from metalearn_lib.meta_rl_mdps import value_iteration as library_value_iteration
from tests.check_tools import verdict_of
from tests.notebook_tools import REPO_ROOT, solution_namespace

SOLUTIONS = REPO_ROOT / "solutions" / "07_meta_rl_mdps_exercises.ipynb"


# =============================================================================================
# value_iteration(reward_means, transitions, horizon) -> (Q [H, S, A], V [H + 1, S])
# =============================================================================================
def right_vi_library(reward_means, transitions, horizon):
    return library_value_iteration(reward_means, transitions, horizon)


def right_vi_loop(reward_means, transitions, horizon):
    S, A = reward_means.shape
    Q, V = np.zeros((horizon, S, A)), np.zeros((horizon + 1, S))
    for h in reversed(range(horizon)):
        Q[h] = reward_means + transitions @ V[h + 1]
        V[h] = Q[h].max(axis=-1)
    return Q, V


def right_vi_tensorflow(reward_means, transitions, horizon):
    r, p = tf.constant(reward_means), tf.constant(transitions)
    v, qs, vs = tf.zeros(r.shape[0], tf.float64), [], []
    for _ in range(horizon):
        vs.insert(0, v)
        q = r + tf.einsum("sat,t->sa", p, v)
        v = tf.reduce_max(q, axis=1)
        qs.insert(0, q)
    return tf.stack(qs), tf.stack([v, *vs])


@pytest.mark.parametrize("implementation", [right_vi_library, right_vi_loop, right_vi_tensorflow])
def test_right_value_iterations_pass(implementation, capsys):
    assert check_value_iteration(implementation) is None
    assert "✅ value_iteration: all 4 checks passed." in capsys.readouterr().out


def _vi(backups=None, reduce=lambda q: q.max(axis=-1), read_same_step=False):
    """A value iteration with the typical mistakes as switches; ``backups(H)`` the steps h it fills."""
    def value_iteration(reward_means, transitions, horizon):
        S, A = reward_means.shape
        Q, V = np.zeros((horizon + 1, S, A)), np.zeros((horizon + 2, S))
        for h in (backups or (lambda H: reversed(range(H))))(horizon):
            Q[h] = reward_means + transitions @ V[h if read_same_step else h + 1]
            V[h] = reduce(Q[h])
        return Q[:horizon], V[:horizon + 1]
    return value_iteration


def vi_one_step_too_many(reward_means, transitions, horizon):
    Q, V = _vi()(reward_means, transitions, horizon + 1)  # Q[h] with H − h + 1 steps to go
    return Q[:horizon], V[:horizon + 1]


def vi_forward_in_time(reward_means, transitions, horizon):
    S, A = reward_means.shape
    Q, V = np.zeros((horizon, S, A)), np.zeros((horizon + 1, S))
    for h in range(horizon):
        Q[h] = reward_means + transitions @ V[h]
        V[h + 1] = Q[h].max(axis=-1)
    return Q, V


def vi_max_over_states_stacked(reward_means, transitions, horizon):
    S, A = reward_means.shape
    Q, values = np.zeros((horizon, S, A)), [np.zeros(A)]
    for h in reversed(range(horizon)):
        Q[h] = reward_means + transitions @ np.resize(values[0], S)
        values.insert(0, Q[h].max(axis=0))
    return Q, np.stack(values)


def vi_without_terminal_row(reward_means, transitions, horizon):
    Q, V = right_vi_loop(reward_means, transitions, horizon)
    return Q, V[:-1]


def vi_q_with_an_extra_row(reward_means, transitions, horizon):
    Q, V = right_vi_loop(reward_means, transitions, horizon)
    return np.concatenate([Q, np.zeros((1, *Q.shape[1:]))]), V


def vi_swapped_outputs(reward_means, transitions, horizon):
    Q, V = right_vi_loop(reward_means, transitions, horizon)
    return V, Q


@pytest.mark.parametrize(("implementation", "hint"), [
    (vi_one_step_too_many, "One step too many"),
    (_vi(backups=lambda H: reversed(range(H - 1))), "One step too few"),
    (vi_forward_in_time, "index runs the wrong way"),
    (_vi(read_same_step=True), "instead of V[h + 1]"),
    (_vi(reduce=lambda q: q.max(axis=0)), "The max was taken over states (axis 0 of Q_h)"),
    (vi_max_over_states_stacked, "one value per action hint: the max was taken over states"),
    (_vi(reduce=lambda q: q.mean(axis=-1)), "uniformly random policy"),
    (vi_without_terminal_row, "the last one V_H = 0"),
    (vi_q_with_an_extra_row, "only V has the extra row"),
    (vi_swapped_outputs, "return (Q, V) in that order"),
])
def test_wrong_value_iterations_are_rejected_with_a_useful_hint(implementation, hint):
    assert hint in verdict_of(check_value_iteration, implementation)


# =============================================================================================
# update_posterior(reward_mean, reward_variance, dirichlet, state, action, reward, next_state)
# =============================================================================================
def right_update(reward_mean, reward_variance, dirichlet, state, action, reward, next_state):
    m, v, alpha = reward_mean.copy(), reward_variance.copy(), dirichlet.copy()
    v[state, action] = 1.0 / (1.0 / reward_variance[state, action] + 1.0)
    m[state, action] = v[state, action] * (reward_mean[state, action] / reward_variance[state, action] + reward)
    alpha[state, action, next_state] += 1
    return m, v, alpha


def right_update_in_place_by_precision(reward_mean, reward_variance, dirichlet, state, action, reward, next_state):
    precision = 1.0 / reward_variance[state, action]
    reward_mean[state, action] = (precision * reward_mean[state, action] + reward) / (precision + 1.0)
    reward_variance[state, action] = 1.0 / (precision + 1.0)
    dirichlet[state, action] += np.eye(dirichlet.shape[-1])[next_state]
    return reward_mean, reward_variance, dirichlet


@pytest.mark.parametrize("implementation", [right_update, right_update_in_place_by_precision])
def test_right_posterior_updates_pass(implementation, capsys):
    assert check_posterior_update(implementation) is None
    assert "✅ update_posterior: all 4 checks passed." in capsys.readouterr().out


def test_the_one_step_update_chained_is_the_librarys_posterior():
    rng = np.random.default_rng(0)
    library = MDPPosterior.prior(1, 4, 3)
    m, v, alpha = np.ones((4, 3)), np.ones((4, 3)), np.ones((4, 3, 4))
    for _ in range(50):
        s, a, r, s_next = int(rng.integers(4)), int(rng.integers(3)), float(rng.normal()), int(rng.integers(4))
        m, v, alpha = right_update(m, v, alpha, s, a, r, s_next)
        library.update([s], [a], [r], [s_next])
    mean, variance = library.reward_posterior()
    np.testing.assert_allclose(m, mean[0])
    np.testing.assert_allclose(v, variance[0])
    np.testing.assert_array_equal(alpha, library.transition_posterior()[0])


def _update(normal=None, count=None):
    """A posterior update with a wrong Normal step ``normal(m, v, r) -> (m', v')`` or a wrong count
    ``count(alpha, state, action, next_state)`` (in place)."""
    def update_posterior(reward_mean, reward_variance, dirichlet, state, action, reward, next_state):
        m, v, alpha = right_update(reward_mean, reward_variance, dirichlet, state, action, reward, next_state)
        if normal is not None:
            m[state, action], v[state, action] = normal(reward_mean[state, action], reward_variance[state, action],
                                                        reward)
        if count is not None:
            alpha = dirichlet.copy()
            count(alpha, state, action, next_state)
        return m, v, alpha
    return update_posterior


def update_from_the_prior(reward_mean, reward_variance, dirichlet, state, action, reward, next_state):
    m, v, alpha = right_update(reward_mean, reward_variance, dirichlet, state, action, reward, next_state)
    m[state, action], v[state, action] = (1.0 + reward) / 2.0, 0.5  # the batch formula with n = 1, Σr = r
    return m, v, alpha


def update_rebuilt_from_the_prior(reward_mean, reward_variance, dirichlet, state, action, reward, next_state):
    prior_mean, prior_variance = np.ones_like(reward_mean), np.ones_like(reward_variance)
    return right_update(prior_mean, prior_variance, dirichlet, state, action, reward, next_state)


def update_swapped_pair(reward_mean, reward_variance, dirichlet, state, action, reward, next_state):
    return right_update(reward_mean, reward_variance, dirichlet, action, state, reward, next_state)


def update_next_states_pair(reward_mean, reward_variance, dirichlet, state, action, reward, next_state):
    return right_update(reward_mean, reward_variance, dirichlet, next_state, action, reward, next_state)


def update_every_pair(reward_mean, reward_variance, dirichlet, state, action, reward, next_state):
    v = 1.0 / (1.0 / reward_variance + 1.0)
    m = v * (reward_mean / reward_variance + reward)
    alpha = dirichlet.copy()
    alpha[state, action, next_state] += 1
    return m, v, alpha


def _add_at(alpha, index):
    alpha[index] += 1


@pytest.mark.parametrize(("implementation", "hint"), [
    (update_from_the_prior, "The update started from the prior N(1, 1) (m' = (1 + r)/2)"),
    (update_rebuilt_from_the_prior, "The other pairs went back to the prior N(1, 1)"),
    (update_swapped_pair, "(state and action swapped)"),
    (update_next_states_pair, "(the next state's pair)"),
    (update_every_pair, "only the pair taken, [state, action]"),
    (_update(normal=lambda m, v, r: ((m + r) / 2, 1 / (1 / v + 1))), "plain average of m and r"),
    (_update(normal=lambda m, v, r: (r, 1 / (1 / v + 1))), "the reward alone"),
    (_update(normal=lambda m, v, r: ((m + r) / (1 / v + 1), 1 / (1 / v + 1))), "not v'·(m + r)"),
    (_update(normal=lambda m, v, r: ((m / v + r) / (1 / v + 1), v)), "did not shrink"),
    (_update(normal=lambda m, v, r: ((m / v + r) / (1 / v + 1), 1 / (v + 1))), "the precisions that add"),
    (_update(count=lambda alpha, s, a, s2: None), "transition was not counted"),
    (_update(count=lambda alpha, s, a, s2: _add_at(alpha, (s, a))), "Every entry of the row"),
    (_update(count=lambda alpha, s, a, s2: _add_at(alpha, (s, a, s))), "count went to α[state, action, state]"),
    (_update(count=lambda alpha, s, a, s2: alpha.__setitem__((s, a), 1.0 + np.eye(alpha.shape[-1])[s2])),
     "restarted from the prior Dirichlet"),
])
def test_wrong_posterior_updates_are_rejected_with_a_useful_hint(implementation, hint):
    assert hint in verdict_of(check_posterior_update, implementation)


# =============================================================================================
# belief_update(belief, position, reward) -> [N²]
# =============================================================================================
def right_belief_numpy(belief, position, reward):
    likelihood = np.eye(belief.size)[position] if reward > 0 else 1.0 - np.eye(belief.size)[position]
    posterior = belief * likelihood
    return posterior / posterior.sum()


def right_belief_library(belief, position, reward):
    return library_belief_update(belief[None], [position], [reward])[0]


@pytest.mark.parametrize("implementation", [right_belief_numpy, right_belief_library])
def test_right_belief_updates_pass(implementation, capsys):
    assert check_belief_update(implementation) is None
    assert "✅ belief_update: all 5 checks passed." in capsys.readouterr().out


def belief_not_renormalised(belief, position, reward):
    return belief * (np.eye(belief.size)[position] if reward > 0 else 1.0 - np.eye(belief.size)[position])


def belief_visited_cell_kept(belief, position, reward):
    return np.eye(belief.size)[position] if reward > 0 else belief / belief.sum()


def belief_wrong_cell_removed(belief, position, reward):
    return right_belief_numpy(belief, (position + 1) % belief.size, reward)


def belief_fresh_uniform(belief, position, reward):
    if reward > 0:
        return np.eye(belief.size)[position]
    fresh = 1.0 - np.eye(belief.size)[position]
    return fresh / fresh.sum()


def belief_goal_removed(belief, position, reward):
    return right_belief_numpy(belief, position, -0.1) if belief[position] < 1 else belief


def belief_ignores_the_goal(belief, position, reward):
    return belief if reward > 0 else right_belief_numpy(belief, position, reward)


@pytest.mark.parametrize(("implementation", "hint"), [
    (belief_not_renormalised, "Not renormalised"),
    (belief_visited_cell_kept, "The belief did not change, but the step ended on cell p"),
    (belief_wrong_cell_removed, "was visited and paid −0.1"),
    (belief_fresh_uniform, "got belief back"),
    (belief_goal_removed, "lost its belief"),
    (belief_ignores_the_goal, "collapses onto cell p"),
])
def test_wrong_belief_updates_are_rejected_with_a_useful_hint(implementation, hint):
    assert hint in verdict_of(check_belief_update, implementation)


# =============================================================================================
# every verdict is short: one line per failed case's call, expected, got, a few lines of hint
# =============================================================================================
VERDICTS = [
    (check_value_iteration, vi_one_step_too_many, 4),
    (check_value_iteration, _vi(reduce=lambda q: q.max(axis=0)), 4),
    (check_posterior_update, update_swapped_pair, 4),
    (check_posterior_update, update_from_the_prior, 4),
    (check_belief_update, belief_not_renormalised, 5),
    (check_belief_update, belief_fresh_uniform, 5),
]


@pytest.mark.parametrize(("check", "implementation", "num_cases"), VERDICTS,
                         ids=[f"{c.__name__}-{i.__name__}" for c, i, _ in VERDICTS])
def test_a_verdict_is_short(check, implementation, num_cases):
    with pytest.raises(CheckFailed) as failure:
        check(implementation)
    lines = str(failure.value).splitlines()
    assert len(lines) <= 1 + 8 * num_cases
    assert max(len(line) for line in lines) <= 180


def stub(*args):
    raise NotImplementedError()


@pytest.mark.parametrize("check", [check_value_iteration, check_posterior_update, check_belief_update])
def test_an_unwritten_function_gets_one_message(check):
    verdict = verdict_of(check, stub)
    assert "1 of" in verdict and "not written yet" in verdict and verdict.count("•") == 1


@pytest.mark.parametrize("check", [check_value_iteration, check_posterior_update, check_belief_update])
def test_a_function_returning_nothing_is_told_so(check):
    assert "returned nothing" in verdict_of(check, lambda *args: None)


# =============================================================================================
# the solutions notebook's functions pass their checks (once it is in solutions/)
# =============================================================================================
def test_the_solution_notebooks_functions_pass_their_checks(capsys):
    if not SOLUTIONS.exists():
        pytest.skip(f"{SOLUTIONS.relative_to(REPO_ROOT)} is not written yet")
    inline = solution_namespace(SOLUTIONS)
    check_value_iteration(inline["value_iteration"])
    check_posterior_update(inline["update_posterior"])
    check_belief_update(inline["belief_update"])
    assert capsys.readouterr().out.count("✅") == 3
