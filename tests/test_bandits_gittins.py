"""Gittins indices of Beta-Bernoulli arms by calibration: the published table, shape, validation."""

from __future__ import annotations

import numpy as np
import pytest

from metalearn_lib.bandits.gittins import continuation_advantage, default_depth, gittins_index, gittins_table

#: Gittins, Glazebrook & Weber (2011), Bernoulli tables at γ = 0.9: (a, b) ↦ ν(a, b).
PUBLISHED_09 = {(1, 1): 0.7029, (2, 1): 0.8001, (3, 1): 0.8452, (1, 2): 0.5001, (2, 2): 0.6346, (1, 3): 0.3796}


@pytest.mark.parametrize("state, expected", PUBLISHED_09.items(), ids=[str(s) for s in PUBLISHED_09])
def test_reproduces_the_published_table_to_4_decimals(state, expected):
    assert round(gittins_index(*state, 0.9), 4) == expected


def test_the_table_route_reproduces_it_too():
    table = gittins_table(3, 0.9)
    assert table.shape == (4, 4)
    for (a, b), expected in PUBLISHED_09.items():
        assert round(float(table[a - 1, b - 1]), 4) == expected  # table[s, f] = ν(1 + s, 1 + f)


def test_table_matches_single_state_bisection():
    table = gittins_table(20, 0.95)
    for a, b in [(1, 1), (4, 2), (2, 9), (11, 11), (21, 1), (1, 21), (15, 6)]:
        assert table[a - 1, b - 1] == pytest.approx(gittins_index(a, b, 0.95), abs=5e-5)


def test_index_grows_with_successes_and_shrinks_with_failures():
    table = gittins_table(15, 0.9)
    assert np.all(np.diff(table, axis=0) > 0)  # more successes (a) → larger index
    assert np.all(np.diff(table, axis=1) < 0)  # more failures (b) → smaller index


def test_index_exceeds_the_posterior_mean_and_stays_below_one():
    table = gittins_table(15, 0.9)
    a, b = np.meshgrid(np.arange(1, 17), np.arange(1, 17), indexing="ij")
    assert np.all(table > a / (a + b))  # the option to learn is worth something
    assert np.all(table < 1.0)


def test_index_grows_with_the_discount_and_tends_to_the_mean_when_myopic():
    values = [gittins_index(2, 3, g) for g in (0.01, 0.5, 0.9, 0.95)]
    assert values == sorted(values)
    assert values[0] == pytest.approx(2 / 5, abs=0.01)


def test_continuation_advantage_changes_sign_at_the_index():
    nu = gittins_index(3, 2, 0.9)
    adv = continuation_advantage(3, 2, 0.9, [0.0, nu - 1e-4, nu + 1e-4, 1.0])
    assert adv[0] > 0 and adv[1] > 0 and adv[2] < 0 and adv[3] < 0
    assert np.all(np.diff(adv) < 0)


def test_truncation_is_converged_at_the_default_depth():
    assert default_depth(0.9) == 300 and default_depth(0.99) == 1000 and default_depth(0.5) == 300
    assert gittins_index(2, 2, 0.9, depth=450) == pytest.approx(gittins_index(2, 2, 0.9), abs=1e-9)


@pytest.mark.slow
def test_truncation_at_gamma_099_moves_indices_by_less_than_1e6():
    for a, b in [(1, 1), (5, 3)]:
        assert gittins_index(a, b, 0.99, depth=2000) == pytest.approx(gittins_index(a, b, 0.99), abs=1e-6)


def test_table_is_cached_and_read_only():
    table = gittins_table(5, 0.8)
    assert gittins_table(5, 0.8) is table
    with pytest.raises(ValueError):
        table[0, 0] = 1.0


@pytest.mark.parametrize("discount", [0.0, 1.0, 1.5, -0.2, float("nan")])
def test_discount_must_lie_strictly_between_0_and_1(discount):
    with pytest.raises(ValueError, match="discount"):
        gittins_index(1, 1, discount)
    with pytest.raises(ValueError, match="discount"):
        gittins_table(2, discount)


def test_bad_arguments_name_themselves():
    with pytest.raises(ValueError, match="a must be"):
        gittins_index(0, 1, 0.9)
    with pytest.raises(TypeError, match="b must be"):
        gittins_index(1, 1.5, 0.9)
    with pytest.raises(TypeError, match="discount"):
        gittins_index(1, 1, "0.9")
    with pytest.raises(ValueError, match="depth"):
        gittins_index(1, 1, 0.9, depth=0)
    with pytest.raises(ValueError, match="tol"):
        gittins_index(1, 1, 0.9, tol=0.0)
    with pytest.raises(ValueError, match="max_count"):
        gittins_table(-1, 0.9)
    with pytest.raises(ValueError, match="grid"):
        gittins_table(2, 0.9, grid=1)
    with pytest.raises(ValueError, match="lambdas"):
        continuation_advantage(1, 1, 0.9, [[0.5]])
