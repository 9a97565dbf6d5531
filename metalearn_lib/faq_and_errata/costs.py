"""What meta-learning cost to train in this course: wall-clock times from the committed benchmarks.

:func:`training_costs` reads one row per trained learner from ``benchmarks/results`` — the file,
the place of the time in it (a :class:`~metalearn_lib.faq_and_errata.results.Quote`), what was
trained and for how long — so chapter 9 quotes costs, never retypes them.
"""

from __future__ import annotations

import os
from typing import Any

from metalearn_lib.faq_and_errata.errata import Quotes
from metalearn_lib.faq_and_errata.results import NotMeasured, results_folder

__all__ = ["COSTS", "training_costs"]

#: (chapter, what was trained, file, path to its wall-clock seconds, path to its number of iterations).
COSTS: tuple[tuple[int, str, str, tuple[Any, ...], tuple[Any, ...]], ...] = (
    (2, "MAML (second order), sinusoids", "sinusoid_full.json", ("timings", {"method": "maml"}, "wall_s"),
     ("timings", {"method": "maml"}, "train_config", "num_iterations")),
    (2, "first-order MAML, sinusoids", "sinusoid_full.json", ("timings", {"method": "fomaml"}, "wall_s"),
     ("timings", {"method": "fomaml"}, "train_config", "num_iterations")),
    (2, "Reptile (5 inner steps), sinusoids", "sinusoid_full.json", ("timings", {"method": "reptile"}, "wall_s"),
     ("timings", {"method": "reptile"}, "train_config", "num_iterations")),
    (4, "Meta-SGD, sinusoids", "teachers_full.json",
     ("sections", "meta_sgd", "timings", {"method": "meta_sgd"}, "wall_s"),
     ("sections", "meta_sgd", "timings", {"method": "meta_sgd"}, "meta_iterations")),
    (4, "a learned optimiser (20-step unrolls)", "teachers_full.json",
     ("sections", "learned_optimizer", "timings", {"method": "learned"}, "wall_s"),
     ("sections", "learned_optimizer", "timings", {"method": "learned"}, "meta_iterations")),
    (6, "MAML-RL with TRPO, 2D navigation", "maml_rl_full.json", ("training", {"method": "maml"}, "wall_s"),
     ("training", {"method": "maml"}, "meta_iterations")),
    (7, "RL², random MDPs (10 episodes a trial)", "meta_rl_mdps_full.json",
     ("rl2_training", "tabular_n10", "wall_s"), ()),
    (7, "RL², VariBAD's gridworld", "meta_rl_mdps_full.json", ("rl2_training", "gridworld", "wall_s"), ()),
)


def training_costs(results_dir: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """One row per trained learner: ``chapter``, ``what``, ``wall_s``, ``iterations`` (None if not recorded),
    ``file`` and ``quotes``; a row whose file or entry is missing has ``wall_s`` None and ``missing`` set.

    Raises:
        TypeError, FileNotFoundError: ``results_dir`` is not a folder.
    """
    directory = results_folder(results_dir)
    rows = []
    for chapter, what, file, time_path, iterations_path in COSTS:
        quotes = Quotes(directory)
        row: dict[str, Any] = {"chapter": chapter, "what": what, "file": file, "wall_s": None, "iterations": None,
                               "missing": None}
        try:
            row["wall_s"] = quotes.value(file, *time_path)
        except NotMeasured as missing:
            row["missing"] = str(missing)
        if iterations_path and row["wall_s"] is not None:
            try:
                row["iterations"] = quotes.value(file, *iterations_path)
            except NotMeasured:
                row["iterations"] = None
        row["quotes"] = list(quotes.quotes)
        rows.append(row)
    return rows
