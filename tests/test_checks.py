"""Every check must accept right answers and reject every wrong one in its test set,
with a verdict a learner can act on — never a raw TensorFlow traceback."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from metalearn_lib.checks import Case, CheckFailed, check_stable_softmax, run_check
from metalearn_lib.welcome import stable_softmax

# ---------------------------------------------------------------------------------------------
# stable_softmax: right answers in several styles must pass


def right_numpy(scores, temperature=1.0):
    return stable_softmax(scores, temperature)


def right_tensorflow(scores, temperature=1.0):
    return tf.nn.softmax(tf.constant(scores) / temperature, axis=-1)


def right_float32(scores, temperature=1.0):
    scores = np.asarray(scores, dtype=np.float32)
    shifted = (scores - scores.max(axis=-1, keepdims=True)) / np.float32(temperature)
    return np.exp(shifted) / np.exp(shifted).sum(axis=-1, keepdims=True)


def right_logsumexp(scores, temperature=1.0):
    scaled = np.asarray(scores) / temperature
    return np.exp(scaled - tf.reduce_logsumexp(scaled, axis=-1, keepdims=True).numpy())


@pytest.mark.parametrize("implementation", [right_numpy, right_tensorflow, right_float32, right_logsumexp])
def test_right_softmaxes_pass(implementation, capsys):
    assert check_stable_softmax(implementation) is None
    assert "✅ stable_softmax: all 8 checks passed." in capsys.readouterr().out


# ---------------------------------------------------------------------------------------------
# wrong answers: each must be rejected, with the hint naming the mistake


def naive_exp(scores, temperature=1.0):
    exps = np.exp(np.asarray(scores) / temperature)
    return exps / exps.sum(axis=-1, keepdims=True)


def not_normalised(scores, temperature=1.0):
    scores = np.asarray(scores)
    return np.exp((scores - scores.max(axis=-1, keepdims=True)) / temperature)


def temperature_upside_down(scores, temperature=1.0):
    return stable_softmax(scores, 1.0 / temperature)


def temperature_ignored(scores, temperature=1.0):
    return stable_softmax(scores)


def sign_flipped(scores, temperature=1.0):
    return stable_softmax(-np.asarray(scores), temperature)


def normalised_over_the_whole_batch(scores, temperature=1.0):
    scores = np.asarray(scores)
    exps = np.exp((scores - scores.max()) / temperature)
    return exps / exps.sum()


def max_over_wrong_axis(scores, temperature=1.0):
    scores = np.atleast_2d(np.asarray(scores))
    exps = np.exp((scores - scores.max(axis=0, keepdims=True)) / temperature)
    return (exps / exps.sum(axis=-1, keepdims=True)).reshape(np.shape(scores) if np.ndim(scores) > 1 else -1)


def argmax_one_hot(scores, temperature=1.0):
    scores = np.asarray(scores)
    return (scores == scores.max(axis=-1, keepdims=True)).astype(float)


def forgot_return(scores, temperature=1.0):
    stable_softmax(scores, temperature)


def flattened(scores, temperature=1.0):
    return stable_softmax(scores, temperature).ravel()


WRONG = {
    naive_exp: "overflowed",
    not_normalised: "sum to 1",
    temperature_upside_down: "upside down",
    temperature_ignored: "ignored",
    sign_flipped: "sign is flipped",
    normalised_over_the_whole_batch: "last axis",
    max_over_wrong_axis: "",
    argmax_one_hot: "",
    forgot_return: "return",
    flattened: "shape",
}


@pytest.mark.parametrize("implementation", list(WRONG), ids=[f.__name__ for f in WRONG])
def test_wrong_softmaxes_are_rejected_with_a_useful_hint(implementation):
    with pytest.raises(CheckFailed) as failure:
        check_stable_softmax(implementation)
    verdict = str(failure.value)
    assert verdict.startswith("❌ stable_softmax:")
    assert "expected:" in verdict and "got:" in verdict and "hint:" in verdict
    assert WRONG[implementation] in verdict


def test_a_tensorflow_error_is_one_line_not_a_traceback():
    def shape_bug(scores, temperature=1.0):
        return tf.reshape(tf.constant(scores), [7])  # InvalidArgumentError inside TF

    with pytest.raises(CheckFailed) as failure:
        check_stable_softmax(shape_bug)
    rendered = "\n".join(failure.value._render_traceback_())
    assert "your function raised InvalidArgumentError" in rendered
    assert "Traceback" not in rendered and 'File "' not in rendered
    assert all(len(line) < 200 for line in rendered.splitlines())


def test_not_implemented_yet_gives_one_friendly_failure():
    def stub(scores, temperature=1.0):
        raise NotImplementedError()

    with pytest.raises(CheckFailed) as failure:
        check_stable_softmax(stub)
    assert len(failure.value.report.failures) == 1
    assert "not written yet" in str(failure.value)
    assert "raise NotImplementedError()" in str(failure.value)


def test_in_ipython_a_failed_check_shows_the_verdict_only(capsys):
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.user_ns.update(check_stable_softmax=check_stable_softmax, np=np)
    shell.run_cell("def broken(scores, temperature=1.0):\n    return np.exp(np.asarray(scores))\n")
    result = shell.run_cell("check_stable_softmax(broken)")
    shown = capsys.readouterr()
    assert isinstance(result.error_in_exec, CheckFailed)
    text = shown.out + shown.err
    assert "❌ stable_softmax" in text and "hint:" in text
    assert "Traceback" not in text and "site-packages" not in text


def test_passing_the_result_instead_of_the_function_is_explained():
    with pytest.raises(TypeError, match="pass the function itself"):
        check_stable_softmax(stable_softmax([1.0, 2.0]))


def test_run_check_needs_cases():
    with pytest.raises(ValueError, match="cases"):
        run_check(stable_softmax, [])


def test_run_check_compares_with_tolerance():
    cases = [Case("one", (np.array([0.0, 0.0]),), np.array([0.5, 0.5]), "hint")]
    assert run_check(lambda s: np.array([0.5, 0.5 + 1e-9]), cases, quiet=True).passed
    with pytest.raises(CheckFailed):
        run_check(lambda s: np.array([0.5, 0.51]), cases, quiet=True)
