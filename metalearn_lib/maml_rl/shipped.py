"""The policies shipped with the course (trained by ``benchmarks/maml_rl.py --ship``).

``weights/maml_point_navigation.npz`` holds the meta-trained policy and
``weights/pretrained_point_navigation.npz`` the baseline pretrained on all goals; the JSON beside
each records the command, seed, configuration, wall time and the evaluation (mean return ± 95 % CI
after 0–3 adaptation steps on the benchmark's test goals) — the numbers lecture 06 quotes.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from metalearn_lib.maml_rl.algorithm import MAMLRLConfig
from metalearn_lib.maml_rl.training import load_policy
from metalearn_lib.rl.gaussian_policy import GaussianPolicyParams

__all__ = ["PUBLISHED_MAML_RL", "SHIPPED_METHODS", "load_shipped_policy", "shipped_policy_info",
           "shipped_policy_path"]

#: The shipped policies: the meta-trained one and the pretrained baseline.
SHIPPED_METHODS = ("maml", "pretrained")

#: Finn et al. (2017), Table 4, 2D navigation: mean return after 0, 1, 2, 3 gradient steps.
PUBLISHED_MAML_RL: dict[str, list[float]] = {"maml": [-40.41, -11.68, -3.33, -3.23]}


def shipped_policy_path(method: str = "maml") -> Path:
    """Path of ``weights/{method}_point_navigation.npz``, ``method`` one of :data:`SHIPPED_METHODS`
    (the file may not exist yet: see :func:`shipped_policy_info`)."""
    if method not in SHIPPED_METHODS:
        raise ValueError(f"method must be one of {SHIPPED_METHODS}, got {method!r}")
    return Path(str(resources.files("metalearn_lib.maml_rl") / "weights" / f"{method}_point_navigation.npz"))


def shipped_policy_info(method: str = "maml") -> dict[str, Any]:
    """The JSON record beside a shipped policy.

    Raises:
        FileNotFoundError: no policy was shipped (run ``benchmarks/maml_rl.py --ship``).
    """
    path = shipped_policy_path(method).with_suffix(".json")
    if not path.exists():
        raise FileNotFoundError("no shipped MAML-RL policy: run python benchmarks/maml_rl.py --ship")
    return json.loads(path.read_text(encoding="utf-8"))


def load_shipped_policy(method: str = "maml") -> tuple[GaussianPolicyParams, MAMLRLConfig]:
    """A shipped policy (``"maml"`` or ``"pretrained"``) and its configuration.

    Raises:
        FileNotFoundError: no policy was shipped.
    """
    path = shipped_policy_path(method)
    if not path.exists():
        raise FileNotFoundError("no shipped MAML-RL policy: run python benchmarks/maml_rl.py --ship")
    policy, config, _ = load_policy(path)
    return policy, config
