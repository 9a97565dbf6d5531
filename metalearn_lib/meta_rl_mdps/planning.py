"""Finite-horizon planning in tabular MDPs, batched over MDPs: value iteration, policy evaluation
and UCRL2's optimistic (*extended*) value iteration.

Every function takes a model of any leading batch shape ``[...]`` (one MDP, a batch ``[B]``, …):
``reward_means [..., S, A]`` (r(s, a), the mean reward of action a in state s) and ``transitions
[..., S, A, S]`` (P(s' | s, a) along the last axis). Time runs h = 0, …, H − 1 within an episode
of ``horizon`` H steps; V_H = 0, so V_h(s) is the expected reward still to come with H − h steps
left. NumPy in float64: a batch of 1000 random MDPs (S = 10, A = 5) is solved for H = 10 in about
10 ms (extended value iteration: about 0.1 s).

Imports nothing of the course but the argument checks.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from metalearn_lib.validation import check_int

__all__ = ["check_model", "evaluate_policy", "extended_value_iteration", "optimistic_transitions", "value_iteration"]

#: How far a row of ``transitions`` may sum from 1 (float rounding of sampled Dirichlet rows).
_ROW_SUM_TOLERANCE = 1e-6


def _as_float_array(name: str, value: Any) -> NDArray[np.float64]:
    try:
        x = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be an array of numbers, got {type(value).__name__}") from None
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} must hold finite numbers")
    return x


def check_model(reward_means: ArrayLike, transitions: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``(reward_means, transitions)`` as float64 arrays ``[..., S, A]`` and ``[..., S, A, S]``.

    Raises:
        TypeError: not arrays of numbers.
        ValueError: wrong ranks or shapes, non-finite entries, negative probabilities, or a row
            P(· | s, a) that does not sum to 1.
    """
    r = _as_float_array("reward_means", reward_means)
    p = _as_float_array("transitions", transitions)
    if r.ndim < 2 or r.shape[-1] == 0 or r.shape[-2] == 0:
        raise ValueError(f"reward_means must have shape [..., num_states, num_actions] with both >= 1, got {r.shape}")
    if p.shape != (*r.shape, r.shape[-2]):
        raise ValueError(f"transitions must have shape [..., num_states, num_actions, num_states] = "
                         f"{(*r.shape, r.shape[-2])} to match reward_means, got {p.shape}")
    if np.any(p < 0) or np.any(np.abs(p.sum(axis=-1) - 1.0) > _ROW_SUM_TOLERANCE):
        raise ValueError("transitions must hold probabilities >= 0 with every row P(. | s, a) summing to 1")
    return r, p


