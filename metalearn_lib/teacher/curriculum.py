"""A curriculum teacher: it chooses which task the learner practises next.

**The task family: a chain of subskills** (order matters by construction). Task k = 1 … K asks
for y = c_k·x with c_k = ∏_{j≤k} w_j (the composition of k scalar "subskills" w_j). The learner
owns one parameter per subskill, θ = (θ_1 … θ_K), predicts task k with ŷ = P_k(θ)·x,
P_k(θ) = ∏_{j≤k} θ_j, and practising task k is one SGD step on *its own* subskill θ_k using a
fresh batch (x_i ~ N(0, 1), y_i = c_k x_i + σ ε_i)::

    θ_k ← θ_k − η ∂/∂θ_k (1/n) Σ_i (P_k(θ) x_i − y_i)²  =  θ_k − η (2/n) Σ_i (P_k x_i − y_i) x_i · P_{k−1}(θ).

The step is scaled by P_{k−1}: while the earlier subskills are unlearned (θ_j ≈ θ_0 ≪ 1) practising
task k barely moves, so progress on task k is only possible once task k − 1 is learned. Task k's
excess risk is L_k(θ) = E[(P_k x − c_k x)²] − σ² = (P_k(θ) − c_k)²; the learner has *reached the
target* once max_k L_k ≤ target.

**Teachers.** :class:`UniformTeacher` samples k uniformly. :class:`CurriculumTeacher` is a
bandit over tasks whose reward is the measured absolute learning progress of the practised task,
r_t = abs(L_k(θ_t) − L_k(θ_{t+1})), smoothed per task as Q_k ← Q_k + α (r_t − Q_k) and turned into
probabilities with exponential weights plus uniform exploration::

    p_k = (1 − ε) softmax_k(Q_k / (τ · max_j Q_j)) + ε / K

(:func:`metalearn_lib.averaging.performance_weights`). It practises the frontier task where the
loss is moving, abandons tasks once learned (their progress falls to 0) and, through ε, notices
when the next task becomes learnable; the absolute value also brings it back to a task whose loss
rises again. Uniform sampling wastes (K − 1)/K of its rounds on tasks that are either already
learned or not yet learnable, so it needs more rounds (see :func:`compare_teachers`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from metalearn_lib.averaging import performance_weights
from metalearn_lib.validation import check_int, check_number

__all__ = [
    "ChainTasks",
    "CurriculumResult",
    "CurriculumTeacher",
    "TaskTeacher",
    "UniformTeacher",
    "compare_teachers",
    "run_curriculum",
]


@dataclass(frozen=True)
class ChainTasks:
    """The chain-of-subskills task family (see the module docstring).

    Attributes:
        num_tasks: K ≥ 1.
        skill: w_j, the same for every subskill (c_k = w^k), a finite number > 0.
        init: θ_0, every learner parameter at the start (> 0, ≪ w for a clear chain effect).
        learning_rate: η > 0 of the learner's SGD step.
        num_points: n ≥ 1, batch size of one practice round.
        noise_std: σ ≥ 0, label noise.
    """

    num_tasks: int = 5
    skill: float = 1.0
    init: float = 0.1
    learning_rate: float = 0.02
    num_points: int = 16
    noise_std: float = 0.1

    def __post_init__(self) -> None:
        check_int("num_tasks", self.num_tasks)
        check_number("skill", self.skill)
        check_number("init", self.init)
        check_number("learning_rate", self.learning_rate)
        check_int("num_points", self.num_points)
        check_number("noise_std", self.noise_std, positive=False)

    def targets(self) -> np.ndarray:
        """c_k = ∏_{j≤k} w_j, ``[K]``."""
        return np.cumprod(np.full(self.num_tasks, self.skill, dtype=np.float64))

    def init_params(self) -> np.ndarray:
        """θ_0, ``[K]``."""
        return np.full(self.num_tasks, self.init, dtype=np.float64)

    def losses(self, params: np.ndarray) -> np.ndarray:
        """Excess risks L_k(θ) = (∏_{j≤k} θ_j − c_k)², ``[K]``."""
        return (np.cumprod(params) - self.targets()) ** 2

    def practise(self, params: np.ndarray, task: int, rng: np.random.Generator) -> np.ndarray:
        """One practice round on ``task`` (0-based): the SGD step on θ_k of the module docstring.

        Returns new parameters (the input is not modified).
        """
        k = int(task)
        if not 0 <= k < self.num_tasks:
            raise ValueError(f"task must be an int in [0, {self.num_tasks - 1}], got {task}")
        x = rng.standard_normal(self.num_points)
        y = self.targets()[k] * x + self.noise_std * rng.standard_normal(self.num_points)
        before = float(np.prod(params[:k]))  # P_{k−1}(θ) (1 for k = 0)
        residual = before * params[k] * x - y
        grad = 2.0 * float(np.mean(residual * x)) * before
        out = params.copy()
        out[k] -= self.learning_rate * grad
        return out


class TaskTeacher(Protocol):
    """A teacher that picks tasks: ``reset(num_tasks)``, ``choose(rng) -> k``,
    ``observe(k, progress)`` with progress = L_k(before) − L_k(after)."""

    def reset(self, num_tasks: int) -> None: ...

    def choose(self, rng: np.random.Generator) -> int: ...

    def observe(self, task: int, progress: float) -> None: ...


class UniformTeacher:
    """The baseline: k ~ Uniform{1 … K} every round, ignoring progress."""

    def __init__(self) -> None:
        self.num_tasks = 0

    def reset(self, num_tasks: int) -> None:
        """Remember K."""
        self.num_tasks = check_int("num_tasks", num_tasks)

    def choose(self, rng: np.random.Generator) -> int:
        """p_k = 1 / K."""
        return int(rng.integers(self.num_tasks))

    def observe(self, task: int, progress: float) -> None:
        """Ignores feedback."""


@dataclass
class CurriculumTeacher:
    """Learning-progress bandit over tasks (module docstring)::

        Q_k ← Q_k + α (|ΔL_k| − Q_k) for the practised k,
        p_k = (1 − ε) softmax_k(Q_k / (τ max_j Q_j)) + ε / K.

    Attributes:
        temperature: τ > 0 (relative to the largest smoothed progress).
        exploration: ε ∈ (0, 1].
        smoothing: α ∈ (0, 1].
        scores: Q, ``[K]`` (state; cleared by :meth:`reset`).
    """

    temperature: float = 0.2
    exploration: float = 0.2
    smoothing: float = 0.3
    scores: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def __post_init__(self) -> None:
        check_number("temperature", self.temperature)
        for name in ("exploration", "smoothing"):
            value = check_number(name, getattr(self, name))
            if value > 1.0:
                raise ValueError(f"{name} must be a number in (0, 1], got {value}")

    def reset(self, num_tasks: int) -> None:
        """Q_k = 0 for all k (uniform choice until progress is measured)."""
        self.scores = np.zeros(check_int("num_tasks", num_tasks))

    def probabilities(self) -> np.ndarray:
        """p, ``[K]``."""
        k = self.scores.size
        if k == 0:
            raise ValueError("call reset(num_tasks) before choosing a task")
        top = float(self.scores.max())
        scaled = self.scores / top if top > 0 else np.zeros(k)
        weights = performance_weights(scaled, self.temperature)
        return (1.0 - self.exploration) * weights + self.exploration / k

    def choose(self, rng: np.random.Generator) -> int:
        """k ~ p."""
        p = self.probabilities()
        return int(rng.choice(p.size, p=p / p.sum()))

    def observe(self, task: int, progress: float) -> None:
        """Q_k ← Q_k + α (abs(progress) − Q_k)."""
        if not np.isfinite(progress):
            raise ValueError(f"progress must be finite, got {progress}")
        self.scores[task] += self.smoothing * (abs(float(progress)) - self.scores[task])


@dataclass(frozen=True)
class CurriculumResult:
    """One curriculum run.

    Attributes:
        choices: the task practised in each round, ``[T]`` (0-based).
        per_task_loss: L_k(θ_t) after each round t, ``[T, K]``.
        rounds_to_target: the first number of rounds after which max_k L_k ≤ target, or ``None``.
    """

    choices: np.ndarray
    per_task_loss: np.ndarray
    rounds_to_target: int | None


def run_curriculum(
    teacher: Any,
    tasks: ChainTasks | None = None,
    *,
    max_rounds: int = 3000,
    target: float = 0.01,
    seed: int = 0,
    stop_at_target: bool = True,
) -> CurriculumResult:
    """Let ``teacher`` pick one task per round for the learner until max_k L_k ≤ ``target``.

    Each round: k = teacher.choose(rng); θ ← practise(θ, k); teacher.observe(k, L_k before −
    L_k after).

    Args:
        teacher: a :class:`TaskTeacher` (:class:`CurriculumTeacher`, :class:`UniformTeacher`).
        tasks: the task family (default ``ChainTasks()``, a :class:`ChainTasks`).
        max_rounds: T_max ≥ 1.
        target: target excess risk (> 0) for every task.
        seed: seeds the teacher's choices and the learner's batches.
        stop_at_target: stop at the first round that reaches the target.

    Raises:
        TypeError: a teacher without ``reset``/``choose``/``observe``, or mistyped numbers.
        ValueError: out-of-range numbers.
    """
    for method in ("reset", "choose", "observe"):
        if not callable(getattr(teacher, method, None)):
            raise TypeError(f"teacher must have reset, choose and observe methods, got {type(teacher).__name__}")
    tasks = ChainTasks() if tasks is None else tasks
    if not isinstance(tasks, ChainTasks):
        raise TypeError(f"tasks must be a ChainTasks, got {type(tasks).__name__}")
    max_rounds = check_int("max_rounds", max_rounds)
    target = check_number("target", target)
    seed = check_int("seed", seed, minimum=0)
    rng = np.random.default_rng(seed)
    teacher.reset(tasks.num_tasks)
    params = tasks.init_params()
    losses = tasks.losses(params)
    choices: list[int] = []
    history: list[np.ndarray] = []
    reached: int | None = None
    for t in range(max_rounds):
        k = int(teacher.choose(rng))
        params = tasks.practise(params, k, rng)
        new = tasks.losses(params)
        teacher.observe(k, float(losses[k] - new[k]))
        losses = new
        choices.append(k)
        history.append(new)
        if reached is None and float(new.max()) <= target:
            reached = t + 1
            if stop_at_target:
                break
    return CurriculumResult(choices=np.asarray(choices, dtype=np.int64),
                            per_task_loss=np.asarray(history), rounds_to_target=reached)


def compare_teachers(
    seeds: range | list[int], tasks: ChainTasks | None = None, *, max_rounds: int = 3000,
    target: float = 0.01, **curriculum_kwargs: float,
) -> dict[str, np.ndarray]:
    """Rounds to target of :class:`CurriculumTeacher` and :class:`UniformTeacher` over seeds.

    Returns ``{"curriculum": [S], "uniform": [S]}`` (runs that miss the target count as
    ``max_rounds``).
    """
    out: dict[str, np.ndarray] = {}
    for name in ("curriculum", "uniform"):
        rounds = []
        for seed in seeds:
            teacher = CurriculumTeacher(**curriculum_kwargs) if name == "curriculum" else UniformTeacher()
            result = run_curriculum(teacher, tasks, max_rounds=max_rounds, target=target, seed=seed)
            rounds.append(max_rounds if result.rounds_to_target is None else result.rounds_to_target)
        out[name] = np.asarray(rounds, dtype=np.float64)
    return out
