"""Chapter 9's figure and explorer: the course as a map of concepts.

* :func:`concept_map_figure` — one node a chapter (:data:`~metalearn_lib.faq_and_errata.CONCEPTS`),
  labelled with its chapter, its concept and one measured result, an arrow from each chapter to
  those that build on it. A chosen chapter is filled, the chapters it builds on (directly or not)
  are outlined in colour, the rest are grey.
* :func:`concept_explorer` — slide to a chapter: the map lights up what it needs first, and the
  readout gives its result, where the number comes from, and the errata it corrects.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import ipywidgets
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch

from metalearn_lib.faq_and_errata import CONCEPTS, ERRATA, FAQ, GLOSSARY, ancestors, concept_results, section_link
from metalearn_lib.plotting import COLORS, new_figure
from metalearn_lib.widgets.core import View, WidgetApp, plural

__all__ = [
    "MarkdownTable",
    "concept_explorer",
    "concept_map_figure",
    "concept_view",
    "costs_table",
    "errata_table",
    "faq_markdown",
    "glossary_table",
    "tools_table",
]

_GREY, _TEXT, _MUTED = "#B9B9B9", "#222222", "#6E6E6E"
_BOX_HALF_WIDTH, _BOX_HALF_HEIGHT = 0.44, 0.36
_NODE_GID = "concept-node"


class MarkdownTable:
    """Rows shown as a markdown table in JupyterLab and on GitHub, and as plain text to nbval and terminals.

    Args:
        header: the column names.
        rows: one sequence of cell texts per row, as long as ``header``.

    Raises:
        ValueError: no columns, or a row of another length than ``header``.
    """

    def __init__(self, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        self.header = [str(h) for h in header]
        if not self.header:
            raise ValueError("header must name at least one column")
        self.rows = [[str(cell) for cell in row] for row in rows]
        for index, row in enumerate(self.rows):
            if len(row) != len(self.header):
                raise ValueError(f"rows[{index}] has {len(row)} cells, the header {len(self.header)}")

    def _repr_markdown_(self) -> str:
        def line(cells: Sequence[str]) -> str:
            return "| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |"

        return "\n".join([line(self.header), line(["---"] * len(self.header)), *map(line, self.rows)])

    def __repr__(self) -> str:
        return "\n".join(" · ".join(f"{h}: {c}" for h, c in zip(self.header, row, strict=True))
                         for row in self.rows)


def _label(chapter: int, results: Mapping[int, str], *, with_concept: bool) -> str:
    concept = next(c for c in CONCEPTS if c.chapter == chapter)
    lines = [*(textwrap.wrap(concept.concept, 32, break_on_hyphens=False) if with_concept else []),
             *textwrap.wrap(results.get(chapter, "—"), 34, break_on_hyphens=False)]
    return "\n".join(lines)


def concept_map_figure(results: Mapping[int, str], *, selected: int | None = None, with_concepts: bool = True,
                       width: float = 9.0, height: float = 7.6) -> Figure:
    """The concept map: nodes at :attr:`Concept.position`, arrows "builds on", results as labels.

    Args:
        results: chapter → its measured result (from :func:`~metalearn_lib.faq_and_errata.concept_results`).
        selected: a chapter to highlight with what it builds on, or None for every node in colour.
        with_concepts: write each chapter's concept in its node (False: the chapter and its result only,
            for a figure small enough to sit under an explorer's controls).
        width, height: the figure's size in inches.

    Raises:
        ValueError: ``selected`` is not a chapter of the course.
    """
    chapters = [c.chapter for c in CONCEPTS]
    if selected is not None and selected not in chapters:
        raise ValueError(f"selected must be one of {chapters} or None, got {selected!r}")
    needed = ancestors(selected) if selected is not None else set(chapters)
    figure, axes = new_figure(width=width, height=height)
    ax = axes[0, 0]
    xs = [c.position[0] for c in CONCEPTS]
    ys = [c.position[1] for c in CONCEPTS]
    ax.set(xlim=(min(xs) - 0.52, max(xs) + 0.52), ylim=(max(ys) + 0.45, min(ys) - 0.45))
    ax.axis("off")
    ax.set_xticks([])
    ax.set_yticks([])
    boxes = {}
    for concept in CONCEPTS:
        x, y = concept.position
        color = COLORS[concept.chapter % len(COLORS)]
        if selected is None or concept.chapter == selected:
            face, edge, text_color, line_width = to_rgba(color, 0.16), color, _TEXT, 2.2
        elif concept.chapter in needed:
            face, edge, text_color, line_width = "white", color, _TEXT, 1.6
        else:
            face, edge, text_color, line_width = "#F7F7F7", _GREY, _MUTED, 1.0
        boxes[concept.chapter] = FancyBboxPatch(
            (x - _BOX_HALF_WIDTH, y - _BOX_HALF_HEIGHT), 2 * _BOX_HALF_WIDTH, 2 * _BOX_HALF_HEIGHT,
            boxstyle="round,pad=0.0,rounding_size=0.06", fc=face, ec=edge, lw=line_width, zorder=2, gid=_NODE_GID)
        ax.add_patch(boxes[concept.chapter])
        ax.text(x, y - _BOX_HALF_HEIGHT + 0.07, f"{concept.chapter} · {concept.title}", ha="center", va="top",
                fontsize=8, fontweight="bold", color=text_color, zorder=3)
        label = _label(concept.chapter, results, with_concept=with_concepts)
        ax.text(x, y + (0.08 if with_concepts else 0.1), label, ha="center", va="center", fontsize=7.4,
                color=text_color, linespacing=1.15, zorder=3)
    where = {c.chapter: c.position for c in CONCEPTS}
    for concept in CONCEPTS:
        for parent in concept.builds_on:
            (x0, y0), (x1, y1) = where[parent], where[concept.chapter]
            lit = selected is None or (concept.chapter in needed | {selected} and parent in needed)
            bend = 0.0
            ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                        arrowprops={"arrowstyle": "-|>", "color": _TEXT if lit else _GREY, "lw": 1.1 if lit else 0.7,
                                    "patchA": boxes[parent], "patchB": boxes[concept.chapter], "shrinkA": 1,
                                    "shrinkB": 1, "connectionstyle": f"arc3,rad={bend}"}, zorder=1)
    title = ("The course as concepts: an arrow from a chapter to those that build on it" if selected is None else
             f"Chapter {selected} and the {plural(len(needed), 'chapter')} it builds on")
    ax.set_title(title, fontsize=10.5, loc="left")
    figure.supxlabel(f"each node: chapter · name, {'its concept, ' if with_concepts else ''}one result read from "
                     "benchmarks/results/*.json", fontsize=8, color=_MUTED)
    return figure


def concept_view(results: Mapping[int, str], sources: Mapping[int, str], chapter: int) -> View:
    """The explorer's render function for one chapter."""
    concept = next(c for c in CONCEPTS if c.chapter == chapter)
    needed = sorted(ancestors(chapter))
    errata = [e.key.replace("_", " ") for e in ERRATA if e.chapter == chapter]
    readout = "\n".join([
        f"chapter {chapter} · {concept.title}: {concept.concept}",
        f"result: {results[chapter]}  ({sources[chapter]})",
        f"builds on: {', '.join(map(str, needed)) if needed else 'nothing before it'}"
        + (f"   ·   corrects the article on: {', '.join(errata)}" if errata else ""),
    ])
    figure = concept_map_figure(results, selected=chapter, with_concepts=False, height=5.0)
    return View(figure=figure, readout=readout, data={"needed": needed, "errata": errata})


