"""What every benchmark script does with its results: strict JSON plus the markdown table beside it."""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import platform
from pathlib import Path
from typing import Any


def json_safe(value: Any) -> Any:
    """Replace NaN and ±inf (e.g. a diverged fine-tuning) by ``None``, so the file is strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def utc_now() -> str:
    """The time a result was written, UTC, to the second (ISO 8601)."""
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def machine_info() -> dict[str, Any]:
    """Where a result was measured: platform, CPU count and TensorFlow's version."""
    import tensorflow as tf  # imported here: metalearn_lib has already imported it quietly

    return {"platform": platform.platform(), "cpus": os.cpu_count(), "tensorflow": tf.__version__}


def write_report(path: Path, results: dict[str, Any], table: str) -> None:
    """Write ``results`` to ``path`` (JSON) and ``table`` to ``path`` with the suffix ``.md``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(json_safe(results), indent=1, allow_nan=False) + "\n", encoding="utf-8")
    path.with_suffix(".md").write_text(table, encoding="utf-8")
    print(f"wrote {path} and {path.with_suffix('.md')}")
