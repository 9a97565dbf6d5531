"""Chapter 5 (``05_meta_rl_bandits``): agents that learn to explore, on Bernoulli bandits.

Submodules:

* ``env`` — the task distribution, batched pulls, a Gymnasium environment;
* ``policies`` — the hand-designed baselines (random, greedy, ε-greedy, UCB1, Thompson sampling,
  Gittins, Bayes-optimal), batched trials (:func:`run_policy`) and parameter tuning;
* ``gittins`` — Gittins indices of Beta-Bernoulli arms by calibration;
* ``bayes_optimal`` — the exact finite-horizon Bayes-optimal policy by dynamic programming over
  exchangeable states;
* ``rl2`` — the RL² agent (A2C on a GRU, :mod:`metalearn_lib.rl`) trained across bandits, its
  evaluation, a pull-by-pull player, and the agents shipped in ``weights/``.
"""

from metalearn_lib.bandits.bayes_optimal import BayesOptimal, bayes_optimal_solver, count_states
from metalearn_lib.bandits.env import BernoulliBanditEnv, BernoulliBandits, expected_max_mean, pull
from metalearn_lib.bandits.gittins import continuation_advantage, default_depth, gittins_index, gittins_table
from metalearn_lib.bandits.policies import (
    PARAMETER_GRID,
    BayesOptimalPolicy,
    EpsilonGreedyPolicy,
    GittinsPolicy,
    GreedyPolicy,
    Policy,
    RandomPolicy,
    ThompsonPolicy,
    TrialResult,
    UCB1Policy,
    argmax_random_ties,
    beta_pdf,
    posterior_mean,
    run_policy,
    thompson_sample,
    tune_policy,
    ucb1_index,
)
from metalearn_lib.bandits.rl2 import (
    PUBLISHED_RL2,
    BanditTrials,
    RL2Agent,
    RL2Evaluation,
    RL2Result,
    evaluate_rl2,
    load_pretrained_rl2,
    pretrained_rl2_info,
    pretrained_rl2_path,
    train_rl2,
)

__all__ = [
    "PARAMETER_GRID",
    "PUBLISHED_RL2",
    "BanditTrials",
    "RL2Agent",
    "RL2Evaluation",
    "RL2Result",
    "evaluate_rl2",
    "load_pretrained_rl2",
    "pretrained_rl2_info",
    "pretrained_rl2_path",
    "train_rl2",
    "BayesOptimal",
    "BayesOptimalPolicy",
    "BernoulliBanditEnv",
    "BernoulliBandits",
    "EpsilonGreedyPolicy",
    "GittinsPolicy",
    "GreedyPolicy",
    "Policy",
    "RandomPolicy",
    "ThompsonPolicy",
    "TrialResult",
    "UCB1Policy",
    "argmax_random_ties",
    "bayes_optimal_solver",
    "continuation_advantage",
    "count_states",
    "default_depth",
    "expected_max_mean",
    "gittins_index",
    "gittins_table",
    "beta_pdf",
    "posterior_mean",
    "pull",
    "run_policy",
    "thompson_sample",
    "tune_policy",
    "ucb1_index",
]
