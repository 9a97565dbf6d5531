"""The RL room of the course: what chapters 5–7 stand on, one module per job.

As Spinning Up keeps ``core`` apart from each algorithm, the machinery is split by what it does;
a chapter adds its environments, its baselines and its agent's set-up, and takes training,
evaluation and checkpoints from here.

* :mod:`~metalearn_lib.rl.environments` — the batched-environment protocol
  (:class:`BatchedEpisodicEnv`, :class:`ExpectedRewardsEnv`, and :class:`StatefulEpisodicEnv`
  for environments that carry a state, such as MDPs): tasks sampled from a seed, every task of a
  batch stepping at once.
* :mod:`~metalearn_lib.rl.sampling` — stateless seeds (:func:`derive_seed`) and categorical
  sampling (:func:`sample_actions`), identical in eager, graph and XLA code.
* :mod:`~metalearn_lib.rl.networks` — the GRU actor-critic of RL² with named parameters
  (:class:`ActorCriticParams`) and the inputs it reads (:func:`agent_inputs`).
* :mod:`~metalearn_lib.rl.rollouts` — one trial of every task of a batch (:func:`rollout`).
* :mod:`~metalearn_lib.rl.advantages` — discounted returns and GAE (:func:`gae`).
* :mod:`~metalearn_lib.rl.a2c` — the A2C loss, :class:`A2CConfig` and :func:`train_a2c`, whose
  ``one_iteration`` runs in :func:`metalearn_lib.optim.compile_training_loop`.
* :mod:`~metalearn_lib.rl.checkpoints` — save and resume a run exactly.
* :mod:`~metalearn_lib.rl.evaluation` — the generic harness (:func:`evaluate_agent`: mean return
  per trial ± 95 % CI, per-step statistics) and :func:`mean_ci95`.

Everything is a pure function of tensors; parameters are explicit nests; whole batches of tasks
run at once. Imports the ground floor (:mod:`metalearn_lib.tasks`) and the utilities
(:mod:`metalearn_lib.optim`, :mod:`metalearn_lib.validation`).
"""

from metalearn_lib.rl.a2c import A2CConfig, TrainA2CResult, a2c_loss, train_a2c
from metalearn_lib.rl.advantages import discounted_returns, gae
from metalearn_lib.rl.checkpoints import Checkpoint, load_checkpoint, save_checkpoint
from metalearn_lib.rl.environments import (
    BatchedEpisodicEnv,
    ExpectedRewardsEnv,
    StatefulEpisodicEnv,
    check_env,
    env_transition,
)
from metalearn_lib.rl.evaluation import TrialEvaluation, evaluate_agent, infer_done_flag, mean_ci95
from metalearn_lib.rl.networks import (
    NUM_PARAMS,
    ActorCriticParams,
    actor_critic_step,
    agent_input_size,
    agent_inputs,
    as_actor_critic_params,
    init_recurrent_actor_critic,
    unroll_actor_critic,
)
from metalearn_lib.rl.rollouts import Rollout, play_trial, rollout
from metalearn_lib.rl.sampling import derive_seed, sample_actions

__all__ = [
    "NUM_PARAMS",
    "A2CConfig",
    "ActorCriticParams",
    "BatchedEpisodicEnv",
    "Checkpoint",
    "ExpectedRewardsEnv",
    "Rollout",
    "StatefulEpisodicEnv",
    "TrainA2CResult",
    "TrialEvaluation",
    "a2c_loss",
    "actor_critic_step",
    "agent_input_size",
    "agent_inputs",
    "as_actor_critic_params",
    "check_env",
    "env_transition",
    "derive_seed",
    "discounted_returns",
    "evaluate_agent",
    "gae",
    "infer_done_flag",
    "init_recurrent_actor_critic",
    "load_checkpoint",
    "mean_ci95",
    "play_trial",
    "rollout",
    "sample_actions",
    "save_checkpoint",
    "train_a2c",
    "unroll_actor_critic",
]
