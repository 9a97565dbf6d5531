"""The course's chapters as chapter 9 links to them: notebook files and links to a section.

A link goes to a section heading of a lecture, the way JupyterLab (and nbviewer) anchor headings:
``02_two_level_learning.ipynb#The-outer-loop:-MAML's-meta-loss-and-its-gradient`` — the heading's
text with spaces turned into hyphens. ``tests/test_faq_and_errata.py`` checks that every heading
linked from chapter 9 exists in its notebook.
"""

from __future__ import annotations

from metalearn_lib.validation import check_int

__all__ = ["CHAPTER_NOTEBOOKS", "heading_anchor", "section_link"]

#: chapter → its lecture's file in ``notebooks/`` (the README's course map lists the same files).
CHAPTER_NOTEBOOKS: dict[int, str] = {
    0: "00_welcome.ipynb", 1: "01_mapping.ipynb", 2: "02_two_level_learning.ipynb",
    3: "03_model_averaging.ipynb", 4: "04_teacher_guided_loop.ipynb", 5: "05_meta_rl_bandits.ipynb",
    6: "06_maml_rl.ipynb", 7: "07_meta_rl_mdps.ipynb", 8: "08_applications.ipynb",
    9: "09_faq_and_errata.ipynb",
}


def heading_anchor(heading: str) -> str:
    """JupyterLab's anchor of a markdown heading: its text, spaces replaced by hyphens."""
    if not isinstance(heading, str) or not heading.strip():
        raise ValueError(f"heading must be a non-empty string, got {heading!r}")
    return "-".join(heading.strip().split(" "))


def section_link(chapter: int, heading: str, *, text: str | None = None) -> str:
    """A markdown link to ``heading`` in ``chapter``'s lecture, e.g. ``[ch 2 · The inner loop](02_….ipynb#…)``.

    Raises:
        ValueError: ``chapter`` is not a chapter of the course, or ``heading`` is empty.
    """
    chapter = check_int("chapter", chapter, minimum=0)
    if chapter not in CHAPTER_NOTEBOOKS:
        raise ValueError(f"chapter must be one of {sorted(CHAPTER_NOTEBOOKS)}, got {chapter}")
    label = text if text is not None else f"ch {chapter} · {heading}"
    return f"[{label}]({CHAPTER_NOTEBOOKS[chapter]}#{heading_anchor(heading)})"
