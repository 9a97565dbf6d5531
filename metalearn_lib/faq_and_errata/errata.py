"""The source article's claims, what is true instead, and where the course measures it.

:data:`ERRATA` lists every claim of the source article (paraphrased, in English) with a verdict,
the correct statement, and the lecture section that shows it. :func:`errata_rows` adds to each
the evidence: one sentence whose numbers are read from the committed benchmark results through
:class:`Quotes` (so ``tests/test_faq_and_errata.py`` can re-read each number from its file), or
computed on the spot where the claim is about code (the article's teacher).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from metalearn_lib.faq_and_errata.chapters import section_link
from metalearn_lib.faq_and_errata.results import (
    NotMeasured,
    Quote,
    format_number,
    load_result,
    resolve,
    results_folder,
)

__all__ = ["ERRATA", "VERDICTS", "Erratum", "Quotes", "article_teacher_numbers", "errata_rows"]

#: The verdicts the table uses, from worst to best.
VERDICTS: tuple[str, ...] = ("wrong", "outdated", "vague", "partly right", "right")


class Quotes:
    """Reads numbers from the results folder and remembers each read as a :class:`Quote`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.quotes: list[Quote] = []
        self._files: dict[str, Any] = {}

    def value(self, file: str, *path: Any) -> float:
        """The number at ``path`` in ``file`` (recorded)."""
        if file not in self._files:
            self._files[file] = load_result(self.directory, file)
        value = resolve(self._files[file], path, file)
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise ValueError(f"{file} {path}: a number was expected, found {type(value).__name__}")
        self.quotes.append(Quote(file=file, path=tuple(path), value=float(value)))
        return float(value)

    def text(self, file: str, *path: Any, decimals: int | None = None) -> str:
        """The number at ``path`` in ``file``, formatted as the course prints numbers (recorded)."""
        return format_number(self.value(file, *path), decimals)

    def pm(self, file: str, *row: Any, key: str = "mse", ci: str = "ci95") -> str:
        """``mean ± ci95`` of the row at ``row`` in ``file`` (both numbers recorded)."""
        mean = self.value(file, *row, key)
        interval = self.value(file, *row, ci)
        decimals = 2 if abs(mean) >= 0.1 or mean == 0 else None
        text = format_number(mean, decimals)
        return f"{text} ± {format_number(interval, len(text.split('.')[-1]) if '.' in text else 0)}"


@dataclass(frozen=True)
class Erratum:
    """One claim of the source article.

    Attributes:
        key: a short identifier.
        section: where the article makes the claim (its section number and title, in English).
        claim: the claim, paraphrased.
        verdict: one of :data:`VERDICTS`.
        truth: what is true, in a sentence or three.
        chapter, heading: the lecture section that shows it.
        evidence: reads the evidence sentence (see :class:`Quotes`).
    """

    key: str
    section: str
    claim: str
    verdict: str
    truth: str
    chapter: int
    heading: str
    evidence: Callable[[Quotes], str] = field(repr=False)


# ---------------------------------------------------------------------------------------------
# The evidence of each claim
# ---------------------------------------------------------------------------------------------
_SINUSOID_ROW = ({"method": "maml", "test_shots": 5, "steps": 1},)


def sinusoid_family(q: Quotes) -> str:
    """The name chapter 1's benchmark (``mapping_full.json``) gives its sinusoid family."""
    rows = load_result(q.directory, "mapping_full.json")["rows"]
    return next((r["family"] for r in rows if r["family"].startswith("sinusoid")), "sinusoid")


def _learned_prior(q: Quotes) -> str:
    row = {"family": sinusoid_family(q), "shots": 2}
    learned = q.pm("mapping_full.json", "rows", {**row, "learner": "learned prior (empirical Bayes)"})
    fixed = q.pm("mapping_full.json", "rows", {**row, "learner": "fixed prior (λ = 1)"})
    return (f"sinusoids, 2 shots: query MSE {learned} with a prior learned from other tasks vs {fixed} with a "
            "fixed prior")


def _amortised(q: Quotes) -> str:
    row = {"family": sinusoid_family(q), "shots": 5}
    amortised = q.pm("mapping_full.json", "rows", {**row, "learner": "amortised (CNP)"})
    mean = q.pm("mapping_full.json", "rows", {**row, "learner": "support mean"})
    return (f"sinusoids, 5 shots: a network that maps a data set straight to a predictor (CNP) reaches query MSE "
            f"{amortised}, against {mean} for predicting the support mean")


