"""Autograding end to end: solutions/ → nbgrader → simulated students → the points in the gradebook.

One temporary nbgrader course holds every chapter's solution notebook as ``source/psNN/``.
``nbgrader generate_assignment`` releases them; each student's submission is built from the
RELEASED notebook the way a learner edits it (the ``# YOUR CODE HERE`` stub of an answer cell
replaced by a body), placed where ``nbgrader collect`` puts it (``submitted/<student>/psNN/``),
and a single ``nbgrader autograde`` call grades them all. The points of every grade cell are
then read from nbgrader's own gradebook and must equal the expected ones exactly:

* ``correct``  — the body is the solution notebook's own solution region: full points;
* ``missing``  — the released stub left as it is (``raise NotImplementedError()``): 0;
* ``wrong``    — a plausible wrong body that returns the right shape: 0;
* ``raises``   — a plausible body that raises inside the function: 0;
* ``tamper-check``   — a wrong body, and the locked check cell replaced by ``pass``: 0
  (nbgrader restores locked cells from its database before running the notebook);
* ``tamper-imports`` — a wrong body, and the locked imports cell redefining the check as a
  no-op: 0 (the same restoration);
* ``shadowed`` — the stub left, and the ANSWER cell (which a learner may edit) redefining the
  check as a no-op: full points. This documents what nbgrader does not catch: the checks run in
  the learner's kernel (docs/teaching.md says so and how to spot it).

Expected points come from the solution notebooks' nbgrader metadata, never retyped. The whole
file runs one ``generate_assignment`` and one ``autograde`` (about 70 s on the
2-core CI machine); nothing needs the network.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import nbformat
import pytest

from tests.nbgrader_tools import (
    SOLUTION_REGION,
    add_source,
    exercises,
    make_course,
    nbgrader_meta,
    require_nbgrader,
    run_nbgrader,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = REPO_ROOT / "solutions"
CELL_TIMEOUT_S = 120  # one cell; the slowest check or "at work" cell takes a few seconds

_STUB = re.compile(r"^(?P<indent>[ \t]*)# YOUR CODE HERE\n(?P=indent)raise NotImplementedError\(\)", re.M)

# --------------------------------------------------------------------------------------------
# The simulated students
# --------------------------------------------------------------------------------------------

#: What each student does with each exercise of a chapter, in the notebook's order.
PLAN: dict[str, dict[str, tuple[str, ...]]] = {
    "alice": {
        "00": ("correct",),
        "01": ("correct", "missing", "wrong"),
        "02": ("correct", "wrong", "missing"),
        "03": ("correct", "raises"),
        "04": ("wrong", "shadowed", "correct"),
        "05": ("missing", "correct", "tamper-imports"),
        "06": ("raises", "correct", "wrong"),
        "07": ("wrong", "correct", "missing"),
        "08": ("correct", "missing", "wrong"),
    },
    "bob": {"00": ("tamper-check",)},  # chapter 0 has one exercise: a second student for its zero
}
FULL_POINTS = {"correct", "shadowed"}

#: Plausible mistakes (function bodies), by the answer cell's grade_id, for the wrong/raising cases.
MISTAKES: dict[str, str] = {
    # no shift by the maximum: exp overflows on large scores
    "stable-softmax": """
        exps = np.exp(np.asarray(scores, dtype=np.float64) / temperature)
        return exps / exps.sum(axis=-1, keepdims=True)
    """,
    # gradient ascent instead of descent on the prior
    "prior-update": """
        with tf.GradientTape() as tape:
            tape.watch([prior_mean, prior_log_precision])
            precision = tf.exp(prior_log_precision)
            weights = ridge_fit(linear_features(batch.support_x), batch.support_y, prior_mean, precision)
            predictions = tf.matmul(linear_features(batch.query_x), weights[:, :, tf.newaxis])
            loss = tf.reduce_mean(tf.square(predictions - batch.query_y))
        grad_mean, grad_log_precision = tape.gradient(loss, [prior_mean, prior_log_precision])
        return prior_mean + outer_lr * grad_mean, prior_log_precision + outer_lr * grad_log_precision
    """,
    # the adapted parameters scored on the support set instead of the query set
    "maml-outer-loss": """
        adapted = inner_step(params, batch.support_x, batch.support_y, inner_lr)
        return tf.reduce_mean(mse(forward(adapted, batch.support_x), batch.support_y))
    """,
    # raises: a 1-D weight vector has no axis 1
    "hedge-update": """
        weights = np.asarray(weights, dtype=np.float64) * np.exp(-learning_rate * np.asarray(losses))
        return weights / weights.sum(axis=1)
    """,
    # the sign: a step up the loss
    "gradient-teacher-update": """
        return [learning_rate * g for g in grads]
    """,
    # myopic: the immediate expected reward only, no look-ahead
    "bayes-q-values": """
        return (1 + successes) / (2 + successes + failures)
    """,
    # raises: one step past the last time step
    "reward-to-go": """
        returns = np.zeros_like(rewards, dtype=float)
        for t in range(rewards.shape[1] + 1):
            returns[:, t] = rewards[:, t:].sum(axis=1)
        return returns
    """,
    # descent on a return that should go up
    "inner-step@06": """
        with tf.GradientTape() as tape:
            tape.watch(params)
            total = tf.reduce_sum(objective(params))
        grads = tape.gradient(total, params)
        return [theta - inner_lr * g for theta, g in zip(params, grads, strict=True)]
    """,
    # myopic: Q_h = r, no value of the steps left
    "value-iteration": """
        num_states, num_actions = reward_means.shape
        Q = np.broadcast_to(reward_means, (horizon, num_states, num_actions)).copy()
        V = np.concatenate([Q.max(axis=-1), np.zeros((1, num_states))])
        return Q, V
    """,
    # no adaptation: the query loss at the initialisation (plain pretraining)
    "online-meta-update": """
        with tf.GradientTape() as tape:
            tape.watch(init_params)
            query_loss = tf.reduce_mean(mse(forward(init_params, query_x), query_y))
        grads = tape.gradient(query_loss, init_params)
        return [p - meta_lr * g for p, g in zip(init_params, grads, strict=True)]
    """,
}
NO_OP_CHECK = '{name} = lambda function: print("✅ all checks passed.")'


def fill_stub(released: str, body: str) -> str:
    """``released`` (an answer cell as nbgrader releases it) with its stub replaced by ``body``."""
    match = _STUB.search(released)
    assert match, f"no `# YOUR CODE HERE` stub in:\n{released}"
    indented = textwrap.indent(textwrap.dedent(body).strip("\n"), match["indent"])
    return released[: match.start()] + indented + released[match.end():]


def solution_body(solution: str) -> str:
    """The text of the single solution region of an answer cell (what the learner should write)."""
    regions = SOLUTION_REGION.findall(solution)
    assert len(regions) == 1, f"expected one solution region, found {len(regions)}"
    return regions[0]


def _check_name(nb, check_id: str) -> str:
    """The check function a check cell calls (``check_ridge_fit(ridge_fit)`` → ``check_ridge_fit``)."""
    source = next(c.source for c in nb.cells if nbgrader_meta(c).get("grade_id") == check_id)
    return re.match(r"\s*(\w+)\(", source)[1]


def submission(released_path: Path, plan: tuple[str, ...], chapter: str) -> nbformat.NotebookNode:
    """The released notebook as one student hands it in, following ``plan`` exercise by exercise."""
    nb = nbformat.read(released_path, as_version=4)
    cells = {nbgrader_meta(c).get("grade_id"): c for c in nb.cells}
    chapter_exercises = exercises(SOLUTIONS / released_path.name)
    assert len(plan) == len(chapter_exercises), f"{released_path.name}: the plan has {len(plan)} entries"
    for exercise, case in zip(chapter_exercises, plan, strict=True):
        answer = cells[exercise.answer_id]
        mistake = MISTAKES.get(f"{exercise.answer_id}@{chapter}", MISTAKES.get(exercise.answer_id))
        if case == "correct":
            answer.source = fill_stub(answer.source, solution_body(exercise.solution))
        elif case in {"wrong", "raises", "tamper-check", "tamper-imports"}:
            assert mistake, f"no mistake written for {exercise.answer_id}"
            answer.source = fill_stub(answer.source, mistake)
        elif case == "shadowed":
            answer.source += "\n\n" + NO_OP_CHECK.format(name=_check_name(nb, exercise.check_id))
        else:
            assert case == "missing", case
        if case == "tamper-check":
            cells[exercise.check_id].source = "pass"
        if case == "tamper-imports":
            cells["imports"].source += "\n" + NO_OP_CHECK.format(name=_check_name(nb, exercise.check_id))
    return nb


# --------------------------------------------------------------------------------------------
# The course, graded once for the whole file
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def graded_course(tmp_path_factory) -> Path:
    require_nbgrader()
    course = make_course(tmp_path_factory.mktemp("autograding") / "course", cell_timeout_s=CELL_TIMEOUT_S)
    for path in sorted(SOLUTIONS.glob("*_exercises.ipynb")):
        add_source(course, f"ps{path.name[:2]}", [path])
    run_nbgrader(course, "generate_assignment", "--assignment=*", "--force")
    for student, chapters in PLAN.items():
        for chapter, plan in chapters.items():
            (released,) = (course / "release" / f"ps{chapter}").glob("*.ipynb")
            folder = course / "submitted" / student / f"ps{chapter}"  # where `nbgrader collect` puts it
            folder.mkdir(parents=True)
            nbformat.write(submission(released, plan, chapter), folder / released.name)
            (folder / "timestamp.txt").write_text("2026-11-25 10:30:00 UTC\n", encoding="utf-8")
    run_nbgrader(course, "autograde", "--assignment=*", "--force", timeout_s=600)
    return course


def _expected_and_graded(course: Path, student: str, chapter: str) -> tuple[dict, dict]:
    from nbgrader.api import Gradebook

    (solution,) = SOLUTIONS.glob(f"{chapter}_*_exercises.ipynb")
    plan = PLAN[student][chapter]
    expected = {e.check_id: (e.points if case in FULL_POINTS else 0.0)
                for e, case in zip(exercises(solution), plan, strict=True)}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        graded = {cell: gradebook.find_grade(cell, solution.stem, f"ps{chapter}", student).score for cell in expected}
        total = gradebook.find_submission_notebook(solution.stem, f"ps{chapter}", student).score
    assert total == pytest.approx(sum(graded.values()))
    return expected, graded


CHAPTER_STUDENTS = [(student, chapter) for student, chapters in PLAN.items() for chapter in chapters]


@pytest.mark.slow
@pytest.mark.parametrize(("student", "chapter"), CHAPTER_STUDENTS, ids=[f"{s}-ps{c}" for s, c in CHAPTER_STUDENTS])
def test_points_per_exercise_are_the_expected_ones(graded_course, student, chapter):
    expected, graded = _expected_and_graded(graded_course, student, chapter)
    cases = dict(zip(expected, PLAN[student][chapter], strict=True))
    assert graded == expected, f"{student}, ps{chapter}: cases {cases}"


@pytest.mark.slow
def test_every_case_and_every_chapter_is_exercised():
    plans = [plan for chapters in PLAN.values() for plan in chapters.values()]
    assert {case for plan in plans for case in plan} == {
        "correct", "missing", "wrong", "raises", "tamper-check", "tamper-imports", "shadowed"
    }
    chapters = {path.name[:2] for path in SOLUTIONS.glob("*_exercises.ipynb")}
    assert set(PLAN["alice"]) == chapters
    for chapter in chapters:  # every chapter gives full points somewhere and zero somewhere
        cases = {case for student in PLAN for case in PLAN[student].get(chapter, ())}
        assert cases & FULL_POINTS and cases - FULL_POINTS, chapter


@pytest.mark.slow
def test_tampered_locked_cells_are_restored_before_grading(graded_course):
    """The autograded notebooks run the teacher's check and imports cells, not the student's edits."""
    for student, chapter, grade_id in (("bob", "00", None), ("alice", "05", "imports")):
        (solution,) = SOLUTIONS.glob(f"{chapter}_*_exercises.ipynb")
        source = nbformat.read(solution, as_version=4)
        graded = nbformat.read(graded_course / "autograded" / student / f"ps{chapter}" / solution.name, as_version=4)
        ids = [grade_id] if grade_id else [e.check_id for e in exercises(solution)]
        for cell_id in ids:
            original = next(c.source for c in source.cells if nbgrader_meta(c).get("grade_id") == cell_id)
            ran = next(c for c in graded.cells if nbgrader_meta(c).get("grade_id") == cell_id)
            assert ran.source == original, (student, chapter, cell_id)
        if grade_id is None:  # the restored check ran and failed, visibly, in the graded notebook
            check = next(c for c in graded.cells if nbgrader_meta(c).get("grade"))
            assert any(output.get("output_type") == "error" for output in check.outputs)


def test_a_correct_answer_is_the_solution_cell_without_its_markers():
    """The simulated learner edits only the released stub: filled with the solution region, an answer
    cell of exercises/ (which equals nbgrader's release, tests/test_authoring.py) is the solution."""
    for path in sorted(SOLUTIONS.glob("*_exercises.ipynb")):
        released = {nbgrader_meta(c).get("grade_id"): c.source
                    for c in nbformat.read(REPO_ROOT / "exercises" / path.name, as_version=4).cells}
        for exercise in exercises(path):
            filled = fill_stub(released[exercise.answer_id], solution_body(exercise.solution))
            unmarked = re.sub(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", "", exercise.solution, flags=re.M)
            assert filled.rstrip() == unmarked.rstrip(), (path.name, exercise.answer_id)
    with pytest.raises(AssertionError, match="no `# YOUR CODE HERE` stub"):
        fill_stub("def f():\n    return 1", "return 2")


def test_the_course_config_pins_root_course_and_gradebook(tmp_path):
    course = make_course(tmp_path / "course", cell_timeout_s=7)
    folder = add_source(course, "ps00", [SOLUTIONS / "00_welcome_exercises.ipynb"])
    assert sorted(p.name for p in folder.iterdir()) == ["00_welcome_exercises.ipynb"]
    config = (course / "nbgrader_config.py").read_text(encoding="utf-8")
    for line in (f"c.CourseDirectory.root = {str(course)!r}", "c.CourseDirectory.course_id = 'metalearn'",
                 f"c.CourseDirectory.db_url = {'sqlite:///' + str(course / 'gradebook.db')!r}",
                 "c.ExecutePreprocessor.timeout = 7"):
        assert line in config.splitlines()
