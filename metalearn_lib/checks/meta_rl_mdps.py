"""Checks for the exercises of ``07_meta_rl_mdps``: value iteration, the PSRL posterior update, the gridworld belief.

* :func:`check_value_iteration` — ``value_iteration(reward_means, transitions, horizon)`` for one MDP
  (``reward_means [S, A]``, ``transitions [S, A, S]``) → ``(Q [H, S, A], V [H + 1, S])``: V_H = 0 and, for
  h = H − 1, …, 0, Q_h(s, a) = r(s, a) + Σ_s' P(s' | s, a) V_{h+1}(s'), V_h(s) = max_a Q_h(s, a);
* :func:`check_posterior_update` — ``update_posterior(reward_mean, reward_variance, dirichlet, state, action,
  reward, next_state)``, one step of Bayes' rule for one MDP: a Normal N(m, v) on each mean reward (rewards
  of known unit noise) and a Dirichlet(α) on each row P(· | s, a). Only the pair taken changes:
  v' = 1/(1/v + 1), m' = v'(m/v + r), α'(s, a, s') = α(s, a, s') + 1 at the next state seen;
* :func:`check_belief_update` — ``belief_update(belief, position, reward)``, Bayes' rule for the gridworld's
  goal (``belief [N²]``): b'(c) ∝ b(c)·1[c ≠ p] after −0.1 (the visited cell leaves, the rest is
  renormalised), b' = onehot(p) after +1 (the goal is found).

Expected answers come from :mod:`metalearn_lib.meta_rl_mdps` (:func:`value_iteration`, :class:`MDPPosterior`
fed the same steps, :func:`belief_update`); the diagnoses recompute the typical mistakes (the horizon off by
one, the max over states, the prior used instead of the posterior, the wrong (s, a) pair, the belief not
renormalised, a visited cell left in it, …) and name them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from metalearn_lib.checks.core import Case, WrongShape, run_check, short
from metalearn_lib.meta_rl_mdps import Gridworld, MDPPosterior, belief_after, prior_belief
from metalearn_lib.meta_rl_mdps import belief_update as library_belief_update
from metalearn_lib.meta_rl_mdps import value_iteration as library_value_iteration

__all__ = ["check_belief_update", "check_posterior_update", "check_value_iteration"]

_RTOL, _ATOL = 1e-5, 1e-7
#: The belief's reference is computed in float32 by the library.
_BELIEF_ATOL = 1e-6


def _close(a: Any, b: Any, atol: float = _ATOL) -> bool:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=_RTOL, atol=atol))


def _near(a: Any, value: Any) -> bool:
    """``a`` equals ``value`` everywhere (``value`` broadcasts)."""
    return bool(np.allclose(np.asarray(a, np.float64), value, rtol=_RTOL, atol=_ATOL))


def _as_array(name: str, value: Any) -> np.ndarray:
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise WrongShape(f"{name} is a {type(value).__name__}, not an array of numbers") from None


@dataclass(frozen=True)
class _Shown:
    """An array passed to the learner's function; prints in a verdict's ``call:`` line as its label, or as
    the array itself when it has none (small hand-made cases)."""

    values: np.ndarray
    label: str = ""

    def __repr__(self) -> str:
        return self.label or short(self.values)


# ============================================================================================
# value_iteration(reward_means, transitions, horizon) -> (Q [H, S, A], V [H + 1, S])
# ============================================================================================
def _to_go(r: np.ndarray, p: np.ndarray, steps: int, reduce: Callable[[np.ndarray], np.ndarray]
           ) -> tuple[np.ndarray, np.ndarray]:
    """Q^(k), V^(k) for k = 0, …, steps steps to go (Q^(0) = V^(0) = 0), V^(k) = reduce(Q^(k))."""
    qs = np.zeros((steps + 1, *r.shape))
    vs = np.zeros((steps + 1, r.shape[0]))
    for k in range(1, steps + 1):
        qs[k] = r + p @ vs[k - 1]
        vs[k] = reduce(qs[k])
    return qs, vs


def _flat_values(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    """What the check compares: V row by row (h = 0 first), then Q."""
    return np.concatenate([np.ravel(v), np.ravel(q)])


def _value_cases() -> list[Case]:
    def case(name: str, r: Any, p: Any, horizon: int, hint: str, labelled: bool = False) -> Case:
        r, p = np.asarray(r, np.float64), np.asarray(p, np.float64)
        q, v = library_value_iteration(r, p, horizon)
        labels = (f"r {list(r.shape)}", f"P {list(p.shape)}") if labelled else ("", "")
        return Case(name, (_Shown(r, labels[0]), _Shown(p, labels[1])), _flat_values(q, v), hint,
                    {"horizon": horizon})

    rng = np.random.default_rng(7)

    def random_mdp(num_states: int, num_actions: int) -> tuple[np.ndarray, np.ndarray]:
        r = np.round(rng.normal(1.0, 1.0, size=(num_states, num_actions)), 2)
        p = np.round(rng.dirichlet(np.ones(num_states), size=(num_states, num_actions)), 2)
        p[..., -1] = 1.0 - p[..., :-1].sum(axis=-1)
        return r, np.clip(p, 0.0, None) / np.clip(p, 0.0, None).sum(axis=-1, keepdims=True)

    rule = ("V_H = 0; for h = H − 1 down to 0: Q_h(s, a) = r(s, a) + Σ_s' P(s' | s, a) V_{h+1}(s') and "
            "V_h(s) = max_a Q_h(s, a), the max over actions (the last axis of Q_h).")
    chain_r = [[0.0, 0.5], [1.0, 0.0]]
    chain_p = [[[1.0, 0.0], [0.0, 1.0]], [[0.0, 1.0], [1.0, 0.0]]]  # action 1 moves, action 0 stays
    return [
        case("one state, two actions, H = 3", [[1.0, 2.0]], [[[1.0], [1.0]]], 3,
             "With one state, V_h = (H − h)·max_a r(a): each of the H − h steps left pays the best reward "
             "(the max over actions, the last axis of Q_h); V_H = 0."),
        case("two states: move (0.5) to the state that pays 1 a step, H = 4", chain_r, chain_p, 4, rule),
        case("a random MDP with 3 states and 3 actions, H = 3", *random_mdp(3, 3), 3, rule, labelled=True),
        case("a random MDP with 4 states and 2 actions, H = 5", *random_mdp(4, 2), 5, rule, labelled=True),
    ]


def _diagnose_values(case: Case, got: np.ndarray) -> str | None:
    r, p = (shown.values for shown in case.args)
    H = case.kwargs["horizon"]
    S, A = r.shape
    best = _to_go(r, p, H + 1, lambda q: q.max(axis=-1))
    h = np.arange(H + 1)

    def shifted(qs: np.ndarray, vs: np.ndarray, steps_left: np.ndarray) -> np.ndarray:
        k = np.clip(steps_left, 0, len(vs) - 1)
        return _flat_values(qs[k[:H]], vs[k])

    variants = [
        (shifted(*best, H - h + 1),
         "One step too many: V[H] must be 0 (no steps left) and Q[H − 1] = r (the last step pays its reward "
         "only). Start from V_H = 0 and make H backups, h = H − 1, …, 0 (reversed(range(horizon)))."),
        (shifted(*best, H - h - 1),
         "One step too few: Q[H − 1] came back 0, but the last step still pays its reward, Q_{H−1}(s, a) = "
         "r(s, a). Make H backups, h = H − 1, …, 0 (reversed(range(horizon)))."),
        (_flat_values(best[0][h[:H] + 1], best[1][h]),
         "The time index runs the wrong way: V[0] came back 0. V[h] is the value with H − h steps to go, so "
         "V[H] = 0 and V[0] is a whole episode's value — fill the arrays from h = H − 1 down to 0."),
        (_flat_values(np.repeat(best[0][1:2], H, axis=0), np.concatenate([np.repeat(best[1][1:2], H, axis=0),
                                                                          np.zeros((1, S))])),
         "Every Q_h came back r: the backup read V[h] (not computed yet) instead of V[h + 1]. "
         "Q_h(s, a) = r(s, a) + Σ_s' P(s' | s, a) V_{h+1}(s')."),
        (shifted(*_to_go(r, p, H, lambda q: q.mean(axis=-1)), H - h),
         "V_h is the mean of Q_h over actions — the value of the uniformly random policy. The optimal value "
         "takes the best action: V_h(s) = max_a Q_h(s, a)."),
        (shifted(*_to_go(r, p, H, lambda q: q.max(axis=0)), H - h) if S == A else None,
         "The max was taken over states (axis 0 of Q_h): V_h(s) = max_a Q_h(s, a) is the max over actions, "
         "the last axis — Q[h].max(axis=-1)."),
    ]
    for value, hint in variants:
        if value is not None and _close(got, value) and not _close(got, case.expected):
            return hint
    return None


def _what(result: Any) -> str:
    """What came back, in words: ``one array of shape (3, 4)``, ``a tuple of 3``, ``a dict``."""
    if isinstance(result, (tuple, list)):
        return f"a {type(result).__name__} of {len(result)}"
    if hasattr(result, "shape"):
        return f"one array of shape {tuple(result.shape)}"
    return f"a {type(result).__name__}"


def check_value_iteration(function: Callable[..., Any], *, quiet: bool = False) -> None:
    """Check a learner's ``value_iteration(reward_means, transitions, horizon)`` on 4 MDPs.

    ``reward_means`` is r, ``[S, A]``; ``transitions`` P, ``[S, A, S]`` (P(s' | s, a) along the last axis);
    ``horizon`` H ≥ 1 (NumPy, one MDP). The function must return ``(Q, V)``: ``Q [H, S, A]`` and
    ``V [H + 1, S]`` with ``V[H] = 0``. A verdict shows V row by row (h = 0 first), then Q. Prints ✅ and
    returns ``None``, or raises :class:`~metalearn_lib.checks.core.CheckFailed` with the verdict.
    """

    def call(r: _Shown, p: _Shown, *, horizon: int) -> np.ndarray | None:
        reward_means = r.values
        result = function(reward_means.copy(), p.values.copy(), horizon)
        if result is None:
            return None  # run_check: "is a `return` statement missing?"
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            raise WrongShape(f"{_what(result)}, expected a pair: return the pair (Q, V)")
        q, v = _as_array("Q", result[0]), _as_array("V", result[1])
        H, (S, A) = horizon, reward_means.shape
        if q.ndim == 2 and v.ndim == 3:
            raise WrongShape("Q of 2 dimensions and V of 3: return (Q, V) in that order")
        if q.shape == (H + 1, S, A):
            raise WrongShape(f"Q of shape {q.shape}: Q has one [S, A] table per step h = 0, …, H − 1, so H = {H} "
                             "of them (only V has the extra row V_H = 0)")
        if q.shape != (H, S, A):
            raise WrongShape(f"Q of shape {q.shape}, expected (H, S, A) = {(H, S, A)}")
        if v.shape == (H, S):
            raise WrongShape(f"V of shape {v.shape}: V has H + 1 = {H + 1} rows, the last one V_H = 0 (no steps "
                             "left)")
        if v.shape == (H + 1, A) and A != S:
            raise WrongShape(f"V of shape {v.shape}, one value per action: the max was taken over states. "
                             "V_h(s) = max_a Q_h(s, a), over the last axis: Q[h].max(axis=-1)")
        if v.shape != (H + 1, S):
            raise WrongShape(f"V of shape {v.shape}, expected (H + 1, S) = {(H + 1, S)}")
        return _flat_values(q, v)

    run_check(call, _value_cases(), diagnoses=(_diagnose_values,), name="value_iteration", rtol=_RTOL,
              atol=_ATOL, quiet=quiet)


# ============================================================================================
# update_posterior(reward_mean, reward_variance, dirichlet, state, action, reward, next_state)
# ============================================================================================
@dataclass(frozen=True)
class _Posterior:
    """The posterior's parameters (m [S, A], v [S, A], α [S, A, S]); prints as a one-line summary."""

    reward_mean: np.ndarray
    reward_variance: np.ndarray
    dirichlet: np.ndarray
    steps: int

    def __repr__(self) -> str:
        S, A = self.reward_mean.shape
        when = "the prior" if self.steps == 0 else f"after {self.steps} steps"
        return f"m, v, α ({when}, S = {S}, A = {A})"


def _posterior_after(num_states: int, num_actions: int, steps: Sequence[tuple[int, int, float, int]]
                     ) -> _Posterior:
    """The library's posterior of one MDP (prior N(1, 1), unit noise, Dirichlet(1)) after ``steps``."""
    posterior = MDPPosterior.prior(1, num_states, num_actions)
    for s, a, r, s_next in steps:
        posterior.update([s], [a], [r], [s_next])
    mean, variance = posterior.reward_posterior()
    return _Posterior(mean[0], variance[0], posterior.transition_posterior()[0].astype(np.float64), len(steps))


def _flat_posterior(m: np.ndarray, v: np.ndarray, alpha: np.ndarray, state: int, action: int) -> np.ndarray:
    """What the check compares: m', v', α'(s, a, ·) of the pair taken first (what a verdict shows), then all."""
    return np.concatenate([[m[state, action], v[state, action]], alpha[state, action], m.ravel(), v.ravel(),
                           alpha.ravel()])


def _split_posterior(flat: np.ndarray, num_states: int, num_actions: int) -> tuple[np.ndarray, ...]:
    S, A = num_states, num_actions
    rest = np.asarray(flat)[2 + S:]
    return rest[:S * A].reshape(S, A), rest[S * A:2 * S * A].reshape(S, A), rest[2 * S * A:].reshape(S, A, S)


def _posterior_cases() -> list[Case]:
    def case(name: str, num_states: int, num_actions: int, history: Sequence[tuple[int, int, float, int]],
             step: tuple[int, int, float, int], hint: str) -> Case:
        before = _posterior_after(num_states, num_actions, history)
        after = _posterior_after(num_states, num_actions, [*history, step])
        s, a, r, s_next = step
        expected = _flat_posterior(after.reward_mean, after.reward_variance, after.dirichlet, s, a)
        return Case(name, (before,), expected, hint, {"state": s, "action": a, "reward": r, "next_state": s_next})

    rule = ("Only the pair taken, [state, action], changes: v' = 1/(1/v + 1), m' = v'·(m/v + r) (precisions add; "
            "the reward's noise variance is 1), and α[state, action, next_state] += 1.")
    rng = np.random.default_rng(12)
    long_history = [(int(rng.integers(3)), int(rng.integers(3)), float(np.round(rng.normal(1.0, 1.5), 2)),
                     int(rng.integers(3))) for _ in range(10)] + [(2, 0, 0.4, 2), (2, 0, 1.9, 1)]
    return [
        case("the first step, from the prior N(1, 1), Dirichlet(1, 1)", 2, 2, [], (0, 1, 2.0, 1),
             "From the prior m = v = 1: v' = 1/(1/1 + 1) = 0.5, m' = 0.5·(1/1 + r), and α[0, 1, 1] = 1 + 1."),
        case("a pair seen twice before", 3, 2, [(1, 0, 0.5, 2), (1, 0, 1.5, 2), (0, 1, -0.3, 1), (2, 1, 1.2, 0)],
             (1, 0, 2.4, 0), rule),
        case("three states and actions, after 12 steps", 3, 3, long_history, (2, 0, -0.6, 1), rule),
        case("a pair seen 8 times: one more reward moves its mean a little", 2, 3,
             [(0, 2, float(x), 0) for x in (1.3, 0.2, 2.1, 0.9, 1.7, -0.4, 1.1, 0.8)], (0, 2, 3.0, 1), rule),
    ]


def _diagnose_posterior(case: Case, got: np.ndarray) -> str | None:
    before = case.args[0]
    s, a, r, s_next = (case.kwargs[k] for k in ("state", "action", "reward", "next_state"))
    m, v, alpha = before.reward_mean, before.reward_variance, before.dirichlet
    S, A = m.shape
    gm, gv, galpha = _split_posterior(got, S, A)
    em, ev, ealpha = _split_posterior(np.asarray(case.expected), S, A)
    if _close(got, case.expected):
        return None

    changed = sorted((i, j) for i in range(S) for j in range(A)
                     if not (_close(gm[i, j], m[i, j]) and _close(gv[i, j], v[i, j])
                             and _close(galpha[i, j], alpha[i, j])))
    others = [pair for pair in changed if pair != (s, a)]
    if others and all(_near(gm[i, j], 1.0) and _near(gv[i, j], 1.0) for i, j in others):
        return ("The other pairs went back to the prior N(1, 1): the update started from the prior, not from the "
                "posterior you were given. Keep every entry as given and update [state, action] only: "
                "m' = v'·(m/v + r), v' = 1/(1/v + 1).")
    if len(others) > 1:
        return (f"{len(changed)} pairs (s, a) changed: only the pair taken, [state, action] = [{s}, {a}], learns "
                "from this step. Update that one entry (and the row α[state, action]) and leave the rest as given.")
    if others:
        i, j = others[0]
        why = (" (state and action swapped)" if (i, j) == (a, s) else
               " (the next state's pair)" if (i, j) == (s_next, a) else "")
        return (f"The entries of pair ({i}, {j}) changed{why}, but this step was taken at (state, action) = "
                f"({s}, {a}): index [state, action] — and the Dirichlet [state, action, next_state].")

    # the Normal on r(s, a)
    mean, var = gm[s, a], gv[s, a]
    if not (_close(mean, em[s, a]) and _close(var, ev[s, a])):
        from_prior = not (_close(m[s, a], 1.0) and _close(v[s, a], 1.0))
        normal_variants = [
            (from_prior and _close(mean, (1.0 + r) / 2.0),
             "The update started from the prior N(1, 1) (m' = (1 + r)/2), not from the posterior you were given: "
             "after earlier steps the posterior is this step's prior — m' = v'·(m/v + r), v' = 1/(1/v + 1)."),
            (_close(mean, (m[s, a] + r) / 2.0) and not _close(v[s, a], 1.0),
             "m' is the plain average of m and r: weigh each by its precision, m' = (m/v + r)/(1/v + 1) — a "
             "mean learned from many rewards (small v) moves little."),
            (_close(mean, r), "m' is the reward alone: what was learned before is forgotten. m' = v'·(m/v + r)."),
            (_close(mean, ev[s, a] * (m[s, a] + r)) and not _close(v[s, a], 1.0),
             "The old mean must be weighted by its precision: m' = v'·(m/v + r), not v'·(m + r)."),
            (_close(var, v[s, a]), "The variance did not shrink: precisions add, 1/v' = 1/v + 1, so v' = 1/(1/v + 1)."),
            (_close(var, 1.0 / (v[s, a] + 1.0)) and not _close(v[s, a], 1.0),
             "1/v' = v + 1 adds the variance, but it is the precisions that add: 1/v' = 1/v + 1."),
            (_close(var, v[s, a] + 1.0), "The variance grew: an observation makes the belief sharper, "
             "v' = 1/(1/v + 1) < v."),
        ]
        for applies, hint in normal_variants:
            if applies:
                return hint
        return ("The Normal update of r(state, action) is off: v' = 1/(1/v + 1), then m' = v'·(m/v + r) with the "
                "new v' (unit noise).")

    # the Dirichlet row α(s, a, ·)
    row, new_row = alpha[s, a], galpha[s, a]
    added = new_row - row
    if _near(added, 0.0):
        return f"The transition was not counted: α[state, action, next_state] += 1 (here α[{s}, {a}, {s_next}])."
    if _near(added, 1.0):
        return ("Every entry of the row α[state, action, ·] got +1: only the next state seen, "
                "α[state, action, next_state], is counted.")
    if _close(new_row, 1.0 + np.eye(S)[s_next]) and not _near(row, 1.0):
        return ("The row α[state, action, ·] restarted from the prior Dirichlet(1, …, 1): add 1 to the counts you "
                "were given, α[state, action, next_state] += 1.")
    if s != s_next and _close(added, np.eye(S)[s]):
        return (f"The count went to α[state, action, state] = α[{s}, {a}, {s}]: the transition seen is to "
                f"next_state = {s_next}, α[state, action, next_state] += 1.")
    return None


def check_posterior_update(function: Callable[..., Any], *, quiet: bool = False) -> None:
    """Check a learner's ``update_posterior(reward_mean, reward_variance, dirichlet, state, action, reward,
    next_state)`` on 4 steps.

    The posterior of one MDP is ``reward_mean`` m and ``reward_variance`` v, ``[S, A]`` (μ(s, a) ~ N(m, v)), and
    ``dirichlet`` α, ``[S, A, S]`` (P(· | s, a) ~ Dirichlet(α[s, a])); ``state``, ``action``, ``next_state`` are
    ints, ``reward`` a float (NumPy). The function must return the new ``(reward_mean, reward_variance,
    dirichlet)``, same shapes. The reference is :class:`~metalearn_lib.meta_rl_mdps.MDPPosterior` fed the same
    steps. A verdict shows m', v' and α'(s, a, ·) of the pair taken first. Prints ✅ and returns ``None``, or
    raises :class:`~metalearn_lib.checks.core.CheckFailed` with the verdict.
    """

    def call(before: _Posterior, *, state: int, action: int, reward: float, next_state: int) -> np.ndarray | None:
        result = function(before.reward_mean.copy(), before.reward_variance.copy(), before.dirichlet.copy(),
                          state, action, reward, next_state)
        if result is None:
            return None
        if not isinstance(result, (tuple, list)) or len(result) != 3:
            raise WrongShape(f"{_what(result)}, expected a triple: return the triple (reward_mean, reward_variance, "
                             "dirichlet)")
        names = ("reward_mean", "reward_variance", "dirichlet")
        arrays = [_as_array(name, x) for name, x in zip(names, result, strict=True)]
        for name, x, given in zip(names, arrays, (before.reward_mean, before.reward_variance, before.dirichlet),
                                  strict=True):
            if x.shape != given.shape:
                raise WrongShape(f"{name} of shape {x.shape}, expected {given.shape} (the shape it came in)")
        return _flat_posterior(*arrays, state, action)

    run_check(call, _posterior_cases(), diagnoses=(_diagnose_posterior,), name="update_posterior", rtol=_RTOL,
              atol=_ATOL, quiet=quiet)


# ============================================================================================
# belief_update(belief, position, reward) -> [N²]
# ============================================================================================
def _library_belief(belief: np.ndarray, position: int, reward: float) -> np.ndarray:
    return np.asarray(library_belief_update(belief[np.newaxis], [position], [reward]), np.float64)[0]


def _belief_cases() -> list[Case]:
    grid = Gridworld()  # 5 × 5, 21 candidate cells
    small = Gridworld(grid_size=3, excluded_block=1)  # 3 × 3, 8 candidate cells
    walk = np.array([2, 2, 1, 1])  # right, right, up, up: cells (1, 0), (2, 0), (2, 1), (2, 2)
    visited = np.asarray(belief_after(grid, walk, np.full(4, -0.1)), np.float64)

    def case(name: str, belief: np.ndarray, label: str, position: int, reward: float, hint: str) -> Case:
        return Case(name, (_Shown(belief, label), position, reward), _library_belief(belief, position, reward), hint)

    rule = ("After −0.1 the cell p is not the goal: b'(c) ∝ b(c)·1[c ≠ p], renormalised to sum to 1; after +1 it "
            "is: b' = onehot(p).")
    walked = "b after the walk (1,0) (2,0) (2,1) (2,2) (18 cells left)"
    return [
        case("the first step ends on an empty candidate cell", np.asarray(prior_belief(grid, 1), np.float64)[0],
             "b₀ (uniform over 21 cells)", grid.cell(2, 0), -0.1, rule),
        case("after 4 steps, one more empty cell", visited, walked, grid.cell(3, 2), -0.1, rule),
        case("a step on a cell already ruled out: nothing changes", visited, walked, grid.cell(2, 1), -0.1,
             "A cell with belief 0 stays at 0, and the others keep their values (they already sum to 1)."),
        case("the goal is found (+1): the belief collapses onto it", visited, walked, grid.cell(3, 2), 1.0,
             "A reward of +1 says the goal is p: b'(c) ∝ b(c)·1[c = p], so b' = onehot(p)."),
        case("a 3 × 3 grid (only the start excluded): the first step", np.asarray(prior_belief(small, 1),
             np.float64)[0], "b₀ (uniform over 8 cells of a 3 × 3 grid)", small.cell(0, 1), -0.1, rule),
    ]


def _diagnose_belief(case: Case, got: np.ndarray) -> str | None:
    belief, p, r = case.args[0].values, case.args[1], case.args[2]
    expected = np.asarray(case.expected)
    if _close(got, expected, _BELIEF_ATOL):
        return None
    onehot = np.eye(belief.size)[p]
    total = float(got.sum())
    if r > 0:
        if _close(got, belief, _BELIEF_ATOL):
            return ("The belief did not change: a reward of +1 means the step ended on the goal, so the belief "
                    f"collapses onto cell p = {p}: b'(p) = 1, every other cell 0.")
        if abs(got[p]) < _BELIEF_ATOL:
            return (f"Cell p = {p} lost its belief, but the reward +1 says the goal *is* p: the likelihood after "
                    "+1 is 1[c = p], so b' = onehot(p).")
        if _close(got, belief * onehot, _BELIEF_ATOL):
            return (f"Not renormalised: b(c)·1[c = p] sums to b(p) = {belief[p]:.3f}; divide by the sum (the belief "
                    "becomes onehot(p)).")
    else:
        if _close(got, belief, _BELIEF_ATOL) or (got[p] > _BELIEF_ATOL and _close(got, belief / belief.sum())):
            return (f"The belief did not change, but the step ended on cell p = {p} without the reward: that visited "
                    "cell is not the goal, so b'(p) = 0 and the rest is renormalised.")
        if got[p] > _BELIEF_ATOL:
            return (f"Cell p = {p} was visited and paid −0.1, so it is not the goal, yet it kept belief {got[p]:.3f}: "
                    "multiply by the likelihood 1[c ≠ p] (b'(p) = 0) before renormalising.")
        if _close(got, belief * (1.0 - onehot), _BELIEF_ATOL):
            return (f"Not renormalised: after removing cell p the belief sums to {total:.3f}; divide by the sum so "
                    "that it sums to 1 again.")
    revived = np.flatnonzero((got > _BELIEF_ATOL) & (belief <= 0.0))
    if revived.size:
        return (f"Cells with belief 0 in the belief you were given got belief back (cell {revived[0]}, …): "
                "b'(c) ∝ b(c)·P(r | g = c, p) keeps a 0 at 0 — update the belief you were given, not a fresh "
                "uniform one.")
    if abs(total - 1.0) > 1e-4:
        return f"The belief sums to {total:.3f}, not 1: renormalise (divide by the sum)."
    return None


def check_belief_update(function: Callable[..., Any], *, quiet: bool = False) -> None:
    """Check a learner's ``belief_update(belief, position, reward)`` on 5 steps.

    ``belief`` is b, ``[N²]`` probabilities over the cells c = x·N + y of an N × N gridworld (NumPy);
    ``position`` the cell p the step ended on (an int); ``reward`` +1 (p is the goal) or −0.1. The function
    must return b', ``[N²]``. The reference is :func:`metalearn_lib.meta_rl_mdps.belief_update`. Prints ✅ and
    returns ``None``, or raises :class:`~metalearn_lib.checks.core.CheckFailed` with the verdict.
    """

    def call(belief: _Shown, position: int, reward: float) -> Any:
        result = function(belief.values.copy(), position, reward)
        values = _as_array("the belief", result) if result is not None else None
        if values is not None and values.shape != belief.values.shape:
            raise WrongShape(f"a belief of shape {values.shape}, expected {belief.values.shape} (one number per "
                             "cell)")
        return values

    run_check(call, _belief_cases(), diagnoses=(_diagnose_belief,), name="belief_update", rtol=_RTOL,
              atol=_BELIEF_ATOL, quiet=quiet)
