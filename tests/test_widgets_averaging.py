"""The averaging explorer of ``03_model_averaging``, driven as a learner drives it: set a control, read the screen."""

from __future__ import annotations

import numpy as np
import pytest

from metalearn_lib.averaging import bma_weights, ensemble_predict, performance_weights, run_hedge
from metalearn_lib.models import init_mlp
from metalearn_lib.widgets.averaging import RULES, Pool, averaging_explorer, pool_figure, regret_figure
from tests.check_tools import assert_every_setting_follows_the_kit, move_first_control

#: Untrained members stand in for trained ones (the widget only combines them).
MEMBERS = [init_mlp([1, 16, 1], seed=s, init="he") for s in range(4)]
_rng = np.random.default_rng(0)
VAL_X = _rng.uniform(-3, 3, (20, 1))
TEST_X = _rng.uniform(-3, 3, (50, 1))
VALIDATION = (VAL_X, np.sin(VAL_X))
TEST = (TEST_X, np.sin(TEST_X))
GRID = np.linspace(-3, 3, 60)


@pytest.fixture(scope="module")
def app():
    return averaging_explorer(MEMBERS, VALIDATION, TEST, GRID, truth=np.sin(GRID), noise_std=0.5)


@pytest.fixture(autouse=True)
def _reset(app):
    yield
    app.controls["temperature"].value = 0.1
    app.controls["rule"].value = RULES[0]


def test_controls_are_the_temperature_first_then_the_rule(app):
    assert list(app.controls) == ["temperature", "rule"]
    assert tuple(app.controls["rule"].options) == RULES
    assert app.controls["temperature"].value == pytest.approx(0.1)


def test_default_view_is_the_softmax_of_negated_validation_losses(app):
    pool = app.pool
    view = app.view
    np.testing.assert_allclose(view.data["weights"], performance_weights(pool.val_mse, 0.1, kind="loss"))
    direct = ensemble_predict(MEMBERS, TEST_X.astype(np.float32), view.data["weights"]).numpy()[:, 0]
    assert view.data["ensemble_mse"] == pytest.approx(np.mean((direct - TEST[1][:, 0]) ** 2), rel=1e-5)
    assert view.data["best_mse"] == pytest.approx(pool.test_mse[int(np.argmin(pool.val_mse))])
    assert f"ensemble {view.data['ensemble_mse']:.3f}" in app.readout.value
    assert f"uniform {view.data['uniform_mse']:.3f}" in app.readout.value
    assert bytes(app.image.value).startswith(b"\x89PNG")


def test_moving_the_first_control_changes_the_readout_and_the_picture(app):
    """The browser test moves the first control in the container; both outputs must react."""
    weights = app.view.data["weights"]
    move_first_control(app)
    assert not np.allclose(app.view.data["weights"], weights)
    assert "τ = 1.1" in app.readout.value


def test_temperature_goes_from_greedy_to_uniform(app):
    app.controls["temperature"].value = 0.001
    assert app.view.data["weights"].max() == pytest.approx(1.0)
    app.controls["temperature"].value = 100.0
    flat = app.view.data["weights"]
    np.testing.assert_allclose(flat, performance_weights(app.pool.val_mse, 100.0, kind="loss"))
    assert flat.max() - flat.min() < 0.1 * (app.pool.val_mse.max() - app.pool.val_mse.min())


def test_each_rule_gives_its_weights(app):
    pool = app.pool
    app.controls["rule"].value = RULES[1]
    np.testing.assert_allclose(app.view.data["weights"], bma_weights(pool.log_likelihood / 0.1))
    app.controls["rule"].value = RULES[2]
    np.testing.assert_allclose(app.view.data["weights"], 0.25)
    assert app.view.data["ensemble_mse"] == pytest.approx(app.view.data["uniform_mse"])
    app.controls["rule"].value = RULES[3]
    assert app.view.data["weights"][pool.best] == 1.0
    assert app.view.data["ensemble_mse"] == pytest.approx(app.view.data["best_mse"])


def test_every_setting_follows_the_widget_kit(app):
    assert assert_every_setting_follows_the_kit(app) == 2 + len(RULES)
    assert app._repr_mimebundle_()[0]["text/plain"].startswith(RULES[0])


def test_figures_have_the_expected_panels():
    pool = Pool(MEMBERS, VALIDATION, TEST, GRID)
    figure = pool_figure(pool, np.full(4, 0.25))
    assert len(figure.axes) == 2 and figure.axes[0].get_title() == "weights"
    losses = np.random.default_rng(1).uniform(size=(100, 3))
    assert len(regret_figure(run_hedge(losses)).axes[0].lines) == 2


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda: averaging_explorer(MEMBERS, VALIDATION, TEST, GRID, rule="median"), ValueError, "rule"),
    (lambda: averaging_explorer(MEMBERS, VALIDATION, TEST, GRID, temperature=0.0), ValueError, "temperature"),
    (lambda: averaging_explorer(MEMBERS, VALIDATION, TEST, GRID, names=["a"]), ValueError, "names"),
    (lambda: averaging_explorer(MEMBERS, (VAL_X,), TEST, GRID), TypeError, "validation"),
    (lambda: averaging_explorer(MEMBERS, VALIDATION, (TEST_X, TEST_X[:3]), GRID), ValueError, "test"),
    (lambda: averaging_explorer(MEMBERS, VALIDATION, TEST, GRID, truth=GRID[:3]), ValueError, "truth"),
    (lambda: averaging_explorer(MEMBERS, VALIDATION, TEST, GRID, noise_std=-1.0), ValueError, "noise_std"),
    (lambda: averaging_explorer([], VALIDATION, TEST, GRID), ValueError, "params_list"),
])
def test_bad_arguments_are_rejected_with_a_clear_message(call, error, match):
    with pytest.raises(error, match=match):
        call()
