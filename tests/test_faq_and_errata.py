"""Chapter 9's library: errata, costs and the concept graph read honestly from the results, links that land."""

from __future__ import annotations

import copy
import json
import re
import shutil

import nbformat
import pytest

from metalearn_lib.faq_and_errata import (
    CHAPTER_NOTEBOOKS,
    CONCEPTS,
    ERRATA,
    FAQ,
    GLOSSARY,
    VERDICTS,
    NotMeasured,
    ancestors,
    article_teacher_numbers,
    concept_results,
    errata_rows,
    heading_anchor,
    resolve,
    section_link,
    training_costs,
)
from tests.notebook_tools import REPO_ROOT
from tests.test_architecture import CHAPTER_MODULES, PACKAGE, course_imports, module_name

RESULTS = REPO_ROOT / "benchmarks" / "results"
NOTEBOOKS = REPO_ROOT / "notebooks"
LECTURE = NOTEBOOKS / "09_faq_and_errata.ipynb"


def _read_independently(file: str, path: tuple) -> float:
    """The number at ``path`` in ``file``, found without the library's resolver."""
    value = json.loads((RESULTS / file).read_text(encoding="utf-8"))
    for step in path:
        if isinstance(step, dict):
            matches = [row for row in value if all(row.get(k) == v for k, v in step.items())]
            assert len(matches) == 1, f"{file}: {len(matches)} rows match {step}"
            value = matches[0]
        else:
            value = value[step]
    return float(value)


def _all_quotes():
    quotes = [q for row in errata_rows(RESULTS) for q in row["quotes"]]
    quotes += [q for _, (_, found) in concept_results(RESULTS).items() for q in found]
    quotes += [q for row in training_costs(RESULTS) for q in row["quotes"]]
    return quotes


# ---------------------------------------------------------------------------------------------
# Quoted numbers agree with their source
# ---------------------------------------------------------------------------------------------
def test_every_quoted_number_equals_its_source_read_independently():
    quotes = _all_quotes()
    assert len(quotes) >= 40
    for quote in quotes:
        assert quote.value == pytest.approx(_read_independently(quote.file, quote.path), rel=1e-12), quote


def test_every_claim_has_measured_evidence_and_a_verdict():
    rows = errata_rows(RESULTS)
    assert [r["key"] for r in rows] == [e.key for e in ERRATA]
    assert len(rows) >= 10
    assert {r["verdict"] for r in rows} <= set(VERDICTS)
    for row in rows:
        assert not row["evidence"].startswith("not measured"), row
        assert re.search(r"\d", row["evidence"]), f"{row['key']}: evidence without a number"
        assert row["quotes"] or row["key"] in {"code_snippet", "tools"}, f"{row['key']} quotes nothing"
    # the article's claims the issue names are all covered
    covered = {r["key"] for r in rows}
    assert {"mapping", "two_level", "teacher_loop", "code_snippet", "model_averaging", "better_policies",
            "applications", "challenges", "tools"} <= covered


def _perturbed_copy(tmp_path, file: str, path: tuple, factor: float):
    folder = tmp_path / "results"
    shutil.copytree(RESULTS, folder)
    data = json.loads((folder / file).read_text(encoding="utf-8"))
    target = data
    for step in path[:-1]:
        target = resolve(target, [step], file)
    key = path[-1]
    target[key] = target[key] * factor
    (folder / file).write_text(json.dumps(data), encoding="utf-8")
    return folder


def test_a_changed_source_number_changes_the_quoted_text(tmp_path):
    """No number is typed into the text: change each quoted number in its file and the evidence follows."""
    baseline = errata_rows(RESULTS)
    checked = 0
    for index, row in enumerate(baseline):
        for number, quote in enumerate(row["quotes"][:2]):
            folder = _perturbed_copy(tmp_path / f"{index}_{number}", quote.file, quote.path, 1.37)
            changed = errata_rows(folder)[index]
            assert changed["evidence"] != row["evidence"], f"{row['key']}: {quote} is not what the text shows"
            checked += 1
    assert checked >= 12


