"""Chapter 6: MAML for reinforcement learning — a policy adapted by a policy-gradient step.

Submodules:

* ``navigation`` — the 2D point-navigation task family of Finn et al. (2017, §5.3):
  :class:`PointNavigation` (batched functional environment, closed-form optimum),
  :class:`PointNavigationEnv` (one goal behind Gymnasium's API), :func:`episode_mask`.
* ``algorithm`` — the inner step (:func:`adapt_policy`), the meta-gradient's surrogate
  (:func:`meta_surrogate`, with the LVC or DiCE inner objective, or the exact sampling term), TRPO's
  curvature through the inner step (:func:`meta_fisher_product`), :class:`MAMLRLConfig`.
* ``training`` — :func:`train_maml_rl` (MAML, or the "pretrained" baseline with
  ``num_inner_steps=0``), :func:`save_policy` / :func:`load_policy`.
* ``evaluation`` — :func:`adaptation_curve`, the paper's 0–3-step protocol.
* ``shipped`` — the policy trained by ``benchmarks/maml_rl.py --ship`` (:func:`load_shipped_policy`).

The policy-gradient machinery (Gaussian MLP policy, trajectories, reward-to-go, the linear
baseline, TRPO) lives in :mod:`metalearn_lib.rl`; this chapter adds its task family and MAML.
"""

from metalearn_lib.maml_rl.algorithm import (
    MAMLRLConfig,
    PolicyGradientBatch,
    adapt_policy,
    inner_advantages,
    inner_objective,
    meta_fisher_product,
    meta_surrogate,
    outer_advantages,
)
from metalearn_lib.maml_rl.evaluation import PAPER_STEP_SIZES, AdaptationCurve, adaptation_curve
from metalearn_lib.maml_rl.navigation import PointNavigation, PointNavigationEnv, episode_mask
from metalearn_lib.maml_rl.shipped import (
    PUBLISHED_MAML_RL,
    SHIPPED_METHODS,
    load_shipped_policy,
    shipped_policy_info,
    shipped_policy_path,
)
from metalearn_lib.maml_rl.training import METRICS, TrainMAMLRLResult, load_policy, save_policy, train_maml_rl
from metalearn_lib.rl.gaussian_policy import GaussianPolicyParams, init_gaussian_policy

#: The recipe of the shipped policy and of ``benchmarks/maml_rl.py`` (the defaults).
MAML_CONFIG = MAMLRLConfig()

__all__ = [
    "MAML_CONFIG",
    "METRICS",
    "PAPER_STEP_SIZES",
    "PUBLISHED_MAML_RL",
    "SHIPPED_METHODS",
    "AdaptationCurve",
    "GaussianPolicyParams",
    "MAMLRLConfig",
    "PointNavigation",
    "PointNavigationEnv",
    "PolicyGradientBatch",
    "TrainMAMLRLResult",
    "adapt_policy",
    "adaptation_curve",
    "episode_mask",
    "init_gaussian_policy",
    "inner_advantages",
    "inner_objective",
    "load_policy",
    "load_shipped_policy",
    "meta_fisher_product",
    "meta_surrogate",
    "outer_advantages",
    "save_policy",
    "shipped_policy_info",
    "shipped_policy_path",
    "train_maml_rl",
]
