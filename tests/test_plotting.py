"""The one plotting style."""

from __future__ import annotations

import pytest

from metalearn_lib.plotting import COLORS, bar_weights, figure_to_png, new_figure


def test_new_figure_returns_a_2d_axes_grid():
    figure, axes = new_figure(2, 3)
    assert axes.shape == (2, 3)
    assert figure.get_size_inches().tolist() == [6.0, 3.5]


def test_png_rendering_is_deterministic():
    def draw() -> bytes:
        figure, axes = new_figure()
        bar_weights(axes[0, 0], ["a", "b"], [0.25, 0.75], title="t")
        return figure_to_png(figure)

    assert draw() == draw()


def test_bar_colours_come_from_the_course_palette():
    figure, axes = new_figure()
    bar_weights(axes[0, 0], ["a", "b", "c"], [0.2, 0.3, 0.5])
    from matplotlib.colors import to_hex

    assert [to_hex(p.get_facecolor()) for p in axes[0, 0].patches] == [c.lower() for c in COLORS[:3]]


@pytest.mark.parametrize("kwargs", [{"nrows": 0}, {"ncols": -1}, {"width": 0}, {"height": -2.0}])
def test_new_figure_validates(kwargs):
    with pytest.raises(ValueError):
        new_figure(**kwargs)


def test_bar_weights_validates_lengths():
    figure, axes = new_figure()
    with pytest.raises(ValueError, match="same length"):
        bar_weights(axes[0, 0], ["a"], [0.5, 0.5])