def test_missing_results_are_said_not_crashed(tmp_path):
    rows = errata_rows(tmp_path)
    assert all(r["evidence"].startswith("not measured") for r in rows if r["key"] != "code_snippet")
    labels = concept_results(tmp_path)
    assert labels[2][0].startswith("not measured (sinusoid_full.json missing)")
    assert all(row["wall_s"] is None and row["missing"] for row in training_costs(tmp_path))
    with pytest.raises(FileNotFoundError, match="results_dir"):
        errata_rows(tmp_path / "nowhere")
    with pytest.raises(TypeError, match="results_dir"):
        errata_rows(3)


def test_resolve_names_what_is_missing():
    data = {"rows": [{"method": "a", "x": 1.0}, {"method": "b", "x": 2.0}, {"method": "b", "x": 3.0}]}
    assert resolve(data, ["rows", {"method": "a"}, "x"]) == 1.0
    with pytest.raises(NotMeasured, match="no row with method = c"):
        resolve(data, ["rows", {"method": "c"}, "x"], "f.json")
    with pytest.raises(ValueError, match="2 rows with method = b"):
        resolve(data, ["rows", {"method": "b"}], "f.json")
    with pytest.raises(NotMeasured, match="no 'cols'"):
        resolve(data, ["cols"], "f.json")


def test_the_article_teacher_stalls_above_not_learning():
    numbers = article_teacher_numbers(seed=3)
    assert numbers["loss_article"] > numbers["loss_zero"] > numbers["loss_star"] >= 0.0
    assert numbers["fixed_point_optimal"] == 0.0


def test_training_costs_cover_every_trainer_and_second_order_costs_more():
    rows = {r["what"]: r for r in training_costs(RESULTS)}
    assert {r["chapter"] for r in rows.values()} == {2, 4, 6, 7}
    assert rows["MAML (second order), sinusoids"]["wall_s"] > rows["first-order MAML, sinusoids"]["wall_s"]


def test_tools_file_names_the_three_tools_and_the_pinned_gymnasium():
    tools = json.loads((RESULTS / "tools_checked.json").read_text(encoding="utf-8"))
    assert [r["package"] for r in tools["rows"]] == ["gymnasium", "stable-baselines3", "cleanrl"]
    pinned = re.search(r"^gymnasium==(\S+)", (REPO_ROOT / "requirements.txt").read_text(), re.M).group(1)
    assert tools["rows"][0]["version"] == pinned


# ---------------------------------------------------------------------------------------------
# Links land on a heading
# ---------------------------------------------------------------------------------------------
def _headings(notebook: str) -> set[str]:
    nb = nbformat.read(NOTEBOOKS / notebook, as_version=4)
    return {line.lstrip("#").strip() for cell in nb.cells if cell.cell_type == "markdown"
            for line in cell.source.splitlines() if line.startswith("#")}


def test_every_linked_heading_exists_in_its_lecture():
    links = [(e.chapter, e.heading) for e in ERRATA] + [(q.chapter, q.heading) for q in FAQ]
    links += [(chapter, "Learning goals") for _, chapter in GLOSSARY.values()]
    for chapter, heading in links:
        assert heading in _headings(CHAPTER_NOTEBOOKS[chapter]), f"chapter {chapter} has no heading {heading!r}"


def test_every_link_in_the_lecture_lands_on_a_heading():
    nb = nbformat.read(LECTURE, as_version=4)
    texts = [cell.source for cell in nb.cells]
    texts += [str(output.get("data", {}).get("text/markdown", "")) for cell in nb.cells if cell.cell_type == "code"
              for output in cell.get("outputs", [])]
    # a destination may hold balanced parentheses, as CommonMark allows: "#Teacher-4:-…-(Meta-SGD)"
    links = re.findall(r"\]\(([0-9]{2}_[a-z_]+\.ipynb)#((?:[^()\s]|\([^()\s]*\))+)\)", "\n".join(texts))
    assert len(links) >= 25
    for notebook, anchor in links:
        assert anchor in {heading_anchor(h) for h in _headings(notebook)}, f"{notebook}#{anchor} lands nowhere"


