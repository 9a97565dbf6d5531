"""Checkpoints of a training run: θ, Adam's state, the iteration and the config, in one ``.npz``.

A run saved after N iterations and resumed for M more gives bit-identical parameters to N + M
iterations in one go, because every random number of iteration i derives from [seed, i].
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import tensorflow as tf

from metalearn_lib.optim import AdamState, adam_init
from metalearn_lib.rl.networks import NUM_PARAMS, ActorCriticParams

if TYPE_CHECKING:
    from metalearn_lib.rl.a2c import A2CConfig

__all__ = ["Checkpoint", "load_checkpoint", "save_checkpoint"]

_CHECKPOINT_FORMAT = 1


@dataclass(frozen=True)
class Checkpoint:
    """Everything needed to resume training exactly: θ, Adam's state, the iteration, the config.

    Attributes:
        params: the network's parameters.
        adam_state: Adam's step count and moments.
        iteration: iterations done so far (the next one to run).
        config: the :class:`A2CConfig` the run uses.
        extra: JSON-ready metadata (e.g. the environment's description).
    """

    params: ActorCriticParams
    adam_state: AdamState
    iteration: int
    config: A2CConfig
    extra: dict[str, Any] = field(default_factory=dict)


def save_checkpoint(path: str | os.PathLike[str], checkpoint: Checkpoint, *, include_optimizer: bool = True) -> None:
    """Write a checkpoint to one ``.npz`` file (compressed, no pickles).

    Keys: ``param_0 … param_7``, ``adam_step``, ``adam_m_i``, ``adam_v_i`` (left out when
    ``include_optimizer`` is False — weights only, a third of the size), ``iteration`` and
    ``meta`` (the config and ``extra`` as a JSON string).
    """
    if not isinstance(checkpoint, Checkpoint):
        raise TypeError(f"checkpoint must be a Checkpoint, got {type(checkpoint).__name__}")
    arrays: dict[str, np.ndarray] = {f"param_{i}": np.asarray(p) for i, p in enumerate(checkpoint.params)}
    if include_optimizer:
        arrays["adam_step"] = np.asarray(checkpoint.adam_state.step)
        for i, (m, v) in enumerate(zip(checkpoint.adam_state.m, checkpoint.adam_state.v, strict=True)):
            arrays[f"adam_m_{i}"] = np.asarray(m)
            arrays[f"adam_v_{i}"] = np.asarray(v)
    arrays["iteration"] = np.asarray(checkpoint.iteration, np.int64)
    meta = {"format": _CHECKPOINT_FORMAT, "config": checkpoint.config.to_dict(), "extra": checkpoint.extra}
    arrays["meta"] = np.asarray(json.dumps(meta, sort_keys=True))
    path = os.fspath(path)
    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, exist_ok=True)
    with open(path, "wb") as f:  # a file object: np.savez would append ".npz" to other names
        np.savez_compressed(f, **arrays)


def load_checkpoint(path: str | os.PathLike[str]) -> Checkpoint:
    """Read a file written by :func:`save_checkpoint`.

    A weights-only file gives a fresh Adam state (step 0, zero moments).

    Raises:
        ValueError: the file is not such a checkpoint.
    """
    with np.load(os.fspath(path), allow_pickle=False) as data:
        keys = set(data.files)
        if "meta" not in keys or not {f"param_{i}" for i in range(NUM_PARAMS)} <= keys:
            raise ValueError(f"{os.fspath(path)} is not a checkpoint written by save_checkpoint")
        meta = json.loads(str(data["meta"]))
        params = ActorCriticParams(*(tf.constant(data[f"param_{i}"]) for i in range(NUM_PARAMS)))
        if "adam_step" in keys:
            state = AdamState(tf.constant(data["adam_step"]),
                              [tf.constant(data[f"adam_m_{i}"]) for i in range(NUM_PARAMS)],
                              [tf.constant(data[f"adam_v_{i}"]) for i in range(NUM_PARAMS)])
        else:
            state = adam_init(params)
        iteration = int(data["iteration"])
    from metalearn_lib.rl.a2c import A2CConfig  # the config's class lives with its trainer

    return Checkpoint(params, state, iteration, A2CConfig(**meta["config"]), dict(meta.get("extra", {})))