def _two_level(q: Quotes) -> str:
    maml = q.pm("sinusoid_full.json", "rows", *_SINUSOID_ROW)
    pretrained = q.pm("sinusoid_full.json", "rows", {"method": "pretrained", "test_shots": 5, "steps": 1})
    return (f"sinusoids, 5 shots, 1 SGD step: MSE {maml} from MAML's learned initialisation vs {pretrained} from the "
            "same network pretrained on all tasks (same architecture: only the starting point differs)")


def _learner_and_meta_learner(q: Quotes) -> str:
    start = q.pm("sinusoid_full.json", "rows", {"method": "maml", "test_shots": 5, "steps": 0})
    adapted = q.pm("sinusoid_full.json", "rows", *_SINUSOID_ROW)
    return (f"sinusoids, 5 shots: MAML's meta-learned start predicts with MSE {start} before any inner step and "
            f"{adapted} after one — the start is not a predictor; the learner made from it on a task's data is")


def _better_policies(q: Quotes) -> str:
    config = ("configs", "10,5")
    rl2 = q.pm("bandits_full.json", *config, "rows", {"policy": "rl2"}, key="mean_reward")
    bayes = q.text("bandits_full.json", *config, "bayes_optimal_value")
    grid = {"env": "gridworld"}
    rl2_grid = q.value("meta_rl_mdps_full.json", "rows", {**grid, "policy": "rl2"}, "mean_return")
    bayes_grid = q.value("meta_rl_mdps_full.json", "rows", {**grid, "policy": "bayes_optimal"}, "mean_return")
    return (f"Bernoulli bandits (10 pulls, 5 arms): RL² collects {rl2} a trial and the exact Bayes-optimal value is "
            f"{bayes} (equal within the interval: no agent beats it in expectation); VariBAD's gridworld: RL² returns "
            f"{format_number(rl2_grid)}, "
            f"{100 * rl2_grid / bayes_grid:.1f} % of the Bayes-optimal {format_number(bayes_grid)}")


def _teacher_loop(q: Quotes) -> str:
    section = ("sections", "meta_sgd", "rows")
    meta_sgd = q.pm("teachers_full.json", *section, {"method": "meta_sgd", "test_shots": 5, "steps": 1})
    maml = q.pm("teachers_full.json", *section, {"method": "maml", "test_shots": 5, "steps": 1})
    return (f"a teacher trained on the learner's loss after its update: Meta-SGD's per-weight step sizes give "
            f"5-shot MSE {meta_sgd} after one step, against {maml} with MAML's one fixed step size")


def _model_averaging(q: Quotes) -> str:
    data = load_result(q.directory, "applications_full.json")
    tuned = any(r.get("tuned") for r in data["rows"]
                if r.get("experiment") == "multi_task" and r.get("method") == "multi_task_no_reg")
    row = {"experiment": "multi_task", "steps": 1}
    averaged = q.pm("applications_full.json", "rows", {**row, "method": "multi_task_no_reg", "tuned": tuned})
    maml = q.pm("applications_full.json", "rows", {**row, "method": "maml", "tuned": False})
    count = q.value("applications_full.json", "multi_task", "num_regressors")
    return (f"the parameters of {count:.0f} sinusoid networks trained apart, averaged: 5-shot MSE {averaged} after one "
            f"step (about what predicting 0 scores), against {maml} from MAML's initialisation")


def article_teacher_numbers(seed: int = 0, num_points: int = 40, num_features: int = 3) -> dict[str, float]:
    """The article's teacher on a random least-squares problem (chapter 4's analysis, re-run small).

    The teacher sets θ ← Xᵀy whatever θ was; it stalls there at once. Returns the loss where it
    stalls, the least-squares optimum's loss, and the loss from θ = 0 for scale.
    """
    from metalearn_lib.teacher import article_analysis  # chapter 4

    rng = np.random.default_rng(seed)
    design = rng.normal(size=(num_points, num_features))
    targets = design @ rng.normal(size=(num_features, 1)) + 0.1 * rng.normal(size=(num_points, 1))
    analysis = article_analysis(design.astype(np.float32), targets.astype(np.float32))
    return {"loss_article": analysis.loss_article, "loss_star": analysis.loss_star,
            "loss_zero": float(np.mean(targets**2)), "fixed_point_optimal": float(analysis.fixed_point_optimal)}