def test_section_link_validates_its_arguments():
    assert section_link(2, "The inner loop: adapt to one task") == \
        "[ch 2 · The inner loop: adapt to one task](02_two_level_learning.ipynb#The-inner-loop:-adapt-to-one-task)"
    with pytest.raises(ValueError, match="chapter must be one of"):
        section_link(12, "x")
    with pytest.raises(ValueError, match="heading"):
        section_link(1, " ")


# ---------------------------------------------------------------------------------------------
# The concept graph, the README and the library agree
# ---------------------------------------------------------------------------------------------
def test_concept_nodes_match_the_readme_course_map():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Course map", 1)[1].split("\n\n", 2)[1]
    listed = re.findall(r"^\| \[`notebooks/([0-9]{2}_[a-z_]+\.ipynb)`\]", table, re.M)
    assert listed == [CHAPTER_NOTEBOOKS[c.chapter] for c in CONCEPTS]
    assert sorted(p.name for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")) == listed


def test_concept_edges_go_backward_and_cover_the_library_imports():
    chapter_of = {module: chapter for chapter, module in CHAPTER_MODULES.items()}
    assert [c.chapter for c in CONCEPTS] == sorted(CHAPTER_MODULES)
    for concept in CONCEPTS:
        assert all(parent < concept.chapter for parent in concept.builds_on)
    for path in PACKAGE.rglob("*.py"):
        module = module_name(path)
        if module not in chapter_of:
            continue
        for imported in course_imports(path) - {module}:
            if imported in chapter_of:
                assert chapter_of[imported] in ancestors(chapter_of[module]), \
                    f"{path.relative_to(PACKAGE)} imports chapter {chapter_of[imported]}, which chapter " \
                    f"{chapter_of[module]} does not build on in CONCEPTS"


def test_no_arrow_of_the_map_crosses_another_node():
    from metalearn_lib.widgets.faq_and_errata import _BOX_HALF_HEIGHT, _BOX_HALF_WIDTH

    where = {c.chapter: c.position for c in CONCEPTS}
    for concept in CONCEPTS:
        for parent in concept.builds_on:
            (x0, y0), (x1, y1) = where[parent], where[concept.chapter]
            for other, (x, y) in where.items():
                if other in (parent, concept.chapter):
                    continue
                for step in range(1, 400):
                    t = step / 400
                    px, py = x0 + t * (x1 - x0), y0 + t * (y1 - y0)
                    assert not (abs(px - x) < _BOX_HALF_WIDTH + 0.03 and abs(py - y) < _BOX_HALF_HEIGHT + 0.02), \
                        f"the arrow {parent} → {concept.chapter} crosses node {other}"


def test_ancestors():
    assert ancestors(0) == set()
    assert ancestors(7) == {0, 1, 5}
    assert ancestors(9) == set(range(9))
    with pytest.raises(ValueError, match="chapter must be one of"):
        ancestors(10)


def test_every_glossary_term_appears_in_the_chapter_that_introduces_it():
    for term, (meaning, chapter) in GLOSSARY.items():
        assert meaning
        nb = nbformat.read(NOTEBOOKS / CHAPTER_NOTEBOOKS[chapter], as_version=4)
        text = " ".join(" ".join(cell.source.split()) for cell in nb.cells).lower().replace("-", " ")
        assert term.lower().replace("-", " ") in text, f"{term!r} does not appear in chapter {chapter}'s lecture"


def test_the_lecture_shows_the_current_evidence():
    """The committed outputs of lecture 09 quote what the results files say now (re-run it when they change)."""
    nb = nbformat.read(LECTURE, as_version=4)
    shown = "\n".join(str(output.get("data", {}).get("text/markdown", "")) for cell in nb.cells
                      if cell.cell_type == "code" for output in cell.get("outputs", []))
    for row in errata_rows(RESULTS):
        assert row["evidence"] in shown, f"lecture 09 does not show the current evidence of {row['key']}"


def test_rows_are_fresh_copies():
    first = errata_rows(RESULTS)
    second = copy.deepcopy(first)
    first[0]["evidence"] = "changed"
    assert errata_rows(RESULTS)[0]["evidence"] == second[0]["evidence"]