def concept_explorer(results_dir: str | os.PathLike[str], chapter: int = 8) -> WidgetApp:
    """A chapter slider over the concept map.

    Args:
        results_dir: the folder of the committed benchmark results (from a notebook ``"../benchmarks/results"``).
        chapter: the chapter shown first.

    Raises:
        ValueError: ``chapter`` is not a chapter of the course.
        TypeError, FileNotFoundError: ``results_dir`` is not a folder.
    """
    read = concept_results(results_dir)
    chapters = [c.chapter for c in CONCEPTS]
    if chapter not in chapters:
        raise ValueError(f"chapter must be one of {chapters}, got {chapter!r}")
    results = {number: text for number, (text, _) in read.items()}
    sources = {number: ", ".join(sorted({q.file for q in quotes})) or "computed in the lecture"
               for number, (_, quotes) in read.items()}
    slider = ipywidgets.SelectionSlider(options=[(f"{c.chapter} · {c.title}", c.chapter) for c in CONCEPTS],
                                        value=chapter, description="chapter", continuous_update=False)

    def render(chapter: int) -> View:
        return concept_view(results, sources, chapter)

    return WidgetApp({"chapter": slider}, render, title="The course as a map: what a chapter builds on")


# ---------------------------------------------------------------------------------------------
# The lecture's tables
# ---------------------------------------------------------------------------------------------
def errata_table(rows: Sequence[Mapping[str, Any]]) -> MarkdownTable:
    """The errata as a table: claim, verdict, truth, evidence, link (from
    :func:`~metalearn_lib.faq_and_errata.errata_rows`)."""
    return MarkdownTable(
        ["§ · claim", "verdict", "what is true", "evidence", "shown in"],
        [[f"{r['section']} · {r['claim']}", f"**{r['verdict']}**", r["truth"], r["evidence"], r["link"]] for r in rows])


def tools_table(tools: Mapping[str, Any]) -> MarkdownTable:
    """``benchmarks/results/tools_checked.json`` as a table: package, what it is, version, installed here."""
    return MarkdownTable(
        ["package", "what it is", f"version pip resolves ({tools['date']}, Python {tools['python']})",
         "installed here"],
        [[row["package"], row["what"], row["version"] + "".join(f", with {k} {v}" for k, v in row["with"].items()),
          row["installed_and_imported"] or "no (not a course dependency)"] for row in tools["rows"]])


def costs_table(costs: Sequence[Mapping[str, Any]]) -> MarkdownTable:
    """Training costs (rows of :func:`~metalearn_lib.faq_and_errata.training_costs`) as a table."""
    def clock(seconds: float | None) -> str:
        return "not measured" if seconds is None else f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"

    return MarkdownTable(
        ["chapter", "what was trained", "iterations", "wall clock", "per 1000 iterations", "file"],
        [[c["chapter"], c["what"], f"{c['iterations']:.0f}" if c["iterations"] else "—", clock(c["wall_s"]),
          f"{1000 * c['wall_s'] / c['iterations']:.2f} s" if c["iterations"] and c["wall_s"] else "—", c["file"]]
         for c in costs])


def glossary_table() -> MarkdownTable:
    """The glossary, alphabetically, each term linked to the chapter that introduces it."""
    return MarkdownTable(["term", "meaning", "introduced in"],
                         [[f"**{term}**", meaning, section_link(chapter, "Learning goals", text=f"chapter {chapter}")]
                          for term, (meaning, chapter) in sorted(GLOSSARY.items(), key=lambda item: item[0].lower())])


def faq_markdown() -> str:
    """The FAQ as markdown: each question in bold, its answer, and the link to the section that shows it."""
    return "\n\n".join(f"**{q.question}**  \n{q.answer} → {q.link}" for q in FAQ)