def _code_snippet(_: Quotes) -> str:
    numbers = article_teacher_numbers()
    return (f"computed here (40 points, 3 features): the article's update θ ← Xᵀy stalls at loss "
            f"{format_number(numbers['loss_article'])}, worse than θ = 0 ({format_number(numbers['loss_zero'])}); "
            f"least squares reaches {format_number(numbers['loss_star'])}")


def _applications(q: Quotes) -> str:
    shift = {"experiment": "shift_sinusoid", "shift_kind": "input", "shift": 2.5, "steps": 1}
    maml = q.pm("applications_full.json", "rows", {**shift, "method": "maml"}, key="nmse", ci="nmse_ci95")
    pretrained = q.pm("applications_full.json", "rows", {**shift, "method": "pretrained"}, key="nmse", ci="nmse_ci95")
    switching = {"experiment": "switching_bandit", "round": None}
    stationary = q.text("applications_full.json", "rows", {**switching, "method": "rl2_stationary"}, "regret")
    ucb = q.text("applications_full.json", "rows", {**switching, "method": "ucb1"}, "regret")
    return (f"inputs shifted by 2.5: nMSE {maml} from MAML's start vs {pretrained} pretrained (the learned prior's "
            f"edge is gone); switching bandits: RL² trained on stationary ones has regret {stationary}, UCB1 {ucb}")


def _tools(q: Quotes) -> str:
    data = load_result(q.directory, "tools_checked.json")
    versions = ", ".join(f"{row['package']} {row['version']}" for row in data["rows"])
    tensorflow = load_result(q.directory, "sinusoid_full.json")["environment"]["tensorflow"]
    return (f"resolved by pip here on {data['date']} (Python {data['python']}): {versions}; "
            f"the course itself runs on TensorFlow {tensorflow}")


def _costs(q: Quotes) -> str:
    maml = q.value("sinusoid_full.json", "timings", {"method": "maml"}, "wall_s")
    fomaml = q.value("sinusoid_full.json", "timings", {"method": "fomaml"}, "wall_s")
    iterations = q.value("sinusoid_full.json", "timings", {"method": "maml"}, "train_config", "num_iterations")
    maml_rl = q.value("maml_rl_full.json", "training", {"method": "maml"}, "wall_s")
    rl2 = q.value("meta_rl_mdps_full.json", "rl2_training", "tabular_n10", "wall_s")
    cores = q.value("sinusoid_full.json", "environment", "cpu_count")
    return (f"on {cores:.0f} CPU cores: {iterations:.0f} MAML meta-iterations on sinusoids {maml:.0f} s "
            f"(first-order: {fomaml:.0f} s, {maml / fomaml:.1f}× cheaper); MAML-RL on 2D navigation "
            f"{maml_rl / 60:.1f} min; RL² on random MDPs {rl2 / 60:.1f} min")


