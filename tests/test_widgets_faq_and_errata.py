"""Chapter 9's concept map and explorer, and the markdown tables of its lecture."""

from __future__ import annotations

import pytest

from metalearn_lib.faq_and_errata import CONCEPTS, concept_results
from metalearn_lib.plotting import overflowing_texts
from metalearn_lib.widgets.faq_and_errata import MarkdownTable, concept_explorer, concept_map_figure
from tests.check_tools import assert_every_setting_follows_the_kit, move_first_control
from tests.notebook_tools import REPO_ROOT

RESULTS = REPO_ROOT / "benchmarks" / "results"


@pytest.fixture(scope="module")
def results():
    return {chapter: text for chapter, (text, _) in concept_results(RESULTS).items()}


@pytest.mark.parametrize("with_concepts, height", [(True, 7.6), (False, 5.0)])
def test_every_node_text_stays_inside_its_box(results, with_concepts, height):
    figure = concept_map_figure(results, with_concepts=with_concepts, height=height)
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    ax = figure.axes[0]
    boxes = [p for p in ax.patches if p.get_gid() == "concept-node"]
    assert len(boxes) == len(CONCEPTS)
    texts = [t for t in ax.texts if t.get_text()]
    assert len(texts) == 2 * len(CONCEPTS)  # a title and a body a node
    for text in texts:
        extent = text.get_window_extent(renderer)
        inside = [b for b in boxes if b.get_window_extent(renderer).contains(extent.x0 + 1, extent.y0 + 1)
                  and b.get_window_extent(renderer).contains(extent.x1 - 1, extent.y1 - 1)]
        assert inside, f"{text.get_text()!r} spills out of its node"
    assert overflowing_texts(figure) == []


def test_each_node_shows_its_measured_result(results):
    figure = concept_map_figure(results)
    shown = "\n".join(t.get_text().replace("\n", " ") for t in figure.axes[0].texts)
    for chapter, text in results.items():
        assert text in shown, f"chapter {chapter}'s result is not on the map"


def test_a_selected_chapter_lights_what_it_builds_on(results):
    figure = concept_map_figure(results, selected=7, with_concepts=False, height=5.0)
    edges = {p.get_edgecolor() for p in figure.axes[0].patches if p.get_gid() == "concept-node"}
    assert len(edges) == 5  # chapter 7, its three ancestors in their own colours, and grey for the rest
    assert "3 chapters it builds on" in figure.axes[0].get_title(loc="left")
    with pytest.raises(ValueError, match="selected must be one of"):
        concept_map_figure(results, selected=11)


def test_explorer_follows_the_kit_and_reacts():
    app = concept_explorer(RESULTS, chapter=6)
    assert "builds on: 0, 1, 2, 5" in app.view.readout
    assert "maml_rl_full.json" in app.view.readout
    assert assert_every_setting_follows_the_kit(app) == len(CONCEPTS)  # every chapter of the slider
    app.controls["chapter"].value = 3
    assert app.view.data["needed"] == [0, 1, 2]
    with pytest.raises(ValueError, match="chapter must be one of"):
        concept_explorer(RESULTS, chapter=12)


def test_explorer_names_the_errata_its_chapter_corrects():
    app = concept_explorer(RESULTS, chapter=4)
    assert "corrects the article on: teacher loop, code snippet" in app.view.readout
    app.controls["chapter"].value = 0
    assert "builds on: nothing before it" in app.view.readout


def test_markdown_table():
    table = MarkdownTable(["a", "b"], [["x|y", "1"], ["line\nbreak", 2]])
    assert table._repr_markdown_().splitlines() == ["| a | b |", "| --- | --- |", r"| x\|y | 1 |", "| line break | 2 |"]
    assert repr(table).splitlines()[0] == "a: x|y · b: 1"
    with pytest.raises(ValueError, match="rows\\[0\\] has 1 cells"):
        MarkdownTable(["a", "b"], [["x"]])
    with pytest.raises(ValueError, match="header"):
        MarkdownTable([], [])


def test_move_first_control_contract():
    move_first_control(concept_explorer(RESULTS, chapter=3))


def test_lecture_tables_say_what_is_missing_and_link_every_row(tmp_path):
    from metalearn_lib.faq_and_errata import ERRATA, FAQ, GLOSSARY, errata_rows, training_costs
    from metalearn_lib.widgets.faq_and_errata import costs_table, errata_table, faq_markdown, glossary_table

    missing = costs_table(training_costs(tmp_path))._repr_markdown_()
    assert missing.count("not measured") == len(training_costs(tmp_path))
    shown = errata_table(errata_rows(RESULTS))._repr_markdown_()
    assert shown.count(".ipynb#") == len(ERRATA) and "**wrong**" in shown
    glossary = glossary_table()
    assert [row[0] for row in glossary.rows] == [f"**{t}**" for t in sorted(GLOSSARY, key=str.lower)]
    assert len(GLOSSARY) >= 15
    faq = faq_markdown()
    assert len(FAQ) >= 8 and faq.count("→ [ch ") == len(FAQ)
