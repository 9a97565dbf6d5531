"""RL² on MDPs: the training recipes of chapter 7 and the agents shipped with it.

RL² (Duan et al. 2016) is chapter 5's recurrent actor-critic (:mod:`metalearn_lib.rl`) on MDP
trials: at step t the GRU reads the current state (one-hot), the previous action (one-hot), the
previous reward and the previous "episode ended" flag, and its hidden state is kept across the n
episodes of a trial — so whatever it learned about this MDP in episode 1 is still there in
episode 2. It is trained by A2C on trials of freshly drawn MDPs.

:data:`RL2_RECIPES` holds, for each environment the course trains on, the environment, the
:class:`~metalearn_lib.rl.A2CConfig` and the number of iterations — the one definition that
``benchmarks/meta_rl_mdps.py`` trains with and lecture 07 describes. ``--ship`` writes the weights
to ``weights/rl2_{name}.npz`` with a JSON beside it (the command, seed, configuration, wall time,
the evaluation on the benchmark's test tasks); :func:`load_shipped_rl2` reads them back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from metalearn_lib.meta_rl_mdps.gridworld import Gridworld
from metalearn_lib.meta_rl_mdps.tabular import RandomTabularMDPs
from metalearn_lib.optim import adam_init
from metalearn_lib.rl import (
    A2CConfig,
    ActorCriticParams,
    Checkpoint,
    TrainA2CResult,
    evaluate_agent,
    load_checkpoint,
    mean_ci95,
    save_checkpoint,
    train_a2c,
)
from metalearn_lib.validation import check_int

__all__ = ["RL2_RECIPES", "RL2Evaluation", "RL2Recipe", "evaluate_rl2_mdp", "load_shipped_rl2", "save_rl2",
           "shipped_rl2_info", "shipped_rl2_path", "train_rl2_mdp"]


@dataclass(frozen=True)
class RL2Recipe:
    """How one shipped RL² agent is trained.

    Attributes:
        env: the task distribution it is trained (and evaluated) on.
        config: the A2C hyperparameters (seed included).
        num_iterations: training iterations (``config.batch_size`` trials each).
        description: one line for tables and the lecture.
    """

    env: Any
    config: A2CConfig
    num_iterations: int
    description: str


#: The recipes, by name: ``"tabular_n10"`` (RL² Table 2's random MDPs, trials of 10 episodes) and
#: ``"gridworld"`` (VariBAD's 5 × 5 gridworld, 4 episodes of 15 steps, cells seen one-hot).
#: Both use γ = 1 (the objective is the trial's total reward, as the limits they are compared with
#: are), GAE λ = 0.95, standardised advantages, an entropy bonus annealed to 0 over the run, and
#: the done flag as an input. On the tabular MDPs the trainer, which knows the MDP it drew, scores
#: each step by its mean reward E[r | MDP, s, a] (``expected_rewards``, Rao–Blackwellised returns);
#: the agent still sees only the sampled rewards.
RL2_RECIPES: dict[str, RL2Recipe] = {
    "tabular_n10": RL2Recipe(
        env=RandomTabularMDPs(num_episodes=10),
        config=A2CConfig(hidden_size=128, batch_size=128, learning_rate=2e-3, gamma=1.0, lam=0.95,
                         value_scale=150.0, entropy_coef=0.01, entropy_coef_final=0.0,
                         entropy_anneal_iterations=32_000, normalize_advantages=True, use_done_flag=True,
                         expected_rewards=True, seed=0, jit_compile=True, unroll=False),
        num_iterations=32_000,
        description="random tabular MDPs, n = 10 episodes"),
    "gridworld": RL2Recipe(
        env=Gridworld(observation="one_hot"),
        config=A2CConfig(hidden_size=128, batch_size=128, learning_rate=2e-3, gamma=1.0, lam=0.95,
                         value_scale=20.0, entropy_coef=0.01, entropy_coef_final=0.0,
                         entropy_anneal_iterations=8_000, normalize_advantages=True, use_done_flag=True,
                         seed=0, jit_compile=True, unroll=False),
        num_iterations=8_000,
        description="VariBAD's gridworld, 4 episodes"),
}


def _recipe(name: str) -> RL2Recipe:
    if not isinstance(name, str) or name not in RL2_RECIPES:
        raise ValueError(f"name must be one of {tuple(RL2_RECIPES)}, got {name!r}")
    return RL2_RECIPES[name]


def train_rl2_mdp(name: str, *, num_iterations: int | None = None, seed: int | None = None,
                  progress: bool = False) -> TrainA2CResult:
    """Train RL² by the recipe ``name`` (a key of :data:`RL2_RECIPES`).

    Args:
        name: ``"tabular_n10"`` or ``"gridworld"``.
        num_iterations: run only this many iterations, ≥ 1 — the first ``num_iterations`` of the recipe's run
            (the entropy schedule stays the recipe's), e.g. a quick look at the start of training.
        seed: override the recipe's seed, ≥ 0.
        progress: a ``tqdm.auto`` progress bar.
    """
    recipe = _recipe(name)
    config = recipe.config
    if seed is not None:
        config = replace(config, seed=check_int("seed", seed, 0))
    iterations = recipe.num_iterations if num_iterations is None else check_int("num_iterations", num_iterations)
    return train_a2c(recipe.env, config, num_iterations=iterations, progress=progress, desc=f"RL² {name}",
                     extra={"recipe": name})


@dataclass(frozen=True)
class RL2Evaluation:
    """What :func:`evaluate_rl2_mdp` returns (B trials of n episodes).

    Attributes:
        mean_return, ci95: the trial's total reward, mean over the B tasks ± 1.96·s/√B.
        episode_returns: ``[B, n]`` each episode's total reward.
        episode_means, episode_ci95: ``[n]`` their means over tasks ± 95 % CI.
        greedy: whether the agent took its arg-max actions (else it sampled, as in training).
        actions: ``[B, T]`` the actions it took.
    """

    mean_return: float
    ci95: float
    episode_returns: np.ndarray
    episode_means: np.ndarray
    episode_ci95: np.ndarray
    greedy: bool
    actions: np.ndarray

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary (no per-task arrays)."""
        return {"mean": self.mean_return, "ci95": self.ci95, "greedy": self.greedy,
                "episode_means": [float(v) for v in self.episode_means],
                "episode_ci95": [float(v) for v in self.episode_ci95]}


def evaluate_rl2_mdp(params: Any, name: str, *, num_tasks: int = 1000, seed: int = 1_000_000, tasks: Any = None,
                     greedy: bool = False) -> RL2Evaluation:
    """Play one trial of each of ``num_tasks`` tasks of ``RL2_RECIPES[name].env`` (or of ``tasks``) with
    the agent ``params``; :func:`metalearn_lib.rl.evaluate_agent` does the playing."""
    env = _recipe(name).env
    evaluation = evaluate_agent(params, env, num_tasks=num_tasks, seed=seed, tasks=tasks, greedy=greedy)
    episodes = np.asarray(evaluation.rollout.rewards, np.float64).reshape(
        -1, env.num_episodes, env.episode_length).sum(axis=2)
    episode_means, episode_ci95 = mean_ci95(episodes, axis=0)
    return RL2Evaluation(float(evaluation.mean_return), float(evaluation.ci95), episodes, episode_means,
                         episode_ci95, greedy, np.asarray(evaluation.rollout.actions))


def save_rl2(path: str | Path, result: TrainA2CResult, info: dict[str, Any]) -> None:
    """Write a trained agent's weights (values in reward units, no optimiser state) to ``path`` and
    ``info`` (JSON-ready: command, evaluation, …) beside it as ``path`` with the suffix ``.json``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    config = replace(result.config, value_scale=1.0)  # result.params have the critic's scale folded in
    save_checkpoint(path, Checkpoint(result.params, adam_init(result.params), result.checkpoint.iteration, config,
                                     dict(result.checkpoint.extra)), include_optimizer=False)
    path.with_suffix(".json").write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")


def shipped_rl2_path(name: str = "gridworld") -> Path:
    """Path of ``weights/rl2_{name}.npz`` (it may not exist yet: see :func:`shipped_rl2_info`)."""
    _recipe(name)
    return Path(str(resources.files("metalearn_lib.meta_rl_mdps") / "weights" / f"rl2_{name}.npz"))


def shipped_rl2_info(name: str = "gridworld") -> dict[str, Any]:
    """The JSON record beside a shipped agent: command, seed, configuration, wall time, evaluation.

    Raises:
        FileNotFoundError: no agent was shipped for ``name``.
    """
    path = shipped_rl2_path(name).with_suffix(".json")
    if not path.exists():
        raise FileNotFoundError(f"no shipped RL² agent {name!r}: run python benchmarks/meta_rl_mdps.py --ship")
    return json.loads(path.read_text(encoding="utf-8"))


def load_shipped_rl2(name: str = "gridworld") -> ActorCriticParams:
    """The shipped RL² agent's parameters (values in reward units), to play on ``RL2_RECIPES[name].env``.

    Raises:
        FileNotFoundError: no agent was shipped for ``name``.
    """
    path = shipped_rl2_path(name)
    if not path.exists():
        raise FileNotFoundError(f"no shipped RL² agent {name!r}: run python benchmarks/meta_rl_mdps.py --ship")
    return load_checkpoint(path).params
