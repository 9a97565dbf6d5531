"""The gridworld's exact Bayes-optimal policy, by dynamic programming over belief states.

**Counting steps on the goal.** Every step of :class:`~metalearn_lib.meta_rl_mdps.gridworld.Gridworld` pays
r = −0.1 + 1.1·1[s' = g], so a trial's return is −0.1·T + 1.1·N, N the number of steps that end on the goal:
maximising the return is maximising E[N], an integer problem.

**The belief MDP.** After any history the belief is uniform over the candidates not yet visited, R (#R of
them; :mod:`~metalearn_lib.meta_rl_mdps.gridworld_beliefs`), so a belief state is (cell p, R, step t) while the goal is
unknown. Until it is found every reward is −0.1 and every cell follows from the actions, so until then a policy is
one fixed action sequence (a *search plan*); once the goal g is found the rest is known and deterministic: stay on g
for the rest of the episode, walk straight to it (d(s₀, g) steps) in every later episode. Found at step t
(k = t mod H + 1 of episode e = ⌊t/H⌋), g is stood on ::

    n_t(g) = (H − k + 1) + (E − 1 − e)·(H + 1 − d(s₀, g))⁺                                                  (1)

steps. With W(p, R, t) = max over plans of Σ_{g∈R} N_g (N_g: steps on g from t on, were the goal g), the expected
return from (p, R, t) is V = −0.1·(T − t) + 1.1·W/#R, and ::

    W(p, R, T) = 0,
    W(p, R, t) = max_a [ 1[p' ∈ R]·n_t(p') + W(p'', R ∖ {p'}, t + 1) ],   p' = move(p, a),                  (2)

p'' = s₀ where step t ends an episode, else p'. (2) is the belief MDP's Bellman equation times #R (the goal is at
p' with probability 1/#R), in integers, so every value is exact.

**Making it fast, exactly.**

* *Moves worth considering.* n_t(g) only decreases as the first visit of g comes later (by 1 a step within an
  episode, and by at least 1 across an episode's end, since n_t ≥ 1 at an episode's last step and a later episode
  first reaches g at step k ≥ d(s₀, g)); never finding g gives 0. So replacing the way between two discoveries by
  a shortest path (which arrives earlier and may discover more on the way), and an episode's idle tail by a walk to
  a candidate still reachable, never lowers Σ_g N_g. Hence (2)'s maximum is unchanged when the actions are
  restricted to the moves that bring p closer to some c ∈ R with d(p, c) ≤ H − (t mod H) (reachable this episode),
  and "stay" where no such c exists. Checked against plain expectimax over every history on small grids (tests).
* *Mirror symmetry.* (x, y) ↦ (y, x) maps the grid, s₀ and the excluded block onto themselves, and up ↔ right,
  down ↔ left: W(σp, σR, t) = W(p, R, t). States are stored once per mirror pair (the smaller key).
* *Branch and bound.* A forward pass per step t keeps, for every belief state, the most steps-on-goal G collected on
  the way to it, and drops a state when G + U < L, where L is a plan's total (from a first, beam-limited pass) and
  U ≥ W an upper bound: each g ∈ R gets (E − 1 − e)·(H + 1 − d(s₀, g))⁺ (found at its earliest in the next
  episode) plus, for at most one discovery a step this episode from the nearest candidate at distance δ on,
  Σ_{j<m} (H + 1 − k₀ − δ − j), m = min(#R, H − k₀ − δ + 1), k₀ = t mod H. A state on an optimal path has
  G + W ≥ L, so it and its optimal continuation survive; the backward pass of (2) over the survivors then gives the
  exact W on every optimal path, and the plan (ties: the lowest action number among the moves above).
* *Episodes.* The found-goal branch needs no search, (1) is its value; and every episode starts in a state
  (s₀, R, t), so the later episodes' searches are shared by all the earlier histories that leave the same R.

Imports the gridworld and its beliefs; nothing else of the course but :mod:`metalearn_lib.validation`.
"""

from __future__ import annotations

import functools
import time
from fractions import Fraction
from typing import NamedTuple

import numpy as np
import tensorflow as tf

