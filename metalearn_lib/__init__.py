"""metalearn_lib: the library behind the metalearn course.

One module per concept, named after its notebook (``welcome`` ↔ ``00_welcome``), plus the
ground floor (``tasks``, ``models``) and the user-interface leaves (``plotting``, ``widgets``,
``checks``) that only notebooks import.

Importing the package is cheap: TensorFlow is imported only by the modules that need it, and
then quietly — without the C++ start-up lines it would print into a notebook (see
:mod:`metalearn_lib.quiet_tf`). Notebooks take TensorFlow from here::

    from metalearn_lib import seed_everything, tf   # tf is the tensorflow module itself
"""

from metalearn_lib import quiet_tf as _quiet_tf

_quiet_tf.install()

from metalearn_lib.seeding import configure_threads as _configure_threads  # noqa: E402
from metalearn_lib.seeding import seed_everything  # noqa: E402

_configure_threads()

__all__ = ["seed_everything", "tf", "__version__"]
__version__ = "0.1.0"


def __getattr__(name: str):
    """``metalearn_lib.tf``: TensorFlow, imported (quietly) the first time it is asked for."""
    if name == "tf":
        return _quiet_tf.import_tensorflow()
    raise AttributeError(f"module 'metalearn_lib' has no attribute {name!r}")
