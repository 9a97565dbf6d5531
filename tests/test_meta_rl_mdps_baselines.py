"""Chapter 7's planners, posteriors and baselines, checked by hand and by brute force on tiny MDPs."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import tensorflow as tf

from metalearn_lib.meta_rl_mdps.baselines import (
    PARAMETER_GRID,
    UCRL2_SCALE_GRID,
    EpsilonGreedyPolicy,
    GreedyPolicy,
    OraclePolicy,
    PSRLPolicy,
    RandomPolicy,
    UCRL2Policy,
    argmax_random_ties,
    oracle_total_reward,
    run_policy,
    tune_policy,
    ucrl2_widths,
)
from metalearn_lib.meta_rl_mdps.planning import (
    evaluate_policy,
    extended_value_iteration,
    optimistic_transitions,
    value_iteration,
)
from metalearn_lib.meta_rl_mdps.posteriors import RL2_PAPER_GREEDY_PRIOR, RL2_PAPER_PSRL_PRIOR, MDPPosterior, Prior
from metalearn_lib.meta_rl_mdps.tabular import RandomTabularMDPs, TabularMDP


def _random_mdps(num_mdps, num_states, num_actions, seed):
    rng = np.random.default_rng(seed)
    return (rng.normal(1.0, 1.0, (num_mdps, num_states, num_actions)),
            rng.dirichlet(np.ones(num_states), size=(num_mdps, num_states, num_actions)))


def _sampled(distribution, num_mdps, seed):
    return TabularMDP(*(x.numpy() for x in distribution.sample_tasks(num_mdps, seed, tf.float64)))


# ---- planning -----------------------------------------------------------------------------------

def test_value_iteration_on_a_hand_solved_mdp():
    """Two states, two actions, H = 2.

    r(0, 0) = 1 and stay in 0;  r(0, 1) = 0 and go to 1 w.p. 3/4 (stay w.p. 1/4);
    in state 1 both actions stay in 1, r(1, 0) = 0, r(1, 1) = 3.

    Last step (h = 1, V_2 = 0): Q_1 = r, so Q_1(0) = (1, 0), V_1(0) = 1; Q_1(1) = (0, 3), V_1(1) = 3.
    h = 0: Q_0(0, 0) = 1 + V_1(0) = 2;  Q_0(0, 1) = 0 + ¼·1 + ¾·3 = 2.5  ⇒ V_0(0) = 2.5 (action 1);
           Q_0(1, 0) = 0 + 3 = 3;       Q_0(1, 1) = 3 + 3 = 6            ⇒ V_0(1) = 6.
    """
    r = np.array([[1.0, 0.0], [0.0, 3.0]])
    p = np.array([[[1.0, 0.0], [0.25, 0.75]], [[0.0, 1.0], [0.0, 1.0]]])
    q, v = value_iteration(r, p, 2)
    np.testing.assert_allclose(q, [[[2.0, 2.5], [3.0, 6.0]], [[1.0, 0.0], [0.0, 3.0]]])
    np.testing.assert_allclose(v, [[2.5, 6.0], [1.0, 3.0], [0.0, 0.0]])
    q_batch, v_batch = value_iteration(r[None].repeat(3, 0), p[None].repeat(3, 0), 2)
    assert q_batch.shape == (3, 2, 2, 2) and v_batch.shape == (3, 3, 2)
    np.testing.assert_allclose(v_batch[2], v)


def _brute_force_return(r, p, policy, start):
    """E[Σ_h r(s_h, π_h(s_h))] by summing over every state sequence (no backward induction)."""
    num_states, horizon = r.shape[0], len(policy)
    total = 0.0
    for path in itertools.product(range(num_states), repeat=horizon - 1):
        states = (start, *path)
        probability, reward = 1.0, 0.0
        for h, s in enumerate(states):
            a = policy[h][s]
            reward += r[s, a]
            if h + 1 < horizon:
                probability *= p[s, a, states[h + 1]]
        total += probability * reward
    return total


@pytest.mark.parametrize(("num_states", "num_actions", "horizon"), [(2, 2, 3), (3, 2, 2)])
def test_value_iteration_matches_brute_force_over_all_deterministic_policies(num_states, num_actions, horizon):
    r, p = _random_mdps(3, num_states, num_actions, seed=num_states)
    _, v = value_iteration(r, p, horizon)
    rules = list(itertools.product(range(num_actions), repeat=num_states))  # π_h: state ↦ action
    for b in range(3):
        best = np.full(num_states, -np.inf)
        for policy in itertools.product(rules, repeat=horizon):  # every non-stationary deterministic policy
            returns = [_brute_force_return(r[b], p[b], policy, s0) for s0 in range(num_states)]
            np.testing.assert_allclose(evaluate_policy(r[b], p[b], np.array(policy))[0], returns, atol=1e-12)
            best = np.maximum(best, returns)
        np.testing.assert_allclose(v[b, 0], best, atol=1e-12)


def test_planning_rejects_malformed_models():
    r, p = _random_mdps(2, 3, 2, seed=0)
    with pytest.raises(ValueError, match="horizon"):
        value_iteration(r, p, 0)
    with pytest.raises(ValueError, match="transitions must have shape"):
        value_iteration(r, p[..., :2], 3)
    with pytest.raises(ValueError, match="summing to 1"):
        value_iteration(r, 2 * p, 3)
    with pytest.raises(ValueError, match="finite"):
        value_iteration(np.full_like(r, np.nan), p, 3)
    with pytest.raises(ValueError, match="policy"):
        evaluate_policy(r, p, np.zeros((2, 4, 3), np.int64) + 2)


def _simplex_grid(num_states, steps):
    """Every distribution on ``num_states`` points with masses in multiples of 1/steps."""
    points = [c for c in itertools.product(range(steps + 1), repeat=num_states - 1) if sum(c) <= steps]
    grid = np.array([(*c, steps - sum(c)) for c in points], dtype=np.float64) / steps
    return grid


@pytest.mark.parametrize("radius", [0.0, 0.05, 0.3, 0.8, 1.5, 2.5])
def test_optimistic_transitions_solve_the_l1_ball_problem(radius):
    """max Σ P V over ‖P − P̂‖₁ ≤ d: the greedy answer is feasible and at least as good as every feasible
    point of a grid over the simplex (so it is the maximum, up to the grid's resolution)."""
    rng = np.random.default_rng(int(radius * 100))
    grid = _simplex_grid(4, 40)
    for _ in range(5):
        p_hat = rng.dirichlet(np.ones(4))
        values = rng.normal(size=4)
        p_tilde = optimistic_transitions(np.tile(p_hat, (4, 1, 1)), radius, values)[2, 0]  # [S, A = 1, S]
        assert np.all(p_tilde >= 0) and abs(p_tilde.sum() - 1) < 1e-12
        assert np.abs(p_tilde - p_hat).sum() <= radius + 1e-12
        feasible = grid[np.abs(grid - p_hat).sum(axis=1) <= radius]  # enumerate the ball on a 1/40 grid
        if feasible.size:
            assert p_tilde @ values >= (feasible @ values).max() - 1e-12
    full = optimistic_transitions(np.full((3, 2, 3), 1 / 3), 2.0, np.array([0.0, 5.0, 1.0]))
    np.testing.assert_allclose(full, np.broadcast_to([0.0, 1.0, 0.0], (3, 2, 3)))  # d = 2: all mass on the best


def test_extended_value_iteration_reduces_to_value_iteration():
    r, p = _random_mdps(2, 3, 2, seed=4)
    q, v = value_iteration(r, p, 3)
    q0, v0 = extended_value_iteration(r, p, 0.0, 0.0, 3)
    np.testing.assert_allclose(q0, q)
    bonus = 0.5
    qb, _ = extended_value_iteration(r, p, bonus, 0.0, 3)
    np.testing.assert_allclose(qb, q + bonus * np.array([3, 2, 1])[None, :, None, None])  # b·(H − h)
    _, v_any = extended_value_iteration(r, p, 0.0, 2.0, 2)  # any transitions: jump to the best state
    best_last = r.max(axis=-1).max(axis=-1)
    np.testing.assert_allclose(v_any[:, 0], r.max(axis=-1) + best_last[:, None])
    assert np.all(v_any[:, 0] >= value_iteration(r, p, 2)[1][:, 0] - 1e-12)
    with pytest.raises(ValueError, match="radius"):
        extended_value_iteration(r, p, 0.0, -1.0, 3)


# ---- posteriors -----------------------------------------------------------------------------------

def test_posterior_matches_the_closed_form():
    """Prior N(m₀ = 0.5, v₀ = 4), noise σ² = 0.25, Dirichlet(α = 2) on 3 states.

    MDP 0 takes (s = 1, a = 2) three times: rewards 1, 2, 0 (Σr = 3), next states 0, 0 and one unseen.
    v_3 = 1/(1/4 + 3/0.25) = 1/12.25;  m_3 = v_3 (0.5/4 + 3/0.25) = 12.125/12.25.
    P̄(· | 1, 2) = (2 + (2, 0, 0)) / (3·2 + 2) = (4, 2, 2)/8.  Every other pair keeps the prior.
    """
    posterior = MDPPosterior.prior(2, 3, 4, reward_prior_mean=0.5, reward_prior_variance=4.0,
                                   reward_noise_variance=0.25, transition_concentration=2.0)
    for reward, nxt in ((1.0, 0), (2.0, 0), (0.0, -1)):
        posterior.update([1, 0], [2, 3], [reward, 7.0], [nxt, 2])
    mean, variance = posterior.reward_posterior()
    assert variance[0, 1, 2] == pytest.approx(1 / 12.25) and mean[0, 1, 2] == pytest.approx(12.125 / 12.25)
    assert variance[1, 0, 3] == pytest.approx(1 / (0.25 + 12)) and mean[1, 0, 3] == pytest.approx(
        (0.125 + 21 / 0.25) / 12.25)
    untouched = np.ones((2, 3, 4), bool)
    untouched[0, 1, 2] = untouched[1, 0, 3] = False
    np.testing.assert_allclose(mean[untouched], 0.5)
    np.testing.assert_allclose(variance[untouched], 4.0)
    model = posterior.mean_model()
    np.testing.assert_allclose(model.transitions[0, 1, 2], [0.5, 0.25, 0.25])
    np.testing.assert_allclose(model.transitions[1, 0, 3], [2 / 9, 2 / 9, 5 / 9])
    np.testing.assert_allclose(model.transitions[0, 0, 0], [1 / 3] * 3)
    assert posterior.counts[0, 1, 2] == 3 and posterior.transitions_seen[0, 1, 2] == 2
    np.testing.assert_array_equal(posterior.steps, [3, 3])
    empirical = posterior.empirical_model()
    assert empirical.reward_means[0, 1, 2] == pytest.approx(1.0) and empirical.reward_means[0, 0, 0] == 0.0
    np.testing.assert_allclose(empirical.transitions[0, 1, 2], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(empirical.transitions[0, 2, 2], [1 / 3] * 3)


def test_rl2_prior_posterior_is_the_textbook_one():
    """For m₀ = v₀ = σ² = 1 the posterior is N((1 + Σr)/(1 + n), 1/(1 + n))."""
    posterior = MDPPosterior.for_distribution(RandomTabularMDPs(num_states=2, num_actions=2), 1)
    for reward in (0.5, 3.0):
        posterior.update([0], [1], [reward], [1])
    mean, variance = posterior.reward_posterior()
    assert mean[0, 0, 1] == pytest.approx((1 + 3.5) / 3) and variance[0, 0, 1] == pytest.approx(1 / 3)


def test_the_same_statistics_serve_another_prior():
    posterior = MDPPosterior.prior(1, 2, 2)
    posterior.update([0], [1], [3.0], [1])
    vague = posterior.with_prior(Prior(reward_mean=0.0, reward_variance=1e8, transition_concentration=1e-8))
    model, empirical = vague.mean_model(), posterior.empirical_model()
    np.testing.assert_allclose(model.reward_means, empirical.reward_means, atol=1e-6)  # a vanishing prior
    np.testing.assert_allclose(model.transitions, empirical.transitions, atol=1e-6)
    assert posterior.reward_posterior()[0][0, 0, 1] == pytest.approx(2.0)  # the original keeps N(1, 1)
    posterior.update([1], [0], [1.0], [0])
    assert vague.counts[0, 1, 0] == 1  # the counts are shared, not copied
    with pytest.raises(ValueError, match="reward_variance"):
        Prior(reward_variance=0.0)
    with pytest.raises(TypeError, match="prior"):
        posterior.with_prior({"reward_mean": 0.0})


def test_posterior_samples_have_the_posterior_moments():
    counts = np.zeros((20000, 2, 2), np.int64)
    counts[:, 0, 1] = 4
    transition_counts = np.zeros((20000, 2, 2, 2), np.int64)
    transition_counts[:, 0, 1] = [3, 1]
    posterior = MDPPosterior(counts, np.where(counts > 0, 6.0, 0.0), transition_counts)
    sample = posterior.sample_model(np.random.default_rng(0))
    mu = sample.reward_means[:, 0, 1]
    assert abs(mu.mean() - 7 / 5) < 0.01 and abs(mu.var() - 1 / 5) < 0.01
    p = sample.transitions[:, 0, 1, 0]  # Beta(4, 2): mean 2/3, variance 8/252
    assert abs(p.mean() - 2 / 3) < 0.005 and abs(p.var() - 8 / 252) < 0.002
    np.testing.assert_allclose(sample.transitions.sum(axis=-1), 1.0)


def test_posterior_rejects_bad_statistics():
    zeros = np.zeros((1, 2, 2), np.int64)
    with pytest.raises(ValueError, match="counts must hold non-negative"):
        MDPPosterior(zeros - 1, np.zeros((1, 2, 2)), np.zeros((1, 2, 2, 2), np.int64))
    with pytest.raises(ValueError, match="transition_counts"):
        MDPPosterior(zeros, np.zeros((1, 2, 2)), np.ones((1, 2, 2, 2), np.int64))
    with pytest.raises(ValueError, match="reward_noise_variance"):
        MDPPosterior.prior(1, 2, 2, reward_noise_variance=0.0)
    with pytest.raises(ValueError, match="num_states"):
        MDPPosterior.prior(1, 0, 2)
    posterior = MDPPosterior.prior(2, 2, 2)
    with pytest.raises(ValueError, match="actions"):
        posterior.update([0, 0], [0, 2], [0.0, 0.0], [0, 0])
    with pytest.raises(ValueError, match="next_states"):
        posterior.update([0, 0], [0, 0], [0.0, 0.0], [0, -2])
    with pytest.raises(ValueError, match="rewards"):
        posterior.update([0, 0], [0, 0], [0.0, np.inf], [0, 0])
    with pytest.raises(TypeError, match="rng"):
        posterior.sample_model(0)


# ---- baselines ----------------------------------------------------------------------------------

def test_random_policy_scores_ten_per_episode():
    distribution = RandomTabularMDPs(num_episodes=4)
    result = run_policy(RandomPolicy(), distribution, _sampled(distribution, 2000, 0), seed=0)
    assert result.rewards.shape == (2000, 4, 10)
    mean, ci = result.mean_ci95()
    assert abs(mean - 40.0) < 3 * ci
    assert np.all(result.states[:, :, 0] == 0)  # every episode starts in state 0


def test_oracle_beats_psrl_beats_random_and_psrl_learns():
    distribution = RandomTabularMDPs(num_episodes=8)
    mdps = _sampled(distribution, 300, 1)
    scores = {name: run_policy(policy, distribution, mdps, seed=2)
              for name, policy in (("oracle", OraclePolicy(mdps)), ("psrl", PSRLPolicy()),
                                   ("random", RandomPolicy()))}
    totals = {name: result.total_reward for name, result in scores.items()}
    for better, worse in (("oracle", "psrl"), ("psrl", "random")):
        difference = totals[better] - totals[worse]
        assert difference.mean() > 3 * 1.96 * difference.std() / np.sqrt(difference.size), (better, worse)
    luck = totals["oracle"] - oracle_total_reward(distribution, mdps)  # played minus expected, per MDP
    assert abs(luck.mean()) < 3 * 1.96 * luck.std() / np.sqrt(luck.size)  # the oracle earns n·V_0(0) on average
    episodes = scores["psrl"].episode_returns.mean(axis=0)
    assert episodes[-3:].mean() > episodes[0] + 2.0  # later episodes pay more: PSRL learns the MDP


def test_greedy_and_ucrl2_beat_random_and_outcomes_are_common_random_numbers():
    distribution = RandomTabularMDPs(num_episodes=5)
    mdps = _sampled(distribution, 200, 3)
    random_total = run_policy(RandomPolicy(), distribution, mdps, seed=4).total_reward.mean()
    for policy in (GreedyPolicy(), EpsilonGreedyPolicy(0.1), UCRL2Policy(scale=0.1)):
        result = run_policy(policy, distribution, mdps, seed=4)
        assert result.total_reward.mean() > random_total + 10, policy
        again = run_policy(policy, distribution, mdps, seed=4)
        np.testing.assert_array_equal(result.rewards, again.rewards)

    class FirstAction:
        """Always action 0, but drawing `draws` random numbers per plan (a different generator state)."""

        name = "first action"

        def __init__(self, draws):
            self.draws = draws

        def plan(self, posterior, episode_length, rng):
            rng.random(self.draws)
            q = np.zeros((posterior.num_mdps, episode_length, posterior.num_states, posterior.num_actions))
            q[..., 0] = 1.0
            return q

        def act(self, q_values, rng):
            return argmax_random_ties(q_values, rng)

    first = run_policy(FirstAction(0), distribution, mdps, seed=4)
    second = run_policy(FirstAction(17), distribution, mdps, seed=4)
    np.testing.assert_array_equal(first.rewards, second.rewards)  # same (s, a, visit) ⇒ same outcome
    np.testing.assert_array_equal(first.states, second.states)


def test_the_rl2_papers_baselines_are_reproduced_with_its_priors():
    """RL² Table 2, n = 10: random 100.1, greedy 134.8, PSRL 138.1 — run with the priors of the code
    the paper ran (TabulaRL: PSRL believes μ ~ N(0, 1), greedy uses empirical means)."""
    distribution = RandomTabularMDPs(num_episodes=10)
    mdps = _sampled(distribution, 1000, 0)
    for policy, published in ((RandomPolicy(), 100.1), (GreedyPolicy(RL2_PAPER_GREEDY_PRIOR), 134.8),
                              (PSRLPolicy(RL2_PAPER_PSRL_PRIOR), 138.1)):
        mean, ci = run_policy(policy, distribution, mdps, seed=2).mean_ci95()
        assert abs(mean - published) < 2 * ci, (policy.name, mean, ci)
    # with the MDPs' true prior, greedy is far better at n = 10 (it tries untried actions, worth 1 on average)
    assert run_policy(GreedyPolicy(), distribution, mdps, seed=2).mean_ci95()[0] > 145


def test_ucrl2_widths_follow_jaksch_et_al():
    posterior = MDPPosterior.prior(1, 10, 5)
    for _ in range(4):
        posterior.update([3], [2], [1.0], [4])
    reward_bonus, radius = ucrl2_widths(posterior, delta=0.1)
    t = 4
    assert reward_bonus[0, 3, 2] == pytest.approx(np.sqrt(7 * np.log(2 * 10 * 5 * t / 0.1) / (2 * 4)))
    assert radius[0, 3, 2] == pytest.approx(np.sqrt(14 * 10 * np.log(2 * 5 * t / 0.1) / 4))
    assert reward_bonus[0, 0, 0] == pytest.approx(np.sqrt(7 * np.log(2 * 10 * 5 * t / 0.1) / 2))


def test_tuning_picks_from_the_grid():
    distribution = RandomTabularMDPs(num_episodes=3)
    best, scores = tune_policy(EpsilonGreedyPolicy, PARAMETER_GRID, distribution, 100, seed=5)
    assert best in PARAMETER_GRID and scores.shape == (11,)
    assert scores[int(np.argmax(scores))] == scores.max() and best < 1.0
    assert UCRL2_SCALE_GRID[0] == 0.0 and 0.398107 in UCRL2_SCALE_GRID and UCRL2_SCALE_GRID[-1] == 1.0


@pytest.mark.parametrize(("make", "error", "name"), [
    (lambda: EpsilonGreedyPolicy(1.5), ValueError, "epsilon"),
    (lambda: EpsilonGreedyPolicy(-0.1), ValueError, "epsilon"),
    (lambda: UCRL2Policy(scale=-1.0), ValueError, "scale"),
    (lambda: UCRL2Policy(delta=1.0), ValueError, "delta"),
    (lambda: GreedyPolicy(prior={"reward_mean": 0.0}), TypeError, "prior"),
    (lambda: PSRLPolicy(prior=1.0), TypeError, "prior"),
    (lambda: run_policy(RandomPolicy(), RandomTabularMDPs(), _random_mdps(2, 3, 5, 0), seed=0), ValueError,
     "reward_means"),
    (lambda: run_policy(RandomPolicy(), RandomTabularMDPs(), _sampled(RandomTabularMDPs(), 2, 0), seed=-1),
     ValueError, "seed"),
    (lambda: run_policy(RandomPolicy(), "mdps", None, seed=0), TypeError, "distribution"),
    (lambda: tune_policy(EpsilonGreedyPolicy, [], RandomTabularMDPs(), 10, seed=0), ValueError, "values"),
])
def test_bad_arguments_are_named(make, error, name):
    with pytest.raises(error, match=name):
        make()