def value_iteration(reward_means: ArrayLike, transitions: ArrayLike, horizon: int
                    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Optimal finite-horizon values by backward induction, every MDP of the batch at once.

    V_H = 0 and, for h = H − 1, …, 0, ::

        Q_h(s, a) = r(s, a) + Σ_s' P(s' | s, a) V_{h+1}(s'),    V_h(s) = max_a Q_h(s, a),

    so acting by argmax_a Q_h(s_h, a) at step h is optimal, with expected episode return V_0(s_0).

    Args:
        reward_means: r, ``[..., S, A]``.
        transitions: P, ``[..., S, A, S]``.
        horizon: H ≥ 1, the steps of an episode.

    Returns:
        ``(Q, V)``: ``Q [..., H, S, A]`` and ``V [..., H + 1, S]`` (float64, ``V[..., H, :] = 0``).

    Raises:
        ValueError, TypeError: a malformed model (see :func:`check_model`) or ``horizon`` < 1.
    """
    r, p = check_model(reward_means, transitions)
    horizon = check_int("horizon", horizon)
    batch, (num_states, num_actions) = r.shape[:-2], r.shape[-2:]
    q = np.empty((*batch, horizon, num_states, num_actions))
    v = np.zeros((*batch, horizon + 1, num_states))
    for h in reversed(range(horizon)):
        # Q_h(s, a) = r(s, a) + Σ_s' P(s' | s, a) V_{h+1}(s')
        q[..., h, :, :] = r + np.einsum("...sat,...t->...sa", p, v[..., h + 1, :])
        # V_h(s) = max_a Q_h(s, a)
        v[..., h, :] = q[..., h, :, :].max(axis=-1)
    return q, v


def evaluate_policy(reward_means: ArrayLike, transitions: ArrayLike, policy: ArrayLike) -> NDArray[np.float64]:
    """Values of a deterministic, non-stationary policy a = π_h(s), by backward induction.

    V^π_H = 0 and V^π_h(s) = r(s, π_h(s)) + Σ_s' P(s' | s, π_h(s)) V^π_{h+1}(s').

    Args:
        reward_means: r, ``[..., S, A]``.
        transitions: P, ``[..., S, A, S]``.
        policy: π, ``[..., H, S]`` integer actions in [0, A) (H ≥ 1 the horizon).

    Returns:
        ``V^π [..., H + 1, S]`` (float64).

    Raises:
        ValueError, TypeError: a malformed model or policy.
    """
    r, p = check_model(reward_means, transitions)
    pi = np.asarray(policy)
    batch, (num_states, num_actions) = r.shape[:-2], r.shape[-2:]
    if pi.ndim != len(batch) + 2 or pi.shape[:-2] != batch or pi.shape[-1] != num_states or pi.shape[-2] < 1:
        raise ValueError(f"policy must have shape [..., horizon, num_states] = [{', '.join(map(str, batch))}"
                         f"{', ' if batch else ''}H, {num_states}] with H >= 1, got {pi.shape}")
    if not np.issubdtype(pi.dtype, np.integer) or np.any((pi < 0) | (pi >= num_actions)):
        raise ValueError(f"policy must hold integer actions in [0, {num_actions - 1}]")
    horizon = pi.shape[-2]
    v = np.zeros((*batch, horizon + 1, num_states))
    for h in reversed(range(horizon)):
        a = pi[..., h, :]
        r_pi = np.take_along_axis(r, a[..., np.newaxis], axis=-1)[..., 0]                     # r(s, π_h(s))
        p_pi = np.take_along_axis(p, a[..., np.newaxis, np.newaxis], axis=-2)[..., 0, :]      # P(· | s, π_h(s))
        # V^π_h(s) = r(s, π_h(s)) + Σ_s' P(s' | s, π_h(s)) V^π_{h+1}(s')
        v[..., h, :] = r_pi + np.einsum("...st,...t->...s", p_pi, v[..., h + 1, :])
    return v


def optimistic_transitions(transitions: ArrayLike, radius: ArrayLike, values: ArrayLike) -> NDArray[np.float64]:
    """The inner maximum of extended value iteration (Jaksch, Ortner & Auer 2010, Figure 2).

    For each (s, a), the distribution P̃ in the L1 ball around P̂ = P̂(· | s, a) that maximises the
    expected next value, ::

        P̃ = argmax { Σ_s' P(s') V(s')  :  P a distribution, ‖P − P̂‖₁ ≤ d(s, a) },

    found greedily: move ε = min(d/2, 1 − P̂(s*)) of mass onto the best next state s* = argmax V,
    taking it from the worst states first (each down to 0 at most). Moving mass between two
    states changes ‖P − P̂‖₁ by twice the mass, hence d/2.

    Args:
        transitions: P̂, ``[..., S, A, S]`` (rows summing to 1).
        radius: d ≥ 0, ``[..., S, A]`` (anything broadcasting to it); d ≥ 2 allows every distribution.
        values: V, ``[..., S]`` the values of the next states.

    Returns:
        P̃, ``[..., S, A, S]``.

    Raises:
        ValueError, TypeError: malformed arrays or a negative radius.
    """
    p = _as_float_array("transitions", transitions)
    if p.ndim < 3 or p.shape[-1] != p.shape[-3] or p.shape[-1] == 0:
        raise ValueError(f"transitions must have shape [..., num_states, num_actions, num_states], got {p.shape}")
    d = _as_float_array("radius", radius)
    if np.any(d < 0):
        raise ValueError("radius must be >= 0")
    v = _as_float_array("values", values)
    if v.shape[-1:] != p.shape[-1:]:
        raise ValueError(f"values must have shape [..., num_states] with num_states = {p.shape[-1]}, got {v.shape}")
    d = np.broadcast_to(d, p.shape[:-1])
    return _optimistic(p, d, v)


def _optimistic(p: NDArray[np.float64], d: NDArray[np.float64], v: NDArray[np.float64]) -> NDArray[np.float64]:
    """:func:`optimistic_transitions` without the checks."""
    order = np.argsort(v, axis=-1, kind="stable")[..., np.newaxis, np.newaxis, :]  # worst next state first
    order = np.broadcast_to(order, p.shape)
    q = np.take_along_axis(p, order, axis=-1)                     # P̂ sorted by V, the best state last
    best = q[..., -1]
    moved = np.clip(np.minimum(d / 2.0, 1.0 - best), 0.0, None)   # ε = min(d/2, 1 − P̂(s*))
    # take ε from the worst states first: the j-th keeps clip(Σ_{i ≤ j} P̂(s_i) − ε, 0, P̂(s_j))
    kept = np.clip(np.cumsum(q, axis=-1) - moved[..., np.newaxis], 0.0, q)
    kept[..., -1] = best + moved                                  # P̃(s*) = P̂(s*) + ε
    out = np.empty_like(p)
    np.put_along_axis(out, order, kept, axis=-1)
    return out


def extended_value_iteration(reward_means: ArrayLike, transitions: ArrayLike, reward_bonus: ArrayLike,
                             radius: ArrayLike, horizon: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Optimistic finite-horizon values over a set of plausible MDPs (UCRL2's planning step).

    The plausible MDPs have mean rewards up to r̂(s, a) + b(s, a) and transitions within L1
    distance d(s, a) of P̂(· | s, a). Their largest values solve, with Ṽ_H = 0, ::

        Q̃_h(s, a) = r̂(s, a) + b(s, a) + max_{‖P − P̂(· | s, a)‖₁ ≤ d(s, a)} Σ_s' P(s') Ṽ_{h+1}(s'),
        Ṽ_h(s) = max_a Q̃_h(s, a),

    the inner maximum by :func:`optimistic_transitions`.

    Args:
        reward_means: r̂, ``[..., S, A]`` (empirical means).
        transitions: P̂, ``[..., S, A, S]`` (empirical transitions).
        reward_bonus: b ≥ 0, broadcasting to ``[..., S, A]``.
        radius: d ≥ 0, broadcasting to ``[..., S, A]``.
        horizon: H ≥ 1.

    Returns:
        ``(Q̃ [..., H, S, A], Ṽ [..., H + 1, S])``.

    Raises:
        ValueError, TypeError: a malformed model, a negative bonus or radius, ``horizon`` < 1.
    """
    r, p = check_model(reward_means, transitions)
    bonus = _as_float_array("reward_bonus", reward_bonus)
    d = _as_float_array("radius", radius)
    for name, x in (("reward_bonus", bonus), ("radius", d)):
        if np.any(x < 0):
            raise ValueError(f"{name} must be >= 0")
    horizon = check_int("horizon", horizon)
    optimistic_r = r + bonus                                       # r̂(s, a) + b(s, a)
    d = np.broadcast_to(d, r.shape)
    batch, (num_states, num_actions) = r.shape[:-2], r.shape[-2:]
    q = np.empty((*batch, horizon, num_states, num_actions))
    v = np.zeros((*batch, horizon + 1, num_states))
    for h in reversed(range(horizon)):
        p_tilde = _optimistic(p, d, v[..., h + 1, :])
        # Q̃_h(s, a) = r̂(s, a) + b(s, a) + Σ_s' P̃(s' | s, a) Ṽ_{h+1}(s')
        q[..., h, :, :] = optimistic_r + np.einsum("...sat,...t->...sa", p_tilde, v[..., h + 1, :])
        # Ṽ_h(s) = max_a Q̃_h(s, a)
        v[..., h, :] = q[..., h, :, :].max(axis=-1)
    return q, v
