"""Helpers shared by the tests of the exercise checks and the widgets."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from metalearn_lib.checks import CheckFailed
from metalearn_lib.widgets import WidgetApp


def verdict_of(check: Callable[[Any], None], implementation: Callable[..., Any]) -> str:
    """The verdict ``check`` gives ``implementation``, which must fail it the friendly way.

    Asserts the verdict shows expected / got / hint and no traceback; returns it with runs of
    whitespace collapsed (hints are wrapped at 88 columns: compare words, not lines).
    """
    with pytest.raises(CheckFailed) as failure:
        check(implementation)
    verdict = str(failure.value)
    assert verdict.startswith("❌ ")
    assert "expected:" in verdict and "got:" in verdict and "hint:" in verdict
    rendered = "\n".join(failure.value._render_traceback_())
    assert "Traceback" not in rendered and 'File "' not in rendered
    return " ".join(verdict.split())


def move_first_control(app: WidgetApp) -> tuple[str, bytes]:
    """Move the container's first control one step, as the browser test does; assert that both
    the readout and the picture changed, and return the readout and picture from before."""
    first = next(iter(app.controls.values()))
    readout, image = app.readout.value, bytes(app.image.value)
    first.value = first.value + 1
    assert app.readout.value != readout, "moving the first control must change the readout"
    assert bytes(app.image.value) != image, "moving the first control must change the picture"
    return readout, image