# ---------------------------------------------------------------------------------------------
# The claims
# ---------------------------------------------------------------------------------------------
ERRATA: tuple[Erratum, ...] = (
    Erratum("learns_models", "1 Introduction", "Meta-learning lets a model learn how to learn other models.",
            "vague",
            "What is learned is one ingredient of a learning procedure — a prior, a starting point, step sizes, an "
            "exploration strategy — fitted on many tasks from one distribution, so that a new task from it needs "
            "less data.", 1, "Fixed prior or learned prior?", _learned_prior),
    Erratum("mapping", "2 Core concepts", "Its core concept is a mapping from the input space to the output space.",
            "vague",
            "Every predictor maps inputs to outputs. The map meta-learning learns sits one level up: from a task's "
            "data set to a predictor for that task, judged on new points of new tasks.",
            1, "The amortised map", _amortised),
    Erratum("two_level", "2 Core concepts",
            "It is two-level learning: level one learns the model's parameters, level two learns the model itself.",
            "wrong",
            "Level one (the inner loop) adapts the parameters to one task from its support set; level two (the outer "
            "loop) learns what level one starts from, or how it steps, by the query loss after adaptation. The model "
            "itself stays fixed.", 2, "The outer loop: MAML's meta-loss and its gradient", _two_level),
    Erratum("better_policies", "2 Core concepts", "Meta-learning helps reinforcement learning find better policies.",
            "partly right",
            "It finds agents that adapt faster to new tasks from the training distribution (a starting policy, an "
            "exploration strategy), not a better policy for one fixed task. Its limit is the Bayes-optimal policy "
            "for that distribution: an agent can approach it, never beat it.",
            5, "The limit: the Bayes-optimal policy", _better_policies),
    Erratum("learner_meta_model", "3 Algorithm",
            "The model trained to map inputs to outputs is the 'learner', also called the 'meta-model'; a teacher "
            "(another learner or a human expert) gives it feedback.", "wrong",
            "Learner and meta-learner are different things. The learner fits one task from its data; the "
            "meta-learner is trained across tasks and produces the learner — MAML's starting point, RL²'s recurrent "
            "weights. No human is in the loop of any method here.",
            2, "The inner loop: adapt to one task", _learner_and_meta_learner),
    Erratum("teacher_loop", "3 Algorithm",
            "Train a teacher with the learner's parameters as input and its own as output; let it guide the learner; "
            "repeat until good enough.", "wrong",
            "A teacher needs an objective: it is trained so that the learner's loss after the teacher's updates is "
            "low. Input and output alone name no target, so the four steps as written learn nothing.",
            4, "Teacher 4: learned step sizes (Meta-SGD)", _teacher_loop),
    Erratum("model_averaging", "4 Mathematical model",
            "Meta-learning can be written as model averaging, f* = Σ wᵢ fᵢ(θᵢ), a linear combination of the "
            "learners' parameters.", "wrong",
            "Σ wᵢ fᵢ(θᵢ) averages outputs (an ensemble); averaging parameters gives f(Σ wᵢ θᵢ), the same only for "
            "models linear in θ. Networks trained apart average badly (their hidden units are permuted). Weighting "
            "fixed learners by performance is ensembling, not learning to learn.",
            3, "Output averaging is not parameter averaging", _model_averaging),
    Erratum("code_snippet", "5 Code example",
            "The TensorFlow example (learner, teacher, meta-loss, training loop) implements meta-learning.", "wrong",
            "It cannot run: np is never imported and a tf.Tensor cannot be assigned to by index. Its teacher ignores "
            "θ and returns Xᵀy, its loss is computed and thrown away, and nothing is learned across tasks: there is "
            "no meta-objective. θ = Xᵀy is the least-squares solution only when XᵀX = I. And it has no environment, "
            "action or reward: it is not reinforcement learning at all.",
            4, "Teacher 2: the source article's teacher, and why it fails", _code_snippet),
    Erratum("applications", "6 Applications",
            "Meta-learning has wide prospects in multi-task, cross-domain and adaptive learning.", "partly right",
            "Each works inside the task distribution that meta-training saw. Outside it, the learned prior can cost "
            "more than it gives; chapter 8 measures each application, including where it fails.",
            8, "2 · Cross-domain shift: what a learned prior costs when the world moves", _applications),
    Erratum("tools", "7 Tools", "Use TensorFlow and OpenAI Baselines (plus two books).", "outdated",
            "OpenAI Baselines is archived and unmaintained. RL learners today use Gymnasium (the maintained "
            "successor of Gym) for environments, and Stable-Baselines3 or CleanRL for tested algorithms. The two books "
            "stand; Sutton and Barto's second edition (2018) is the one to read.",
            9, "Tools, then and now", _tools),
    Erratum("challenges", "8 Outlook", "The challenges are the choice of parameters and computational cost.", "right",
            "Both are real, and the course measures them. Second-order MAML costs about twice first-order per "
            "iteration, and meta-RL needs minutes to hours where supervised meta-learning needs seconds. Step sizes "
            "have hard stability limits (chapter 4).", 9, "What meta-learning costs", _costs),
)


def errata_rows(results_dir: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Every erratum with its evidence read from ``results_dir`` (the folder ``benchmarks/results``).

    Returns:
        One dict per claim of :data:`ERRATA`, in order: ``key``, ``section``, ``claim``, ``verdict``,
        ``truth``, ``chapter``, ``link`` (markdown, to the section), ``evidence`` (a sentence, or
        ``"not measured (…)"`` when a results file or row is missing), ``quotes`` (the
        :class:`Quote` of every number in the evidence).

    Raises:
        TypeError, FileNotFoundError: ``results_dir`` is not a folder.
    """
    directory = results_folder(results_dir)
    rows = []
    for erratum in ERRATA:
        quotes = Quotes(directory)
        try:
            evidence = erratum.evidence(quotes)
        except NotMeasured as missing:
            evidence = str(missing)
        rows.append({"key": erratum.key, "section": erratum.section, "claim": erratum.claim,
                     "verdict": erratum.verdict, "truth": erratum.truth, "chapter": erratum.chapter,
                     "link": section_link(erratum.chapter, erratum.heading), "evidence": evidence,
                     "quotes": list(quotes.quotes)})
    return rows
