"""Interactive explorers for the notebooks, testable without a browser.

The machinery (:class:`WidgetApp`, :class:`View`) is in :mod:`metalearn_lib.widgets.core`; each
chapter's explorers are in the module named after the chapter and re-exported here.
"""

from metalearn_lib.widgets.applications import shift_explorer
from metalearn_lib.widgets.averaging import averaging_explorer
from metalearn_lib.widgets.bandits import bandit_explorer
from metalearn_lib.widgets.core import View, WidgetApp
from metalearn_lib.widgets.mapping import fit_explorer
from metalearn_lib.widgets.teacher import teacher_explorer
from metalearn_lib.widgets.two_level import adaptation_explorer
from metalearn_lib.widgets.welcome import SCORE_PRESETS, softmax_explorer, softmax_view

__all__ = [
    "SCORE_PRESETS",
    "View",
    "WidgetApp",
    "adaptation_explorer",
    "averaging_explorer",
    "bandit_explorer",
    "fit_explorer",
    "shift_explorer",
    "softmax_explorer",
    "softmax_view",
    "teacher_explorer",
]
