"""Chapter 8's synthesis figures: the course map read from the committed benchmark results, and the
curves over the rounds of a stream."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest

from metalearn_lib.plotting import overflowing_texts, problems
from metalearn_lib.widgets.applications_map import (
    LEARNED_CATEGORIES,
    course_map_entries,
    course_map_figure,
    round_curves_figure,
)
from tests.notebook_tools import REPO_ROOT

RESULTS = REPO_ROOT / "benchmarks" / "results"
EXPECTED_LEARNED = {1: "a prior", 2: "an initialisation", 3: "weights over models", 4: "step sizes / an update rule",
                    5: "an exploration strategy (in a memory)", 6: "an initialisation",
                    7: "an exploration strategy (in a memory)", 8: "— (what a learned prior costs)"}
_DECIMAL = re.compile(r"[−-]?\d+\.\d+")


def _load(name):
    return json.loads((RESULTS / name).read_text(encoding="utf-8"))


def _one(rows, **match):
    found = [r for r in rows if all(r.get(k) == v for k, v in match.items())]
    assert len(found) == 1, f"expected one row with {match}, found {len(found)}"
    return found[0]


def _shows(line: str, value: float) -> bool:
    """Whether ``line`` prints ``value``, rounded to the decimals it is printed with (≥ 1 decimal)."""
    for token in _DECIMAL.findall(line):
        number = token.replace("−", "-")
        decimals = len(number.split(".")[1])
        if abs(float(number) - value) <= 0.5 * 10 ** -decimals + 1e-12:
            return True
    return False


def _assert_shows(entry, *values):
    for value in values:
        assert _shows(entry["line"], value), f"chapter {entry['chapter']}: {value} not in {entry['line']!r}"


def _online_rows_file():
    """Where chapter 3's Hedge rows are: chapter 8's results file."""
    return "applications_full.json"


@pytest.fixture(scope="module")
def entries():
    return {e["chapter"]: e for e in course_map_entries(RESULTS)}


def test_every_chapter_is_placed_once_by_what_it_learns(entries):
    listed = course_map_entries(RESULTS)
    assert [e["chapter"] for e in listed] == list(range(1, 9))
    assert {c: e["learned"] for c, e in entries.items()} == EXPECTED_LEARNED
    assert {e["learned"] for e in listed} <= set(LEARNED_CATEGORIES)
    for entry in listed:
        assert {"chapter", "title", "learned", "line", "source"} <= set(entry) and entry["title"]
    for chapter in range(1, 8):  # chapters 1-7 have committed results
        assert entries[chapter]["measured"], entries[chapter]["line"]
        assert ".json" in entries[chapter]["source"]


def test_chapters_1_and_2_lines_are_the_json_numbers(entries):
    rows = [r for r in _load("mapping_full.json")["rows"] if r["family"].startswith("sinusoid") and r["shots"] == 2]
    learned, fixed = _one(rows, learner="learned prior (empirical Bayes)"), _one(rows, learner="fixed prior (λ = 1)")
    _assert_shows(entries[1], learned["mse"], learned["ci95"], fixed["mse"], fixed["ci95"],
                  _one(rows, learner="support mean")["mse"])
    assert entries[1]["source"].startswith("mapping_full.json")
    rows = [r for r in _load("sinusoid_full.json")["rows"] if r["test_shots"] == 5 and r["steps"] == 1]
    maml, pretrained = _one(rows, method="maml"), _one(rows, method="pretrained")
    _assert_shows(entries[2], maml["mse"], maml["ci95"], pretrained["mse"], pretrained["ci95"])
    assert entries[2]["source"].startswith("sinusoid_full.json")


def test_chapters_3_and_4_lines_are_the_json_numbers(entries):
    name = _online_rows_file()
    rows = [r for r in _load(name)["rows"] if r["experiment"] == "online_switching" and r.get("subset") == "all"]
    comparison = _one(rows, kind="comparison", method="hedge_fixed_share", baseline="hedge")
    share, plain = _one(rows, kind="summary", method="hedge_fixed_share"), _one(rows, kind="summary", method="hedge")
    _assert_shows(entries[3], comparison["loss_difference"], comparison["ci95"], share["loss"], plain["loss"])
    assert entries[3]["source"].startswith(name) and "Hedge" in entries[3]["line"]
    rows = [r for r in _load("teachers_full.json")["sections"]["meta_sgd"]["rows"]
            if r["test_shots"] == 5 and r["steps"] == 1]
    meta_sgd, maml = _one(rows, method="meta_sgd"), _one(rows, method="maml")
    _assert_shows(entries[4], meta_sgd["mse"], meta_sgd["ci95"], maml["mse"], maml["ci95"])


def test_chapters_5_to_7_lines_are_the_json_numbers(entries):
    config = _load("bandits_full.json")["configs"]["10,5"]
    rl2 = _one(config["rows"], policy="rl2")
    _assert_shows(entries[5], rl2["mean_reward"], rl2["ci95"], config["bayes_optimal_value"])
    assert "(n, k) = (10, 5)" in entries[5]["line"]
    rows = _load("maml_rl_full.json")["rows"]
    maml, pretrained = _one(rows, method="maml", steps=1), _one(rows, method="pretrained", steps=1)
    _assert_shows(entries[6], maml["mean_return"], maml["ci95"], pretrained["mean_return"], pretrained["ci95"])
    rows = [r for r in _load("meta_rl_mdps_full.json")["rows"] if r["env"] == "gridworld"]
    rl2, bayes = _one(rows, policy="rl2"), _one(rows, policy="bayes_optimal")
    _assert_shows(entries[7], rl2["mean_return"], rl2["ci95"], bayes["mean_return"],
                  100 * rl2["mean_return"] / bayes["mean_return"])


def test_chapter_8_line_is_the_json_numbers_or_says_not_measured(entries):
    line = entries[8]["line"]
    if not (RESULTS / "applications_full.json").exists():
        assert line == "not measured (applications_full.json missing)" and not entries[8]["measured"]
        return
    rows = [r for r in _load("applications_full.json")["rows"] if r["experiment"] == "shift_sinusoid"
            and r["shift_kind"] == "input" and math.isclose(r["shift"], 2.5) and r["steps"] == 1]
    if not rows:
        assert line.startswith("not measured yet") and not entries[8]["measured"]
        return
    maml, pretrained = _one(rows, method="maml"), _one(rows, method="pretrained")
    _assert_shows(entries[8], maml["nmse"], maml["nmse_ci95"], pretrained["nmse"], pretrained["nmse_ci95"])


def _shift_row(method, nmse, ci95):
    return {"experiment": "shift_sinusoid", "method": method, "shift_kind": "input", "shift": 2.5, "steps": 1,
            "mse": 9.0, "ci95": 1.0, "nmse": nmse, "nmse_ci95": ci95}


def test_lines_follow_the_files_and_missing_files_say_not_measured(tmp_path):
    data = _load("sinusoid_full.json")
    for row in data["rows"]:
        if row["method"] == "maml" and row["test_shots"] == 5 and row["steps"] == 1:
            row["mse"], row["ci95"] = 0.4321, 0.0555
    (tmp_path / "sinusoid_full.json").write_text(json.dumps(data), encoding="utf-8")
    multi_task = [{"experiment": "multi_task", "method": "multi_task_no_reg", "steps": 1, "mse": 3.875, "ci95": 0.25,
                   "tuned": True},
                  {"experiment": "multi_task", "method": "multi_task_no_reg", "steps": 1, "mse": 4.5, "ci95": 0.3,
                   "tuned": False},
                  {"experiment": "multi_task", "method": "maml", "steps": 1, "mse": 0.6625, "ci95": 0.0625,
                   "tuned": False}]
    applications = {"rows": [*multi_task, _shift_row("maml", 1.234, 0.0456), _shift_row("pretrained", 0.876, 0.0321)],
                    "multi_task": {"num_regressors": 123}}
    (tmp_path / "applications_full.json").write_text(json.dumps(applications), encoding="utf-8")
    entries = {e["chapter"]: e for e in course_map_entries(str(tmp_path))}
    _assert_shows(entries[2], 0.4321, 0.0555)
    assert "0.43 ± 0.06" in entries[2]["line"]
    for chapter, name in [(1, "mapping_full.json"), (4, "teachers_full.json"), (5, "bandits_full.json"),
                          (6, "maml_rl_full.json"), (7, "meta_rl_mdps_full.json")]:
        assert entries[chapter]["line"] == f"not measured ({name} missing)" and not entries[chapter]["measured"]
    # chapter 3 without Hedge rows anywhere: the averaged networks (tuned α) against MAML
    _assert_shows(entries[3], 3.875, 0.25, 0.6625, 0.0625)
    assert "123 networks" in entries[3]["line"] and not _shows(entries[3]["line"], 4.5)
    _assert_shows(entries[8], 1.234, 0.0456, 0.876, 0.0321)
    figure = course_map_figure(list(entries.values()))
    assert overflowing_texts(figure) == []


def test_chapter_8_without_its_rows_says_not_measured_yet(tmp_path):
    (tmp_path / "applications_full.json").write_text(json.dumps({"rows": [_shift_row("maml", 1.0, 0.1)]}),
                                                     encoding="utf-8")
    entries = {e["chapter"]: e for e in course_map_entries(tmp_path)}
    assert entries[8]["line"].startswith("not measured yet (applications_full.json") and not entries[8]["measured"]
    assert entries[3]["line"].startswith("not measured yet")  # no Hedge rows, no multi-task rows
    (tmp_path / "applications_full.json").unlink()
    entries = {e["chapter"]: e for e in course_map_entries(tmp_path)}
    assert entries[8]["line"] == "not measured (applications_full.json missing)"
    assert entries[3]["line"] == "not measured (applications_full.json missing)"


def test_a_missing_results_dir_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="results_dir.*benchmarks/results"):
        course_map_entries(tmp_path / "nowhere")
    with pytest.raises(TypeError, match="results_dir"):
        course_map_entries(3)
    (tmp_path / "bandits_full.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match="bandits_full.json is not valid JSON"):
        course_map_entries(tmp_path)


def test_map_has_one_marker_per_entry_where_it_belongs_and_no_cut_text(entries):
    listed = list(entries.values())
    figure = course_map_figure(listed)
    ax = figure.axes[0]
    markers = [line for line in ax.lines if line.get_gid() == "course-map-marker"]
    assert len(markers) == len(listed) == 8
    positions = sorted((float(m.get_ydata()[0]), float(m.get_xdata()[0])) for m in markers)
    assert positions == [(c, LEARNED_CATEGORIES.index(EXPECTED_LEARNED[c])) for c in range(1, 9)]
    assert ax.get_ylim()[0] > ax.get_ylim()[1]  # chapter 1 on top
    texts = [t.get_text().replace("\n", " ").replace("\u00a0", " ") for t in ax.texts]
    assert not any(re.search(r"±\s*\n|\n\s*±", t.get_text()) for t in ax.texts)  # "a ± b" never broken
    assert sorted(texts) == sorted(e["line"] for e in listed)  # every line beside its marker, wrapped only
    assert overflowing_texts(figure) == []
    assert 9.0 <= figure.get_size_inches()[0] <= 10.0


def test_map_rejects_bad_entries(entries):
    listed = list(entries.values())
    with pytest.raises(ValueError, match="learned must be one of"):
        course_map_figure([{**listed[0], "learned": "a dog"}])
    with pytest.raises(ValueError, match="each chapter may appear once"):
        course_map_figure([listed[0], listed[0]])
    with pytest.raises(ValueError, match="at least one chapter"):
        course_map_figure([])


def test_round_curves_draw_one_line_per_curve_over_rounds_with_the_legend_below():
    curves = {"online meta": [3.0, 2.0, 1.0, 0.5], "Hedge": [2.0, 2.0, 2.0], "frozen": np.full(5, 3.0)}
    figure = round_curves_figure(curves, ylabel="query MSE", title="switching")
    ax = figure.axes[0]
    assert len(ax.lines) == 3
    for line, values in zip(ax.lines, curves.values(), strict=True):
        np.testing.assert_array_equal(line.get_xdata(), np.arange(1, len(values) + 1))
        np.testing.assert_array_equal(line.get_ydata(), values)
    assert [t.get_text() for t in figure.legends[0].get_texts()] == list(curves)
    renderer = figure.canvas.get_renderer()
    assert figure.legends[0].get_window_extent(renderer).y1 <= ax.get_window_extent(renderer).y0  # hides no data
    assert problems(figure) == [] and overflowing_texts(figure) == []


def test_round_curves_smooth_by_a_trailing_moving_average():
    figure = round_curves_figure({"a": [1.0, 2.0, 3.0, 4.0, 5.0, 9.0]}, ylabel="loss", smooth=3)
    # m_t = mean of the last min(t, 3) values: 1, (1+2)/2, (1+2+3)/3, (2+3+4)/3, (3+4+5)/3, (4+5+9)/3
    np.testing.assert_allclose(figure.axes[0].lines[0].get_ydata(), [1.0, 1.5, 2.0, 3.0, 4.0, 6.0])
    assert "last 3 rounds" in figure.axes[0].get_xlabel()


def test_round_curves_say_what_they_cannot_draw():
    figure = round_curves_figure({"ok": [1.0, 2.0, 3.0, 4.0], "diverged": [1.0, np.nan, 3.0, np.inf]}, ylabel="loss")
    drawn = figure.axes[0].lines[1].get_ydata()
    assert np.isnan(drawn[[1, 3]]).all() and list(drawn[[0, 2]]) == [1.0, 3.0]
    assert problems(figure) == ["diverged: not finite at 2 rounds (from round 2): not drawn"]
    smoothed = round_curves_figure({"diverged": [1.0, np.nan, 3.0, 4.0, 5.0]}, ylabel="loss", smooth=2)
    assert np.isnan(smoothed.axes[0].lines[0].get_ydata()[[1, 2]]).all()  # the windows holding round 2
    assert problems(smoothed) == ["diverged: not finite at 2 rounds (from round 2): not drawn"]
    log = round_curves_figure({"regret": [0.0, 1.0, 10.0]}, ylabel="regret", log=True)
    assert log.axes[0].get_yscale() == "log"
    assert problems(log) == ["regret: ≤ 0 on the log axis at round 1: not drawn"]
    assert overflowing_texts(figure) == [] and overflowing_texts(log) == []


def test_round_curves_reject_bad_arguments():
    with pytest.raises(ValueError, match="at least one curve"):
        round_curves_figure({}, ylabel="loss")
    with pytest.raises(ValueError, match="smooth must be an int >= 1"):
        round_curves_figure({"a": [1.0]}, ylabel="loss", smooth=0)
    with pytest.raises(ValueError, match=r"curves\['a'\] must be 1-D"):
        round_curves_figure({"a": [[1.0, 2.0]]}, ylabel="loss")
    with pytest.raises(TypeError, match="curves must be a mapping"):
        round_curves_figure([1.0, 2.0], ylabel="loss")


def test_curves_kept_every_tenth_round_are_drawn_at_their_rounds():
    figure = round_curves_figure({"a": [1.0, 2.0, float("nan"), 4.0]}, ylabel="loss", every=10)
    (line,) = figure.axes[0].get_lines()
    assert list(line.get_xdata()) == [0, 10, 20, 30] and figure.axes[0].get_xlim() == (0, 30)
    assert any("at round 20" in t.get_text() for t in figure.axes[0].texts)
