"""The course as a graph of concepts, its glossary, and the questions learners ask.

* :data:`CONCEPTS` — one node a chapter (its concept in a few words, the chapters it builds on, a
  place on the map); :func:`concept_results` labels each node with one measured result read from
  ``benchmarks/results`` (chapters 0 and 9 state a computed one). ``tests/test_faq_and_errata.py``
  keeps the nodes in step with the README's course map and the edges with the library's imports.
* :data:`GLOSSARY` — the course's names, each with the chapter that introduces it.
* :data:`FAQ` — the article's three questions and the ones learners ask, each answered briefly
  with a link to the section that demonstrates the answer.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

from metalearn_lib.faq_and_errata.chapters import section_link
from metalearn_lib.faq_and_errata.errata import Quotes, sinusoid_family
from metalearn_lib.faq_and_errata.results import NotMeasured, Quote, format_number, results_folder

__all__ = ["CONCEPTS", "FAQ", "GLOSSARY", "Concept", "Question", "ancestors", "concept_results"]


@dataclass(frozen=True)
class Concept:
    """A chapter's concept: a node of the concept map.

    Attributes:
        chapter: the chapter (0 … 9).
        title: the chapter's name, as the README's course map calls its notebook.
        concept: the concept in a few words.
        builds_on: the chapters whose ideas it uses (edges "builds on").
        position: (x, y) on the map: x from left (supervised) to right (RL), y the depth (0 on top);
            no arrow crosses a node.
        result: reads the node's measured result (see :func:`concept_results`).
    """

    chapter: int
    title: str
    concept: str
    builds_on: tuple[int, ...]
    position: tuple[float, float]
    result: Callable[[Quotes], str] = field(repr=False)


def _welcome(_: Quotes) -> str:
    from metalearn_lib.welcome import naive_softmax, stable_softmax  # chapter 0: computed, not a benchmark

    scores = [1001.0, 1002.0, 1003.0]
    stable, naive = stable_softmax(scores, 1.0), naive_softmax(scores, 1.0)
    return f"scores near 1000: stable max weight {max(stable):.3f}, naive {format_number(float(naive[0]))}"


def _mapping(q: Quotes) -> str:
    row = {"family": sinusoid_family(q), "shots": 2}
    learned = q.text("mapping_full.json", "rows", {**row, "learner": "learned prior (empirical Bayes)"}, "mse")
    fixed = q.text("mapping_full.json", "rows", {**row, "learner": "fixed prior (λ = 1)"}, "mse")
    return f"2-shot MSE {learned} (learned prior) vs {fixed} (fixed)"


def _two_level(q: Quotes) -> str:
    row = {"test_shots": 5, "steps": 1}
    maml = q.text("sinusoid_full.json", "rows", {**row, "method": "maml"}, "mse")
    pretrained = q.text("sinusoid_full.json", "rows", {**row, "method": "pretrained"}, "mse")
    return f"5-shot MSE {maml} (MAML) vs {pretrained} (pretrained)"


def _averaging(q: Quotes) -> str:
    row = {"experiment": "online_switching", "kind": "summary", "subset": "all"}
    share = q.text("applications_full.json", "rows", {**row, "method": "hedge_fixed_share"}, "loss")
    plain = q.text("applications_full.json", "rows", {**row, "method": "hedge"}, "loss")
    return f"switching streams: loss {share} (fixed share) vs {plain} (Hedge)"


def _teacher(q: Quotes) -> str:
    section = ("sections", "meta_sgd", "rows")
    meta_sgd = q.text("teachers_full.json", *section, {"method": "meta_sgd", "test_shots": 5, "steps": 1}, "mse")
    maml = q.text("teachers_full.json", *section, {"method": "maml", "test_shots": 5, "steps": 1}, "mse")
    return f"5-shot MSE {meta_sgd} (Meta-SGD) vs {maml} (MAML)"


def _bandits(q: Quotes) -> str:
    config = ("configs", "10,5")
    rl2 = q.text("bandits_full.json", *config, "rows", {"policy": "rl2"}, "mean_reward")
    bayes = q.text("bandits_full.json", *config, "bayes_optimal_value")
    return f"10 pulls: RL² {rl2} vs Bayes-optimal {bayes}"


def _maml_rl(q: Quotes) -> str:
    maml = q.text("maml_rl_full.json", "rows", {"method": "maml", "steps": 1}, "mean_return")
    pretrained = q.text("maml_rl_full.json", "rows", {"method": "pretrained", "steps": 1}, "mean_return")
    return f"return after 1 step {maml} (MAML) vs {pretrained} (pretrained)"


def _meta_rl_mdps(q: Quotes) -> str:
    rl2 = q.value("meta_rl_mdps_full.json", "rows", {"env": "gridworld", "policy": "rl2"}, "mean_return")
    bayes = q.value("meta_rl_mdps_full.json", "rows", {"env": "gridworld", "policy": "bayes_optimal"}, "mean_return")
    return f"gridworld: RL² at {100 * rl2 / bayes:.1f} % of Bayes-optimal"


def _applications(q: Quotes) -> str:
    shift = {"experiment": "shift_sinusoid", "shift_kind": "input", "shift": 2.5, "steps": 1}
    maml = q.text("applications_full.json", "rows", {**shift, "method": "maml"}, "nmse")
    pretrained = q.text("applications_full.json", "rows", {**shift, "method": "pretrained"}, "nmse")
    return f"shifted inputs: nMSE {maml} (MAML) vs {pretrained} (pretrained)"


def _faq(_: Quotes) -> str:
    from metalearn_lib.faq_and_errata.errata import ERRATA

    wrong = sum(e.verdict == "wrong" for e in ERRATA)
    return f"{len(ERRATA)} claims checked, {wrong} wrong"


#: One node a chapter, in chapter order.
CONCEPTS: tuple[Concept, ...] = (
    Concept(0, "welcome", "seeding; a stable softmax with a temperature", (), (2.75, 0.0), _welcome),
    Concept(1, "mapping", "a learner maps a data set to a predictor; a learned prior", (0,), (1.0, 1.0), _mapping),
    Concept(2, "two-level learning", "inner loop adapts, outer loop learns the start (MAML, Reptile)", (1,),
            (0.0, 2.0), _two_level),
    Concept(3, "model averaging", "weights over models; outputs vs parameters; Hedge", (0, 2), (1.0, 2.0),
            _averaging),
    Concept(4, "teacher-guided loop", "a teacher gives the updates: step sizes, a learned optimiser", (2, 3),
            (0.0, 3.0), _teacher),
    Concept(5, "meta-RL on bandits", "beliefs; the Bayes-optimal limit; RL² learns to explore", (0, 1),
            (2.75, 1.0), _bandits),
    Concept(6, "MAML-RL", "a policy adapted by a policy-gradient step", (2, 5), (1.75, 4.0), _maml_rl),
    Concept(7, "meta-RL on MDPs", "beliefs over MDPs; posterior sampling; a Bayes-optimal search", (5,),
            (2.75, 4.0), _meta_rl_mdps),
    Concept(8, "applications", "multi-task, shift, online adaptation as experiments", (3, 4, 5), (0.5, 4.0),
            _applications),
    Concept(9, "FAQ and errata", "the source article's claims, corrected and measured", (6, 7, 8), (1.75, 5.0),
            _faq),
)


def ancestors(chapter: int) -> set[int]:
    """Every chapter ``chapter`` builds on, directly or through others."""
    by_chapter = {c.chapter: c for c in CONCEPTS}
    if chapter not in by_chapter:
        raise ValueError(f"chapter must be one of {sorted(by_chapter)}, got {chapter!r}")
    found: set[int] = set()
    todo = list(by_chapter[chapter].builds_on)
    while todo:
        parent = todo.pop()
        if parent not in found:
            found.add(parent)
            todo.extend(by_chapter[parent].builds_on)
    return found


def concept_results(results_dir: str | os.PathLike[str]) -> dict[int, tuple[str, list[Quote]]]:
    """chapter → (its node's measured result, the quotes it read); ``"not measured (…)"`` if missing."""
    directory = results_folder(results_dir)
    labels = {}
    for concept in CONCEPTS:
        quotes = Quotes(directory)
        try:
            labels[concept.chapter] = (concept.result(quotes), list(quotes.quotes))
        except NotMeasured as missing:
            labels[concept.chapter] = (str(missing), [])
    return labels


#: term → (meaning, chapter that introduces it).
GLOSSARY: dict[str, tuple[str, int]] = {
    "task": ("one problem drawn from a task distribution p(T): a sinusoid, a bandit, an MDP", 1),
    "support set": ("the few examples a learner adapts on (K of them: K-shot)", 1),
    "query set": ("held-out points of the same task that judge the adapted learner", 1),
    "prior": ("what is believed before a task's data: learned from other tasks in meta-learning", 1),
    "posterior": ("the belief after the data: prior × likelihood, normalised", 1),
    "inner loop": ("adaptation to one task: θ' = θ − α ∇L_support(θ)", 2),
    "outer loop": ("learning across tasks: the start θ is moved to lower the query loss after adaptation", 2),
    "outer_lr": ("the outer loop's step size (β in the MAML paper, ε in Reptile's)", 2),
    "first-order MAML": ("MAML without the second derivatives of the inner step", 2),
    "temperature": ("τ in softmax(s / τ): small τ picks the best, large τ spreads the weights", 0),
    "regret": ("what a policy loses against the best choice in hindsight, summed over time", 3),
    "meta-SGD": ("meta-learning a step size per parameter together with the start", 4),
    "Bayes-optimal policy": ("the policy with the highest expected return under the task distribution: the limit of "
                             "any meta-RL agent trained on it", 5),
    "RL²": ("a recurrent agent whose memory carries what it learned within a task; trained by RL across tasks", 5),
    "Thompson sampling": ("act greedily for one sample drawn from the posterior", 5),
    "policy gradient": ("∇J(θ) = E[∇ log π_θ(a|s) · return]: the score-function estimate", 6),
    "baseline": ("a value subtracted from returns to lower the policy gradient's variance, keeping its mean", 6),
    "posterior sampling": ("PSRL: sample an MDP from the posterior, act optimally for it for an episode", 7),
    "belief state": ("the posterior over the unknown task, the state of a Bayes-adaptive MDP", 7),
    "cross-domain shift": ("test tasks drawn from another distribution than the training tasks", 8),
}


@dataclass(frozen=True)
class Question:
    """A question, its short answer, and the section that demonstrates it."""

    question: str
    answer: str
    chapter: int
    heading: str

    @property
    def link(self) -> str:
        return section_link(self.chapter, self.heading)


FAQ: tuple[Question, ...] = (
    Question("How does meta-learning differ from ordinary learning?",
             "Ordinary learning fits one task from its data. Meta-learning fits, across many tasks, part of the "
             "procedure that does that fitting — a prior, a start, step sizes — and is judged by how well the "
             "procedure then learns a new task from few data.", 1, "Fixed prior or learned prior?"),
    Question("Where is meta-learning used?",
             "Wherever many related tasks each come with little data: few-shot regression and classification, "
             "robots and agents that adapt to a new goal or dynamics, exploration strategies. It pays only while "
             "new tasks resemble the training tasks.", 8, "2 · Cross-domain shift: what a learned prior costs when "
             "the world moves"),
    Question("How does meta-learning help reinforcement learning?",
             "It learns how to explore and adapt: a memory that turns rewards into a belief (RL²) or a starting "
             "policy one gradient step from good (MAML-RL). The best it can reach is the Bayes-optimal policy "
             "for the task distribution.", 5, "RL²: learning to explore"),
    Question("MAML or fine-tuning a pretrained network?",
             "Pretraining on all tasks learns their average, which for sinusoids is near zero; MAML learns a start "
             "from which one step fits each task. With the same few points and steps MAML is far better on the "
             "training family; under a large shift the pretrained start can be the better one (chapter 8).", 2,
             "Which initialisation adapts best?"),
    Question("When is first-order MAML enough?",
             "When the inner steps are small and few: the term it drops is α times the Hessian of the support loss. "
             "On the sinusoids first-order MAML keeps most of MAML's lead over pretraining at half the cost per "
             "iteration; the full second-order gradient pays where adaptation is longer or sharper.", 2,
             "Reptile: no second derivatives at all"),
    Question("RL² or MAML-RL?",
             "RL² adapts within an episode through its memory and can learn to explore (it nearly matches the "
             "Bayes-optimal bandit player); MAML-RL adapts by a gradient step after sampling, which keeps improving "
             "with more steps but explores only as its start does.", 6,
             "The outer gradient, and the samples the inner step was given"),
    Question("What does Bayes-optimal mean, and why is it the limit?",
             "It is the policy that maximises expected return when the task is drawn from the known prior, acting "
             "on the posterior at every step. A meta-learner trained on the same distribution optimises the same "
             "objective, so it can at best tie it.", 5, "The limit: the Bayes-optimal policy"),
    Question("Why does meta-learning fail under distribution shift?",
             "What it learns is a prior for the training tasks. When test tasks move outside them the prior points "
             "the wrong way and can cost more than learning from scratch; the exact Bayes-optimal policy for the "
             "new prior shows how much.", 8, "2 · Cross-domain shift: what a learned prior costs when the world moves"),
)
