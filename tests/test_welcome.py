"""Chapter 0's library module: the stable softmax."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from metalearn_lib.welcome import naive_softmax, stable_softmax, validate_temperature
from tests.notebook_tools import solution_namespace


def test_matches_the_formula_on_small_scores():
    scores = np.array([1.0, 2.0, 3.0])
    expected = np.exp(scores) / np.exp(scores).sum()
    np.testing.assert_allclose(stable_softmax(scores), expected, rtol=1e-12)
    np.testing.assert_allclose(naive_softmax(scores), expected, rtol=1e-12)


def test_large_scores_do_not_overflow_where_the_naive_formula_does():
    scores = np.array([1000.0, 1001.0, 1002.0])
    assert np.all(np.isnan(naive_softmax(scores)))
    np.testing.assert_allclose(stable_softmax(scores), stable_softmax(scores - 1000.0), rtol=1e-12)


def test_temperature_limits():
    scores = np.array([0.3, 2.0, -1.0, 1.9])
    np.testing.assert_allclose(stable_softmax(scores, 1e-3), [0, 1, 0, 0], atol=1e-12)
    np.testing.assert_allclose(stable_softmax(scores, 1e6), np.full(4, 0.25), atol=1e-5)


def test_rows_of_a_batch_are_normalised_separately():
    weights = stable_softmax([[1.0, 2.0], [5.0, 5.0]])
    np.testing.assert_allclose(weights.sum(axis=-1), [1.0, 1.0])
    np.testing.assert_allclose(weights[1], [0.5, 0.5])


@settings(max_examples=200, deadline=None)
@given(
    scores=arrays(np.float64, st.integers(1, 8), elements=st.floats(-1e4, 1e4)),
    temperature=st.floats(1e-2, 1e2),
    shift=st.floats(-1e3, 1e3),
)
def test_properties(scores, temperature, shift):
    weights = stable_softmax(scores, temperature)
    assert np.all(weights >= 0) and np.all(np.isfinite(weights))
    assert weights.sum() == pytest.approx(1.0, abs=1e-9)
    # only differences of scores matter
    np.testing.assert_allclose(stable_softmax(scores + shift, temperature), weights, atol=1e-6)
    # order-preserving: a higher score never gets a smaller weight
    order = np.argsort(scores, kind="stable")
    assert np.all(np.diff(weights[order]) >= -1e-12)


@pytest.mark.parametrize("temperature", [0.0, -1.0, float("nan"), float("inf")])
def test_bad_temperature_value(temperature):
    with pytest.raises(ValueError, match="temperature"):
        stable_softmax([1.0, 2.0], temperature)


@pytest.mark.parametrize("temperature", ["1", None, True])
def test_bad_temperature_type(temperature):
    with pytest.raises(TypeError, match="temperature"):
        validate_temperature(temperature)


@pytest.mark.parametrize("scores", [[], np.zeros((2, 0)), 3.0, [1.0, float("nan")], [float("inf"), 1.0]])
def test_bad_scores(scores):
    with pytest.raises(ValueError, match="scores"):
        stable_softmax(scores)


def test_the_solution_notebooks_inline_softmax_equals_the_library():
    inline = solution_namespace("solutions/00_welcome_exercises.ipynb")["stable_softmax"]
    rng = np.random.default_rng(0)
    for temperature in (0.05, 1.0, 7.0):
        scores = rng.normal(scale=500.0, size=(5, 6))
        np.testing.assert_allclose(inline(scores, temperature), stable_softmax(scores, temperature), rtol=1e-12)
