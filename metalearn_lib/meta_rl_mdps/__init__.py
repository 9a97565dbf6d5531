"""Chapter 7 (``07_meta_rl_mdps``): learning to explore in MDPs, against limits no agent can beat.

Submodules:

* ``tabular`` — the random tabular MDPs of the RL² paper (Duan et al. 2016, Table 2), batched
  (:class:`RandomTabularMDPs`, a :class:`metalearn_lib.rl.StatefulEpisodicEnv`) and behind
  Gymnasium's API (:class:`TabularMDPEnv`);
* ``planning`` — finite-horizon value iteration batched over MDPs (:func:`value_iteration`), policy
  evaluation, and UCRL2's extended value iteration over an L1 confidence ball;
* ``posteriors`` — conjugate beliefs over an MDP (:class:`MDPPosterior`: Normal on the reward
  means with the known unit noise, Dirichlet on the transitions), and the priors the RL² paper's
  baselines used;
* ``baselines`` — random, greedy and ε-greedy on posterior means, posterior sampling (PSRL),
  UCRL2's finite-horizon variant and the oracle, played on batches of MDPs (:func:`run_policy`)
  and tuned on validation MDPs (:func:`tune_policy`);
* ``gridworld`` — VariBAD's 5 × 5 gridworld (Zintgraf et al. 2020), batched (:class:`Gridworld`)
  and behind Gymnasium's API (:class:`GridworldEnv`);
* ``gridworld_beliefs`` — the belief over the goal (uniform over the candidate cells not yet
  visited), its update, and posterior sampling over goals;
* ``bayes_optimal`` — the gridworld's exact Bayes-optimal policy, by dynamic programming over
  belief states (:func:`gridworld_bayes_optimal`, :func:`bayes_optimal_action`);
* ``rl2`` — RL² on both families: the training recipes (:data:`RL2_RECIPES`), training and
  evaluation, and the shipped agents (:func:`load_shipped_rl2`).

Imports the RL room (:mod:`metalearn_lib.rl`), chapter 5's tie-breaking argmax, the ground floor
and the utilities.
"""

from metalearn_lib.meta_rl_mdps.baselines import (
    PARAMETER_GRID,
    UCRL2_SCALE_GRID,
    EpsilonGreedyPolicy,
    GreedyPolicy,
    OraclePolicy,
    Policy,
    PSRLPolicy,
    RandomPolicy,
    TrialResult,
    UCRL2Policy,
    oracle_total_reward,
    run_policy,
    tune_policy,
    ucrl2_widths,
)
from metalearn_lib.meta_rl_mdps.bayes_optimal import (
    GridworldBayesOptimal,
    bayes_optimal_action,
    gridworld_bayes_optimal,
)
from metalearn_lib.meta_rl_mdps.gridworld import GRIDWORLD_ACTIONS, Gridworld, GridworldEnv, cell_moves
from metalearn_lib.meta_rl_mdps.gridworld_beliefs import (
    BeliefState,
    GridworldTrial,
    belief_after,
    belief_state_after,
    belief_update,
    belief_vector,
    check_goals,
    play_posterior_sampling,
    posterior_sampling_expected_return,
    prior_belief,
    reached_cells,
)
from metalearn_lib.meta_rl_mdps.planning import (
    check_model,
    evaluate_policy,
    extended_value_iteration,
    optimistic_transitions,
    value_iteration,
)
from metalearn_lib.meta_rl_mdps.posteriors import RL2_PAPER_GREEDY_PRIOR, RL2_PAPER_PSRL_PRIOR, MDPPosterior, Prior
from metalearn_lib.meta_rl_mdps.rl2 import (
    RL2_RECIPES,
    RL2Evaluation,
    RL2Recipe,
    evaluate_rl2_mdp,
    load_shipped_rl2,
    save_rl2,
    shipped_rl2_info,
    shipped_rl2_path,
    train_rl2_mdp,
)
from metalearn_lib.meta_rl_mdps.tabular import RandomTabularMDPs, TabularMDP, TabularMDPEnv

__all__ = [
    "GRIDWORLD_ACTIONS",
    "PARAMETER_GRID",
    "RL2_PAPER_GREEDY_PRIOR",
    "RL2_RECIPES",
    "RL2_PAPER_PSRL_PRIOR",
    "UCRL2_SCALE_GRID",
    "BeliefState",
    "EpsilonGreedyPolicy",
    "GreedyPolicy",
    "Gridworld",
    "GridworldBayesOptimal",
    "GridworldEnv",
    "GridworldTrial",
    "MDPPosterior",
    "OraclePolicy",
    "PSRLPolicy",
    "Policy",
    "Prior",
    "RL2Evaluation",
    "RL2Recipe",
    "RandomPolicy",
    "RandomTabularMDPs",
    "TabularMDP",
    "TabularMDPEnv",
    "TrialResult",
    "UCRL2Policy",
    "bayes_optimal_action",
    "belief_after",
    "belief_state_after",
    "belief_update",
    "belief_vector",
    "cell_moves",
    "check_goals",
    "check_model",
    "evaluate_policy",
    "evaluate_rl2_mdp",
    "extended_value_iteration",
    "gridworld_bayes_optimal",
    "load_shipped_rl2",
    "optimistic_transitions",
    "oracle_total_reward",
    "play_posterior_sampling",
    "posterior_sampling_expected_return",
    "prior_belief",
    "reached_cells",
    "run_policy",
    "save_rl2",
    "shipped_rl2_info",
    "shipped_rl2_path",
    "train_rl2_mdp",
    "tune_policy",
    "ucrl2_widths",
    "value_iteration",
]
