"""The course's one seeding helper.

Every notebook, test and benchmark calls :func:`seed_everything` once, at the top, so a run is
repeatable: the same numbers on every re-run in a fresh kernel on the same machine.
"""

from __future__ import annotations

import os
import random

import numpy as np

DEFAULT_SEED = 0
#: TensorFlow's inter-op threads when the user has not chosen (``TF_NUM_INTEROP_THREADS``): one op
#: at a time, each op still using every core. Independent ops running concurrently on a CPU can
#: give bit-different results from run to run even with op determinism on (measured: chapter 6's
#: curvature products, whose run-to-run differences grew over 500 TRPO steps into different
#: policies), so the course runs them in sequence; the cost is ~10 % of MAML-RL's speed.
INTEROP_THREADS = "1"


def configure_threads() -> None:
    """Set ``TF_NUM_INTEROP_THREADS`` to :data:`INTEROP_THREADS` unless the user set it; run by
    ``import metalearn_lib`` (TensorFlow reads it when it starts its runtime)."""
    os.environ.setdefault("TF_NUM_INTEROP_THREADS", INTEROP_THREADS)


def seed_everything(seed: int = DEFAULT_SEED, *, deterministic_ops: bool = True) -> np.random.Generator:
    """Seed Python, NumPy and TensorFlow, and make TensorFlow's ops deterministic.

    (``import metalearn_lib`` has already made TensorFlow run one op at a time, see
    :func:`configure_threads`, so that concurrently running ops cannot reorder a result.)

    Args:
        seed: a non-negative integer below 2**32.
        deterministic_ops: also call ``tf.config.experimental.enable_op_determinism()``, so
            ops with a non-deterministic fast path (some reductions, scatter) use the
            deterministic one. Leave on in notebooks and tests.

    Returns:
        A fresh ``numpy.random.Generator`` seeded with ``seed``, for code that prefers an
        explicit generator to NumPy's global state.

    Raises:
        TypeError: ``seed`` is not an integer (``bool`` counts as not an integer).
        ValueError: ``seed`` is outside ``[0, 2**32 - 1]``.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int in [0, 2**32 - 1], got {type(seed).__name__}")
    if not 0 <= int(seed) <= 2**32 - 1:
        raise ValueError(f"seed must be in [0, 2**32 - 1], got {seed}")
    seed = int(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)  # for subprocesses started from here
    random.seed(seed)
    np.random.seed(seed)
    import tensorflow as tf  # imported here so `import metalearn_lib` stays fast

    tf.keras.utils.set_random_seed(seed)  # seeds Python, NumPy and TF together
    if deterministic_ops:
        tf.config.experimental.enable_op_determinism()
    return np.random.default_rng(seed)
