"""A small multi-layer perceptron written functionally: the learner of the course.

The parameters θ are an explicit Python list of tensors ``[W1, b1, W2, b2, ...]`` rather than
the hidden state of a Keras layer, so that an inner-loop update is one visible line::

    adapted_params = [p - inner_lr * g for p, g in zip(params, grads)]   # θ' = θ − α∇L

Batched over tasks: every parameter may carry a leading task axis (``W: [num_tasks, in, out]``,
``b: [num_tasks, out]``), one set of parameters per task, and :func:`forward` then maps
``x: [num_tasks, points, in]`` through each task's own network with one batched matmul per layer
(no Python loop over tasks). :func:`tile_params` turns shared parameters θ into such a batch;
gradients flow back through it to θ (as a sum over tasks).

This module is the ground floor of the course: it imports nothing else from ``metalearn_lib``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import tensorflow as tf

from metalearn_lib.validation import check_tensor_list

__all__ = [
    "Activation",
    "forward",
    "init_mlp",
    "is_batched",
    "mse",
    "num_parameters",
    "tile_params",
]

#: An activation: a name (``"relu"``, ``"tanh"``, ``"sigmoid"``, ``"identity"``) or a callable.
Activation = str | Callable[[tf.Tensor], tf.Tensor]

_ACTIVATIONS: dict[str, Callable[[tf.Tensor], tf.Tensor]] = {
    "relu": tf.nn.relu,
    "tanh": tf.tanh,
    "sigmoid": tf.sigmoid,
    "identity": tf.identity,
}
_INITS = ("truncated_normal", "glorot", "he")
_ALG = "philox"  # the same random numbers in eager, graph and XLA-compiled code


def _resolve_activation(activation: Activation) -> Callable[[tf.Tensor], tf.Tensor]:
    if callable(activation):
        return activation
    if isinstance(activation, str) and activation in _ACTIVATIONS:
        return _ACTIVATIONS[activation]
    raise ValueError(
        f"activation must be one of {sorted(_ACTIVATIONS)} or a callable, got {activation!r}"
    )


def init_mlp(
    layer_sizes: Sequence[int],
    seed: int,
    *,
    init: str = "truncated_normal",
    std: float = 0.01,
    dtype: tf.DType = tf.float32,
) -> list[tf.Tensor]:
    """Initial parameters θ = [W1, b1, …, WL, bL] of an MLP with the given layer widths.

    Layer l maps ``layer_sizes[l]`` inputs to ``layer_sizes[l+1]`` outputs; ``W_l`` has shape
    ``[in, out]``, ``b_l`` shape ``[out]`` and starts at 0. Weights are drawn (statelessly, from
    ``seed``) as

    - ``"truncated_normal"``: W ~ N(0, std²) truncated at ±2·std — the MAML reference code's
      choice, std = 0.01;
    - ``"glorot"``: W ~ U[−r, r], r = √(6 / (in + out));
    - ``"he"``: W ~ N(0, 2 / in) truncated at ±2 std.

    Args:
        layer_sizes: widths, input first, output last, e.g. ``[1, 40, 40, 1]``; at least two,
            each >= 1.
        seed: int in [0, 2**63 − 1]; same seed, same parameters.
        init: one of ``"truncated_normal"``, ``"glorot"``, ``"he"``.
        std: standard deviation for ``"truncated_normal"``, > 0.
        dtype: floating dtype of the parameters.

    Returns:
        The list of ``2·(len(layer_sizes) − 1)`` tensors (wrap them in ``tf.Variable`` to train
        with an optimizer; the course's trainers carry plain tensors).

    Raises:
        ValueError: fewer than two sizes, a size < 1, an unknown ``init``, ``std`` <= 0, a
            negative ``seed`` or a non-floating ``dtype``.
        TypeError: a size or ``seed`` is not an int.
    """
    sizes = list(layer_sizes) if isinstance(layer_sizes, Sequence) else None
    if sizes is None or isinstance(layer_sizes, str):
        raise TypeError(f"layer_sizes must be a sequence of ints >= 1, got {layer_sizes!r}")
    if len(sizes) < 2:
        raise ValueError(f"layer_sizes must have at least 2 entries (input, output), got {sizes}")
    for size in sizes:
        if isinstance(size, bool) or not isinstance(size, int):
            raise TypeError(f"layer_sizes must hold ints >= 1, got {size!r}")
        if size < 1:
            raise ValueError(f"layer_sizes must hold ints >= 1, got {sizes}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int in [0, 2**63 - 1], got {type(seed).__name__}")
    if not 0 <= seed <= 2**63 - 1:
        raise ValueError(f"seed must be an int in [0, 2**63 - 1], got {seed}")
    if init not in _INITS:
        raise ValueError(f"init must be one of {list(_INITS)}, got {init!r}")
    if isinstance(std, bool) or not isinstance(std, (int, float)) or not std > 0 \
            or not math.isfinite(std):
        raise ValueError(f"std must be a finite number > 0, got {std!r}")
    try:
        dtype = tf.as_dtype(dtype)
    except TypeError:
        raise ValueError(f"dtype must be a floating dtype, got {dtype!r}") from None
    if not dtype.is_floating:
        raise ValueError(f"dtype must be a floating dtype, got {dtype.name}")

    seeds = tf.random.experimental.stateless_split(
        tf.constant([seed, 0], dtype=tf.int64), num=len(sizes) - 1, alg=_ALG
    )
    params: list[tf.Tensor] = []
    for layer, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        shape = [n_in, n_out]
        if init == "truncated_normal":
            w = tf.random.stateless_truncated_normal(shape, seeds[layer], stddev=std, dtype=dtype,
                                                     alg=_ALG)
        elif init == "glorot":
            limit = math.sqrt(6.0 / (n_in + n_out))
            w = tf.random.stateless_uniform(shape, seeds[layer], -limit, limit, dtype=dtype,
                                            alg=_ALG)
        else:  # he
            w = tf.random.stateless_truncated_normal(
                shape, seeds[layer], stddev=math.sqrt(2.0 / n_in), dtype=dtype, alg=_ALG
            )
        params += [w, tf.zeros([n_out], dtype=dtype)]
    return params


def _check_params(params: Any) -> list[tf.Tensor]:
    if not isinstance(params, (list, tuple)) or len(params) == 0 or len(params) % 2:
        raise ValueError(
            "params must be a non-empty list [W1, b1, ..., WL, bL] of even length, "
            f"got {type(params).__name__} of length {len(params) if hasattr(params, '__len__') else '?'}"
        )
    return check_tensor_list("params", params)


def is_batched(params: Sequence[tf.Tensor]) -> bool:
    """True when the parameters carry a leading task axis (``W1`` has rank 3, not 2)."""
    params = _check_params(params)
    rank = params[0].shape.rank
    if rank not in (2, 3):
        raise ValueError(f"params[0] (W1) must have rank 2 [in, out] or 3 [tasks, in, out], "
                         f"got shape {params[0].shape}")
    return rank == 3


def tile_params(params: Sequence[tf.Tensor], num_tasks: int) -> list[tf.Tensor]:
    """Copy shared parameters θ once per task: θ_i = θ for i = 1..num_tasks.

    Each ``p`` of shape ``s`` becomes ``[num_tasks, *s]`` via ``tf.broadcast_to``; the gradient
    of a loss Σ_i L_i(θ_i) with respect to θ is then Σ_i ∇L_i — exactly what MAML's outer step
    needs, while ∂L/∂θ_i = ∇L_i(θ_i) gives each task its own inner-loop gradient.

    Raises:
        ValueError: ``num_tasks`` < 1 or ``params`` already batched.
        TypeError: ``num_tasks`` is not an int.
    """
    if isinstance(num_tasks, bool) or not isinstance(num_tasks, int):
        raise TypeError(f"num_tasks must be an int >= 1, got {type(num_tasks).__name__}")
    if num_tasks < 1:
        raise ValueError(f"num_tasks must be an int >= 1, got {num_tasks}")
    if is_batched(params):
        raise ValueError("params already have a leading task axis (W1 has rank 3)")
    return [tf.broadcast_to(p, [num_tasks, *p.shape]) for p in params]


def forward(
    params: Sequence[tf.Tensor], x: tf.Tensor, *, activation: Activation = "relu"
) -> tf.Tensor:
    """The MLP f_θ(x): h_0 = x, h_l = σ(h_{l−1} W_l + b_l), output h_L = h_{L−1} W_L + b_L.

    The activation σ is applied after every layer but the last (a linear output, for regression).

    Shapes (``tasks`` optional on ``x`` for shared parameters):

    - shared θ (``W: [in, out]``): ``x: [..., points, in]`` → ``[..., points, out]``;
    - per-task θ (``W: [tasks, in, out]``, ``b: [tasks, out]``): ``x: [tasks, points, in]`` →
      ``[tasks, points, out]``, each task through its own parameters (a batched matmul).

    Raises:
        ValueError: malformed ``params``, an unknown ``activation``, or ``x`` whose rank or last
            axis does not fit ``params``.
        TypeError: a parameter that is not a tensor (a NumPy array: convert with ``tf.constant``).
    """
    params = _check_params(params)
    act = _resolve_activation(activation)
    batched = is_batched(params)
    x = tf.convert_to_tensor(x)
    if batched and x.shape.rank != 3:
        raise ValueError(f"x must have shape [tasks, points, in] for per-task params, "
                         f"got {x.shape}")
    if x.shape.rank is not None and x.shape.rank < 2:
        raise ValueError(f"x must have shape [..., points, in], got {x.shape}")
    n_in = params[0].shape[-2]
    if x.shape[-1] is not None and n_in is not None and x.shape[-1] != n_in:
        raise ValueError(f"x's last axis must be {n_in} (the network's input width), "
                         f"got {x.shape}")
    h = x
    num_layers = len(params) // 2
    for layer in range(num_layers):
        w, b = params[2 * layer], params[2 * layer + 1]
        # per task: [tasks, points, in] @ [tasks, in, out]; shared: [..., in] @ [in, out]
        bias = b[:, tf.newaxis, :] if batched else b
        h = (tf.matmul(h, w) if batched else tf.einsum("...i,io->...o", h, w)) + bias
        if layer < num_layers - 1:
            h = act(h)
    return h


def mse(pred: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
    """Mean squared error per task: L_i = (1 / (n·d)) Σ_{p,j} (ŷ_{ipj} − y_{ipj})².

    Args:
        pred: predictions ``[tasks, points, outputs]`` (or ``[points, outputs]`` for one task).
        y: targets of the same shape.

    Returns:
        ``[tasks]`` — one loss per task (a scalar for rank-2 inputs).

    Raises:
        ValueError: the shapes differ or the rank is not 2 or 3.
    """
    pred = tf.convert_to_tensor(pred)
    y = tf.convert_to_tensor(y, dtype=pred.dtype)
    if not pred.shape.is_compatible_with(y.shape):
        raise ValueError(f"pred and y must have the same shape, got {pred.shape} and {y.shape}")
    if pred.shape.rank not in (2, 3):
        raise ValueError(f"pred must have shape [tasks, points, outputs] or [points, outputs], "
                         f"got {pred.shape}")
    axes = [-2, -1]
    return tf.reduce_mean(tf.square(pred - y), axis=axes)


def num_parameters(params: Sequence[tf.Tensor]) -> int:
    """Number of scalars in one task's parameters (the task axis, if any, is not counted)."""
    params = _check_params(params)
    skip = 1 if is_batched(params) else 0
    return int(sum(math.prod(p.shape[skip:]) for p in params))
