"""Chapter 9: the source article's claims corrected, the questions learners ask, the course as a map.

* :mod:`~metalearn_lib.faq_and_errata.results` — reading the committed benchmark results and
  quoting each number with its place in the file;
* :mod:`~metalearn_lib.faq_and_errata.errata` — the article's claims, verdicts, truths and evidence;
* :mod:`~metalearn_lib.faq_and_errata.concepts` — the concept graph, the glossary and the FAQ;
* :mod:`~metalearn_lib.faq_and_errata.costs` — what training cost, from the benchmarks' timings;
* :mod:`~metalearn_lib.faq_and_errata.chapters` — the lectures' files and links to their sections.
"""

from metalearn_lib.faq_and_errata.chapters import CHAPTER_NOTEBOOKS, heading_anchor, section_link
from metalearn_lib.faq_and_errata.concepts import (
    CONCEPTS,
    FAQ,
    GLOSSARY,
    Concept,
    Question,
    ancestors,
    concept_results,
)
from metalearn_lib.faq_and_errata.costs import COSTS, training_costs
from metalearn_lib.faq_and_errata.errata import ERRATA, VERDICTS, Erratum, Quotes, article_teacher_numbers, errata_rows
from metalearn_lib.faq_and_errata.results import (
    NotMeasured,
    Quote,
    format_number,
    format_pm,
    load_result,
    resolve,
    result_row,
    results_folder,
)

__all__ = [
    "CHAPTER_NOTEBOOKS",
    "CONCEPTS",
    "COSTS",
    "Concept",
    "ERRATA",
    "Erratum",
    "FAQ",
    "GLOSSARY",
    "NotMeasured",
    "Question",
    "Quote",
    "Quotes",
    "VERDICTS",
    "ancestors",
    "article_teacher_numbers",
    "concept_results",
    "errata_rows",
    "format_number",
    "format_pm",
    "heading_anchor",
    "load_result",
    "resolve",
    "result_row",
    "results_folder",
    "section_link",
    "training_costs",
]
