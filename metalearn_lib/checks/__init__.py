"""Friendly checks for exercise notebooks.

An exercise's check cell is one call such as ``check_stable_softmax(stable_softmax)``. The
check runs the learner's function on prepared cases and

* on success prints one line: ``✅ stable_softmax: all 8 checks passed.``
* on failure raises :class:`CheckFailed`, which Jupyter shows as a short verdict — each failed
  case with what was expected, what came back, and a hint — and never as a TensorFlow
  traceback. (nbgrader sees the exception and marks the cell as failed.)

The machinery is in :mod:`metalearn_lib.checks.core`; each chapter's checks are in the module
named after the chapter (``checks.welcome``, ``checks.mapping``, ``checks.two_level``, …) and
re-exported here.
"""

from metalearn_lib.checks.applications import (
    check_average_parameters,
    check_mean_penalty,
    check_online_meta_update,
)
from metalearn_lib.checks.averaging import check_hedge_update, check_performance_weights
from metalearn_lib.checks.bandits import check_bayes_q_values, check_thompson_action, check_ucb1_index
from metalearn_lib.checks.core import Case, CheckFailed, CheckReport, run_check
from metalearn_lib.checks.mapping import check_prior_update, check_ridge_fit, check_ridge_learner
from metalearn_lib.checks.teacher import check_exact_linear_update, check_gradient_teacher_update, check_meta_sgd_step
from metalearn_lib.checks.two_level import check_inner_step, check_maml_outer_loss, check_reptile_outer_update
from metalearn_lib.checks.welcome import check_stable_softmax

__all__ = [
    "Case",
    "CheckFailed",
    "CheckReport",
    "check_average_parameters",
    "check_bayes_q_values",
    "check_exact_linear_update",
    "check_gradient_teacher_update",
    "check_hedge_update",
    "check_inner_step",
    "check_maml_outer_loss",
    "check_mean_penalty",
    "check_meta_sgd_step",
    "check_online_meta_update",
    "check_performance_weights",
    "check_prior_update",
    "check_ridge_fit",
    "check_reptile_outer_update",
    "check_ridge_learner",
    "check_stable_softmax",
    "check_thompson_action",
    "check_ucb1_index",
    "run_check",
]
