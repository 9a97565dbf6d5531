"""metalearn_lib: the library behind the metalearn course.

One module per concept, named after its notebook (``welcome`` ↔ ``00_welcome``), plus the
ground floor (``tasks``, ``models``) and the user-interface leaves (``plotting``, ``widgets``,
``checks``) that only notebooks import.

Importing the package is cheap: TensorFlow is imported only by the modules that need it.
"""

import os

# Hide TensorFlow's C++ start-up INFO/WARNING lines (oneDNN, CPU features) in learners'
# notebooks; results are unaffected and an explicit setting by the user wins.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from metalearn_lib.seeding import seed_everything  # noqa: E402

__all__ = ["seed_everything", "__version__"]
__version__ = "0.1.0"