from metalearn_lib.meta_rl_mdps.gridworld import GOAL_REWARD, STEP_REWARD, Gridworld
from metalearn_lib.meta_rl_mdps.gridworld_beliefs import (
    BeliefState,
    GridworldTrial,
    belief_state_after,
    check_goals,
    reached_cells,
)
from metalearn_lib.validation import check_int

__all__ = ["GridworldBayesOptimal", "bayes_optimal_action", "gridworld_bayes_optimal"]

#: Larger than any W; a pruned or disallowed successor scores −_NONE.
_NONE = 1 << 60
#: Cells a bitmask can hold with the cell in the same int64 key.
_MAX_CELLS = 56


class _Search(NamedTuple):
    """The solved search from one belief state."""

    steps_on_goal: int  # W(p, R, t)
    plan: tuple[int, ...]  # the Bayes-optimal actions from t to T while the goal stays unknown
    num_states: int  # belief states kept by the exact pass
    num_beam_states: int  # belief states of the pass that found the bound L


class GridworldBayesOptimal:
    """The solved belief MDP of a :class:`~metalearn_lib.meta_rl_mdps.gridworld.Gridworld` (module docstring).

    Building it solves the trial from its start (the search plan and W); later queries from other belief states
    are solved the same way on demand and cached.

    Args:
        env: the gridworld (square, at most 7 × 7).
        use_symmetry: store mirror-image states once (for the tests' comparison; the values are the same).
        use_bounds: prune by branch and bound (False: keep every state of the restricted moves, small grids only).
        beam_width: states kept a step by the pass that finds the bound L.
        max_states: refuse (``ValueError``) a search with more belief states in one step than this.

    Attributes:
        env: the gridworld.
        plan: ``[T]`` int64, the Bayes-optimal actions while the goal is not found (then: stay on it, and walk
            straight to it in later episodes).
        steps_on_goal: W(s₀, C, 0), the most expected-steps-on-goal times #C.
        expected_return: V = −0.1·T + 1.1·W/#C, the Bayes-optimal expected return (``expected_return_fraction``
            exactly).
        num_belief_states: belief states the exact pass kept (``num_beam_states``: the first pass's).
        solve_seconds: the time the solution from the start took.

    Raises:
        TypeError, ValueError: a bad argument, a grid over 7 × 7, or a search over ``max_states``.
    """

    def __init__(self, env: Gridworld, *, use_symmetry: bool = True, use_bounds: bool = True,
                 beam_width: int = 2048, max_states: int = 5_000_000) -> None:
        if not isinstance(env, Gridworld):
            raise TypeError(f"env must be a Gridworld, got {type(env).__name__}")
        if env.num_cells > _MAX_CELLS:
            raise ValueError(f"grid_size must be at most 7 for the bitmask DP, got {env.grid_size}")
        self.env = env
        self.use_symmetry = bool(use_symmetry)
        self.use_bounds = bool(use_bounds)
        self.beam_width = check_int("beam_width", beam_width)
        self.max_states = check_int("max_states", max_states)
        self._build_tables()
        self._searches: dict[tuple[int, int, int], _Search] = {}
        self._actions: dict[tuple[int, int, int], int] = {}
        started = time.perf_counter()
        root = self._search(env.start_cell, self._all_candidates, 0)
        self.solve_seconds = time.perf_counter() - started
        self.plan = np.array(root.plan, dtype=np.int64)
        self.steps_on_goal = root.steps_on_goal
        self.num_belief_states, self.num_beam_states = root.num_states, root.num_beam_states
        self.expected_return_fraction = self._value_fraction(root.steps_on_goal, env.num_candidates, 0)
        self.expected_return = float(self.expected_return_fraction)

    # ------------------------------------------------------------------------------------------
    # tables
    # ------------------------------------------------------------------------------------------

    def _build_tables(self) -> None:
        env = self.env
        n, cells, H, E = env.grid_size, env.num_cells, env.episode_length, env.num_episodes
        dist, moves = env.distances, env.next_cells
        bits = np.where(env.candidate_mask, np.int64(1) << np.arange(cells, dtype=np.int64), 0)
        self._all_candidates = int(bits.sum())
        self._cells_bits = cells
        self._candidates = np.array(env.candidate_cells, dtype=np.int64)
        steps_left = np.arange(H + 1)[:, None, None]  # r = H − (t mod H), this step included
        closer = dist[moves] < dist[:, None, :]  # [p, a, c]: move a from p gets closer to c
        reachable = dist[None] <= steps_left  # [r, p, c]
        self._closer = ((closer[None] & reachable[:, :, None, :]) * bits).sum(axis=-1)  # [r, p, a] masks
        self._reach = (reachable * bits).sum(axis=-1)  # [r, p]
        self._ring = np.stack([((dist == delta) * bits).sum(axis=-1) for delta in range(2 * n - 1)])  # [δ, p]
        later = np.maximum(0, H + 1 - dist[env.start_cell])  # (H + 1 − d(s₀, g))⁺
        t = np.arange(env.horizon)[:, None]
        self._gain = (H - t % H) + (E - 1 - t // H) * later  # n_t(g), (1)
        self._bonus = (E - 1 - np.arange(E))[:, None] * later  # [e, g]
        x, y = np.divmod(np.arange(cells), n)
        self._mirror = (y * n + x).astype(np.int64)

    def _keys(self, cells: np.ndarray, masks: np.ndarray) -> np.ndarray:
        """One int64 key per belief state, cell·2^{N²} + R; the smaller of the mirror pair with symmetry."""
        keys = (cells << self._cells_bits) | masks
        if not self.use_symmetry:
            return keys
        mirrored = np.zeros_like(masks)
        for c in self._candidates:
            mirrored |= ((masks >> c) & 1) << self._mirror[c]
        return np.minimum(keys, (self._mirror[cells] << self._cells_bits) | mirrored)

    def _decode(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return keys >> self._cells_bits, keys & ((1 << self._cells_bits) - 1)

    def _children(self, cells: np.ndarray, masks: np.ndarray, t: int) -> tuple[np.ndarray, ...]:
        """The allowed moves of step t from every state: (parent, action, next cell, next R, n_t gained)."""
        env = self.env
        r = env.episode_length - t % env.episode_length
        ends = r == 1
        out: list[list[np.ndarray]] = [[], [], [], [], []]
        for a in range(env.num_actions):
            if a == 0:  # stay only where no candidate is reachable this episode
                parent = np.flatnonzero((masks & self._reach[r, cells]) == 0)
            else:  # a move closer to a candidate reachable this episode
                parent = np.flatnonzero((masks & self._closer[r, cells, a]) != 0)
            reached = env.next_cells[cells[parent], a]
            hit = (masks[parent] >> reached) & 1  # 1[p' ∈ R]
            after = np.full_like(reached, env.start_cell) if ends else reached
            parts = (parent, np.full(parent.size, a), after, masks[parent] & ~(hit << reached),
                     hit * self._gain[t, reached])
            for part, value in zip(out, parts, strict=True):
                part.append(value)
        return tuple(np.concatenate(part).astype(np.int64) for part in out)

    def _upper_bound(self, cells: np.ndarray, masks: np.ndarray, t: int) -> np.ndarray:
        """U(p, R, t) ≥ W(p, R, t) (module docstring), vectorised."""
        env = self.env
        if t >= env.horizon:
            return np.zeros(cells.shape, dtype=np.int64)
        e, k0 = divmod(t, env.episode_length)
        r = env.episode_length - k0
        bonus = np.zeros(cells.shape, dtype=np.int64)
        count = np.zeros(cells.shape, dtype=np.int64)
        for c in self._candidates:
            bit = (masks >> c) & 1
            bonus += bit * self._bonus[e, c]
            count += bit
        nearest = np.zeros(cells.shape, dtype=np.int64)
        for delta in range(min(r, self._ring.shape[0] - 1), 0, -1):
            nearest = np.where((masks & self._ring[delta, cells]) != 0, delta, nearest)
        m = np.where(nearest > 0, np.minimum(count, r - nearest + 1), 0)
        return bonus + m * (env.episode_length + 1 - k0 - nearest) - m * (m - 1) // 2

    # ------------------------------------------------------------------------------------------
    # the search
    # ------------------------------------------------------------------------------------------

    def _forward(self, cell: int, remaining: int, t0: int, lower_bound: int | None, beam_width: int | None
                 ) -> tuple[list[np.ndarray], int]:
        """Step-by-step belief states from (cell, R, t₀), each with G (most n_t collected on the way), pruned."""
        keys = self._keys(np.array([cell], dtype=np.int64), np.array([remaining], dtype=np.int64))
        collected = np.zeros(1, dtype=np.int64)
        layers = [keys]
        for t in range(t0, self.env.horizon):
            parent, _, cells, masks, gains = self._children(*self._decode(keys), t)
            child_keys, child_collected = self._keys(cells, masks), collected[parent] + gains
            order = np.lexsort((child_collected, child_keys))  # by key, then G: keep each key's last (largest G)
            child_keys, child_collected = child_keys[order], child_collected[order]
            last = np.append(child_keys[1:] != child_keys[:-1], True)
            keys, collected = child_keys[last], child_collected[last]
            if lower_bound is not None or beam_width is not None:
                bound = collected + self._upper_bound(*self._decode(keys), t + 1)
                keep = np.flatnonzero(bound >= (lower_bound if lower_bound is not None else -_NONE))
                if beam_width is not None and keep.size > beam_width:
                    keep = np.sort(keep[np.argpartition(-bound[keep], beam_width - 1)[:beam_width]])
                keys, collected = keys[keep], collected[keep]
            if keys.size > self.max_states:
                raise ValueError(f"the search keeps {keys.size} belief states at step {t + 1}, more than "
                                 f"max_states={self.max_states}: try a smaller grid, episode_length or num_episodes")
            layers.append(keys)
        return layers, int(collected.max())

    def _lookup(self, keys: np.ndarray, values: np.ndarray, queries: np.ndarray) -> np.ndarray:
        j = np.minimum(np.searchsorted(keys, queries), keys.size - 1)
        return np.where(keys[j] == queries, values[j], -_NONE)

    def _search(self, cell: int, remaining: int, t0: int) -> _Search:
        """Solve (2) from (cell, R, t₀): bound, exact pass, backward pass, plan; cached."""
        key = (cell, remaining, t0)
        if key in self._searches:
            return self._searches[key]
        beam_layers, lower_bound = self._forward(cell, remaining, t0, None, self.beam_width)
        layers, _ = self._forward(cell, remaining, t0, lower_bound if self.use_bounds else None, None)
        values = [np.zeros(layers[-1].size, dtype=np.int64)]
        for i in range(len(layers) - 2, -1, -1):  # W(·, t) = max_a [gain + W(·, t + 1)], (2)
            parent, action, cells, masks, gains = self._children(*self._decode(layers[i]), t0 + i)
            q = np.full((layers[i].size, self.env.num_actions), -_NONE)
            q[parent, action] = gains + self._lookup(layers[i + 1], values[0], self._keys(cells, masks))
            values.insert(0, q.max(axis=1))
        plan = []
        for i, t in enumerate(range(t0, self.env.horizon)):  # follow argmax (the lowest best action)
            _, action, cells, masks, gains = self._children(np.array([cell]), np.array([remaining]), t)
            q = np.full(self.env.num_actions, -_NONE)
            q[action] = gains + self._lookup(layers[i + 1], values[i + 1], self._keys(cells, masks))
            best = int(np.argmax(q))
            self._actions.setdefault((cell, remaining, t), best)
            plan.append(best)
            j = int(np.flatnonzero(action == best)[0])
            cell, remaining = int(cells[j]), int(masks[j])
        steps_on_goal = int(values[0][0])
        if steps_on_goal < lower_bound:
            raise AssertionError("the exact pass lost the plan that set its bound")
        search = _Search(steps_on_goal, tuple(plan), sum(k.size for k in layers), sum(k.size for k in beam_layers))
        self._searches[key] = search
        return search

    # ------------------------------------------------------------------------------------------
    # queries
    # ------------------------------------------------------------------------------------------

    def _check_state(self, state: BeliefState) -> BeliefState:
        env = self.env
        if not isinstance(state, BeliefState):
            raise TypeError(f"state must be a BeliefState, got {type(state).__name__}")
        position, remaining, step, goal = (check_int(name, value, lo) for name, value, lo in
                                           (("state.position", state.position, 0),
                                            ("state.remaining", state.remaining, 0),
                                            ("state.step", state.step, 0), ("state.goal", state.goal, -1)))
        if position >= env.num_cells or step > env.horizon:
            raise ValueError(f"state.position must be in [0, {env.num_cells - 1}] and state.step in "
                             f"[0, {env.horizon}], got {position} and {step}")
        if goal >= 0 and (goal >= env.num_cells or not env.candidate_mask[goal]):
            raise ValueError(f"state.goal must be -1 or a candidate cell, got {goal}")
        if goal < 0 and (remaining == 0 or remaining & ~self._all_candidates or remaining >> position & 1):
            raise ValueError("state.remaining must be a non-empty bitmask of candidate cells without the agent's "
                             f"cell, got {remaining:#x}")
        return BeliefState(position, remaining, step, goal)

    def _steps_on_found_goal(self, position: int, goal: int, step: int) -> int:
        """N from (p, t) with the goal known: walk to it, stay, walk to it again from s₀ after each episode's end."""
        env, on_goal = self.env, 0
        for t in range(step, env.horizon):
            position = int(env.next_cells[position, env.toward_actions[position, goal]])
            on_goal += position == goal
            position = env.start_cell if (t + 1) % env.episode_length == 0 else position
        return on_goal

    def _value_fraction(self, steps_on_goal: int, count: int, step: int) -> Fraction:
        """V = −0.1·(T − t) + 1.1·W/#R as an exact fraction."""
        return (Fraction(STEP_REWARD).limit_denominator(10) * (self.env.horizon - step)
                + Fraction(GOAL_REWARD - STEP_REWARD).limit_denominator(10) * Fraction(steps_on_goal, count))

    def value(self, state: BeliefState) -> float:
        """The Bayes-optimal expected return of the rest of the trial from a belief state (cached searches)."""
        position, remaining, step, goal = self._check_state(state)
        if goal >= 0:
            return float(self._value_fraction(self._steps_on_found_goal(position, goal, step), 1, step))
        if step == self.env.horizon:
            return 0.0
        search = self._search(position, remaining, step)
        return float(self._value_fraction(search.steps_on_goal, bin(remaining).count("1"), step))

    def q_values(self, state: BeliefState) -> np.ndarray:
        """Q(state, a) for the five actions, ``[5]``: the expected return of a then acting Bayes-optimally.

        Raises:
            ValueError: a bad state, or one at the trial's end.
        """
        position, remaining, step, goal = self._check_state(state)
        env = self.env
        if step >= env.horizon:
            raise ValueError(f"state.step must be < horizon={env.horizon} for an action, got {step}")
        ends = (step + 1) % env.episode_length == 0
        out = np.empty(env.num_actions)
        for a in range(env.num_actions):
            reached = int(env.next_cells[position, a])
            after = env.start_cell if ends else reached
            if goal >= 0:
                out[a] = (STEP_REWARD + (GOAL_REWARD - STEP_REWARD) * (reached == goal)
                          + self.value(BeliefState(after, 0, step + 1, goal)))
                continue
            hit = remaining >> reached & 1
            rest, count = remaining & ~(hit << reached), bin(remaining).count("1")
            found = hit * int(self._gain[step, reached])
            later = 0 if rest == 0 or step + 1 == env.horizon else self._search(after, rest, step + 1).steps_on_goal
            out[a] = float(self._value_fraction(found + later, count, step))
        return out

    def action(self, state: BeliefState) -> int:
        """The Bayes-optimal action in a belief state: the plan's while the goal is unknown (ties: the lowest action
        number among the moves the search considers), the first move of a shortest path to the goal once found.

        Raises:
            ValueError: a bad state, or one at the trial's end.
        """
        position, remaining, step, goal = self._check_state(state)
        if step >= self.env.horizon:
            raise ValueError(f"state.step must be < horizon={self.env.horizon} for an action, got {step}")
        if goal >= 0:
            return int(self.env.toward_actions[position, goal])
        key = (position, remaining, step)
        if key not in self._actions:
            self._search(position, remaining, step)
        return self._actions[key]

    def discovery_steps(self) -> np.ndarray:
        """``[|C|]``: the step t at which the plan first visits each candidate cell (−1: never)."""
        cells = reached_cells(self.env, self.plan)
        first = {}
        for t, c in enumerate(cells.tolist()):
            first.setdefault(c, t)
        return np.array([first.get(c, -1) for c in self.env.candidate_cells], dtype=np.int64)

    def returns_by_goal(self) -> np.ndarray:
        """``[|C|, E]`` float64: each episode's return for each goal (in ``candidate_cells`` order), exactly.

        Episode e pays −0.1·H + 1.1·(steps on the goal in e): H − (t_g mod H) in the episode of the discovery
        step t_g, (H + 1 − d(s₀, g))⁺ in each later one.
        """
        env = self.env
        H, E = env.episode_length, env.num_episodes
        steps = np.zeros((env.num_candidates, E), dtype=np.int64)
        for i, (g, t) in enumerate(zip(env.candidate_cells, self.discovery_steps(), strict=True)):
            if t >= 0:
                steps[i, t // H] = H - t % H
                steps[i, t // H + 1:] = max(0, H + 1 - int(env.distances[env.start_cell, g]))
        return STEP_REWARD * H + (GOAL_REWARD - STEP_REWARD) * steps

    def episode_returns(self) -> np.ndarray:
        """``[E]``: the Bayes-optimal expected return of each episode (they sum to ``expected_return``)."""
        return self.returns_by_goal().mean(axis=0)

    def play(self, tasks: tf.Tensor) -> GridworldTrial:
        """The Bayes-optimal policy on a batch of goals: the plan until a reward of +1 reveals the goal, then a
        shortest path to it (staying on it). TensorFlow over the batch, one Python step per time step.

        Raises:
            ValueError: ``tasks`` not ``[B]`` candidate cells.
        """
        env = self.env
        goals = check_goals(env, tasks)
        toward = tf.constant(env.toward_actions, tf.int32)
        cells = env.initial_state(goals)
        known = tf.fill(tf.shape(goals), -1)
        seed = tf.zeros([2], tf.int64)
        actions, rewards = [], []
        for t in range(env.horizon):
            exploit = tf.gather_nd(toward, tf.stack([cells, tf.maximum(known, 0)], axis=1))
            action = tf.where(known >= 0, exploit, int(self.plan[t]))
            reached = env.step_cells(cells, action)
            cells, reward, _, _ = env.transition(goals, cells, action, t, seed)
            known = tf.where(reward > 0.0, reached, known)
            actions.append(action)
            rewards.append(reward)
        return GridworldTrial(tf.stack(actions, axis=1), tf.stack(rewards, axis=1))


@functools.lru_cache(maxsize=8)
def _solver(grid_size: int, episode_length: int, num_episodes: int, excluded_block: int) -> GridworldBayesOptimal:
    return GridworldBayesOptimal(Gridworld(grid_size, episode_length, num_episodes, excluded_block))


def gridworld_bayes_optimal(env: Gridworld) -> GridworldBayesOptimal:
    """The solved :class:`GridworldBayesOptimal` of ``env``, built on first request and cached per layout (the
    observation kind does not matter)."""
    if not isinstance(env, Gridworld):
        raise TypeError(f"env must be a Gridworld, got {type(env).__name__}")
    return _solver(env.grid_size, env.episode_length, env.num_episodes, env.excluded_block)


def bayes_optimal_action(env: Gridworld, actions: list[int] | np.ndarray, rewards: list[float] | np.ndarray) -> int:
    """The Bayes-optimal action after a history (the actions and rewards so far, from the trial's start).

    Raises:
        ValueError: a history no goal explains, or one at the trial's end.
    """
    solver = gridworld_bayes_optimal(env)
    return solver.action(belief_state_after(solver.env, actions, rewards))


