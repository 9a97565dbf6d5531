"""Chapter 1 (``01_mapping``): a learner is a map from a task's data to a predictor.

A *learner* takes a task's support set D = {(x_k, y_k)}_{k=1..K} and returns a predictor
f_D(x); meta-learning chooses that map from many tasks. This package builds three such maps, all
batched over tasks (tensors ``[num_tasks, points, features]``; no Python loop over tasks):

- **Ridge / Bayesian linear regression** on features φ(x) (:func:`ridge_fit`,
  :class:`RidgeLearner`): with the prior w ~ N(μ, σ² Λ⁻¹) and Gaussian noise of variance σ²,
  the posterior mean weights are ::

      w_D = (ΦᵀΦ + Λ)⁻¹ (Φᵀy + Λμ),      f_D(x) = φ(x)ᵀ w_D.

  The *fixed prior* is plain ridge regression, μ = 0 and Λ = λI.
- **A learned prior**: μ and a diagonal Λ = diag(exp ρ) chosen from many tasks, either by
  gradient descent on the query error of the ridge map (:func:`prior_loss`,
  :func:`prior_update`, differentiating through the closed-form solve) or by empirical Bayes
  (:func:`empirical_bayes_prior`, moment matching of per-task least-squares weights).
  :func:`learn_prior` runs either across a task family.
- **An amortised map** (:class:`AmortisedLearner`, in the spirit of conditional neural
  processes, Garnelo et al. 2018): an encoder MLP h reads each support pair, the mean
  r = (1/K) Σ_k h([x_k, y_k]) summarises the task, a decoder MLP g predicts ŷ = g([r, x]).
  :func:`train_amortised` meta-trains it with Adam across tasks.

:func:`compare_by_shots` scores any of these maps (anything with the call signature
``learner(support_x, support_y) -> predictor``, ``predictor(query_x) -> query_y``) by few-shot
query error as K grows, on the same test tasks.

Split by job, one submodule each (every name is re-exported here, so
``from metalearn_lib.mapping import ridge_fit`` is the path to use):

* :mod:`~metalearn_lib.mapping.features` — the feature maps φ(x) (:func:`identity_features`,
  :func:`linear_features`, :func:`polynomial_features`, :func:`fourier_features`).
* :mod:`~metalearn_lib.mapping.ridge` — the ridge map (:func:`ridge_fit`, :func:`ridge_predict`,
  :class:`RidgeLearner`, :class:`RidgePredictor`, :func:`support_mean_learner`) and the
  :data:`Learner` / :data:`Predictor` types.
* :mod:`~metalearn_lib.mapping.prior_learning` — learning the prior (:func:`prior_loss`,
  :func:`prior_update`, :func:`empirical_bayes_prior`, :func:`learn_prior`, :class:`LearnResult`)
  and the functional Adam loop that :func:`train_amortised` shares.
* :mod:`~metalearn_lib.mapping.amortised` — the amortised map (:func:`init_amortised`,
  :func:`encode_support`, :func:`amortised_predict`, :func:`amortised_loss`,
  :func:`train_amortised`).
* :mod:`~metalearn_lib.mapping.comparison` — :func:`compare_by_shots` and
  :class:`ShotsComparison`.
* ``_checks`` — the private validation helpers they share.

Imports only the ground floor (:mod:`metalearn_lib.tasks`, :mod:`metalearn_lib.models`) and the
utilities (:mod:`metalearn_lib.optim`, :mod:`metalearn_lib.validation`).
"""

from metalearn_lib.mapping.amortised import (
    AMORTISED_LOSSES,
    AmortisedLearner,
    AmortisedPredictor,
    amortised_loss,
    amortised_predict,
    encode_support,
    init_amortised,
    train_amortised,
)
from metalearn_lib.mapping.comparison import ShotsComparison, compare_by_shots
from metalearn_lib.mapping.features import (
    FeatureMap,
    fourier_features,
    identity_features,
    linear_features,
    polynomial_features,
)
from metalearn_lib.mapping.prior_learning import (
    LOG_PRECISION_BOUNDS,
    PRIOR_METHODS,
    LearnResult,
    empirical_bayes_prior,
    learn_prior,
    prior_loss,
    prior_update,
)
from metalearn_lib.mapping.ridge import (
    Learner,
    Predictor,
    RidgeLearner,
    RidgePredictor,
    ridge_fit,
    ridge_predict,
    support_mean_learner,
)

__all__ = [
    "AMORTISED_LOSSES",
    "LOG_PRECISION_BOUNDS",
    "PRIOR_METHODS",
    "AmortisedLearner",
    "AmortisedPredictor",
    "FeatureMap",
    "LearnResult",
    "Learner",
    "Predictor",
    "RidgeLearner",
    "RidgePredictor",
    "ShotsComparison",
    "amortised_loss",
    "amortised_predict",
    "compare_by_shots",
    "empirical_bayes_prior",
    "encode_support",
    "fourier_features",
    "identity_features",
    "init_amortised",
    "learn_prior",
    "linear_features",
    "polynomial_features",
    "prior_loss",
    "prior_update",
    "ridge_fit",
    "ridge_predict",
    "support_mean_learner",
    "train_amortised",
]
