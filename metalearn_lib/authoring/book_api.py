"""The website's API reference: which public names the library has, and where each is documented.

The reference has one page per chapter module and one for each part of the ground floor, the RL
machinery and the notebook leaves (:data:`API_PAGES`). Each page covers a *tree* of modules: its
root and the submodules under it that no other page claims (the longest root wins, so
``metalearn_lib.quiet_tf`` falls to the page of the package ``metalearn_lib``).

**Public names.** A module's public names are its ``__all__``. A module without ``__all__`` (in
this library: ``seeding``, ``authoring.launch`` and the two packages ``applications`` and
``authoring``, whose ``__init__`` only documents its submodules) has as public names what it
*defines* at top level — functions, classes and assignments — whose name does not start with an
underscore; names it merely imports are not its own. Modules whose name starts with an underscore
(``mapping._checks``) are private and are skipped.

**Documented once.** Every public object is described on exactly one page: the page of the module
that defines it (found by following ``from … import`` statements in the source, so that constants
are traced as well as functions and classes), under the shortest public path inside that page's
tree — the path the course asks learners to import (``metalearn_lib.bandits.pull``, not
``metalearn_lib.bandits.env.pull``). Its other public paths (the defining submodule, a package of
another page that re-exports it, ``metalearn_lib.seed_everything``) become *aliases* of that one
description, so a cross-reference through any of them lands on it and no description is
duplicated.

Nothing here imports Sphinx; :mod:`metalearn_lib.authoring.book_sphinx` turns :func:`page_rst`
into the pages.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import types
from dataclasses import dataclass
from functools import cache
from pathlib import Path

__all__ = [
    "API_PAGES",
    "ApiPage",
    "Description",
    "PACKAGE",
    "aliases",
    "descriptions",
    "library_modules",
    "origin",
    "page_of",
    "page_rst",
    "public_names",
    "stub_path",
]

#: The package the reference documents.
PACKAGE = "metalearn_lib"


@dataclass(frozen=True)
class ApiPage:
    """One page of the reference: its file stem in ``docs/book/api/``, root module and title."""

    slug: str
    module: str
    title: str


#: Every page of the reference, in the order of the site's navigation. The first ten are the
#: chapters' modules (chapter N's page is ``API_PAGES[N]``); the rest are the reference section.
API_PAGES: tuple[ApiPage, ...] = (
    ApiPage("welcome", f"{PACKAGE}.welcome", "Chapter 0 API: welcome"),
    ApiPage("mapping", f"{PACKAGE}.mapping", "Chapter 1 API: mapping"),
    ApiPage("two_level", f"{PACKAGE}.two_level", "Chapter 2 API: two_level"),
    ApiPage("averaging", f"{PACKAGE}.averaging", "Chapter 3 API: averaging"),
    ApiPage("teacher", f"{PACKAGE}.teacher", "Chapter 4 API: teacher"),
    ApiPage("bandits", f"{PACKAGE}.bandits", "Chapter 5 API: bandits"),
    ApiPage("maml_rl", f"{PACKAGE}.maml_rl", "Chapter 6 API: maml_rl"),
    ApiPage("meta_rl_mdps", f"{PACKAGE}.meta_rl_mdps", "Chapter 7 API: meta_rl_mdps"),
    ApiPage("applications", f"{PACKAGE}.applications", "Chapter 8 API: applications"),
    ApiPage("faq_and_errata", f"{PACKAGE}.faq_and_errata", "Chapter 9 API: faq_and_errata"),
    ApiPage("package", PACKAGE, "The package: metalearn_lib"),
    ApiPage("tasks", f"{PACKAGE}.tasks", "Ground floor: tasks"),
    ApiPage("models", f"{PACKAGE}.models", "Ground floor: models"),
    ApiPage("optim", f"{PACKAGE}.optim", "Utilities: optim"),
    ApiPage("validation", f"{PACKAGE}.validation", "Utilities: validation"),
    ApiPage("seeding", f"{PACKAGE}.seeding", "Utilities: seeding"),
    ApiPage("rl", f"{PACKAGE}.rl", "The RL machinery: rl"),
    ApiPage("plotting", f"{PACKAGE}.plotting", "Notebook leaves: plotting"),
    ApiPage("widgets", f"{PACKAGE}.widgets", "Notebook leaves: widgets"),
    ApiPage("checks", f"{PACKAGE}.checks", "Notebook leaves: checks"),
    ApiPage("authoring", f"{PACKAGE}.authoring", "Course tools: authoring"),
)

#: A constant's value is shown in its signature when its ``repr`` is at most this long.
MAX_VALUE_REPR = 60


@dataclass(frozen=True)
class Description:
    """Where one public object is described: ``module.name`` on ``page``, defined in ``origin``."""

    module: str
    name: str
    origin: str
    page: str

    @property
    def full_name(self) -> str:
        return f"{self.module}.{self.name}"


# ------------------------------------------------------------------------------------- modules
@cache
def library_modules() -> tuple[str, ...]:
    """Every public module of the package, the package first, in import-path order."""
    package = importlib.import_module(PACKAGE)
    names = [PACKAGE]
    for info in pkgutil.walk_packages(package.__path__, f"{PACKAGE}."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return tuple(sorted(names))


@cache
def _tree(module: str) -> ast.Module:
    path = importlib.import_module(module).__file__
    return ast.parse(Path(path).read_text(encoding="utf-8"))


def _top_level(body: list[ast.stmt]):
    """Top-level statements, looking inside ``if``/``try`` blocks (but not functions or classes)."""
    for node in body:
        if isinstance(node, ast.If | ast.Try):
            yield from _top_level(node.body + node.orelse + getattr(node, "finalbody", []))
            for handler in getattr(node, "handlers", []):
                yield from _top_level(handler.body)
        else:
            yield node


def _defined(module: str) -> list[str]:
    """Names ``module`` binds at top level by ``def``, ``class`` or assignment, in source order."""
    names: list[str] = []
    for node in _top_level(_tree(module).body):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.append(node.name)
        elif isinstance(node, ast.Assign):
            names += [target.id for target in node.targets if isinstance(target, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.append(node.target.id)
    return names


def _imported(module: str) -> dict[str, tuple[str, str]]:
    """``{local name: (source module, name there)}`` for the ``from … import`` lines of ``module``."""
    found: dict[str, tuple[str, str]] = {}
    is_package = hasattr(importlib.import_module(module), "__path__")
    for node in _top_level(_tree(module).body):
        if not isinstance(node, ast.ImportFrom):
            continue
        source = node.module or ""
        if node.level:
            base = module.split(".") if is_package else module.split(".")[:-1]
            base = base[: len(base) - node.level + 1]
            source = ".".join([*base, *([source] if source else [])])
        for alias in node.names:
            found[alias.asname or alias.name] = (source, alias.name)
    return found


@cache
def public_names(module: str) -> tuple[str, ...]:
    """The public names of ``module``: its ``__all__``, or (without one) the public names it defines."""
    mod = importlib.import_module(module)
    explicit = getattr(mod, "__all__", None)
    if explicit is not None:
        return tuple(explicit)
    return tuple(name for name in _defined(module) if not name.startswith("_"))


@cache
def origin(module: str, name: str) -> str:
    """The module that defines ``name`` as ``module`` exports it (``module`` itself when it binds it
    there, or provides it through a module-level ``__getattr__``)."""
    if name in _defined(module):
        return module
    imported = _imported(module).get(name)
    if imported is not None and imported[0].split(".")[0] == PACKAGE:
        source, original = imported
        if f"{source}.{original}" in library_modules():  # ``from package import submodule``
            return f"{source}.{original}"
        return origin(source, original)
    return module


def page_of(module: str) -> ApiPage:
    """The page whose root is the longest prefix of ``module``."""
    matches = [page for page in API_PAGES if module == page.module or module.startswith(page.module + ".")]
    if not matches:
        raise LookupError(f"{module} belongs to no page of the reference: add one to API_PAGES")
    return max(matches, key=lambda page: len(page.module))


def _same(module_a: str, name_a: str, module_b: str, name_b: str) -> bool:
    return name_a == name_b and origin(module_a, name_a) == origin(module_b, name_b)


# -------------------------------------------------------------------------------- descriptions
@cache
def descriptions() -> tuple[Description, ...]:
    """Every public object of the library, once, with where it is described."""
    exporters: dict[tuple[str, str], list[str]] = {}
    for module in library_modules():
        for name in public_names(module):
            key = (origin(module, name), name)
            exporters.setdefault(key, []).append(module)
    found = []
    for (defining, name), modules in exporters.items():
        page = page_of(defining)
        own = [m for m in modules if page_of(m) == page] or modules
        documented = min(own, key=lambda m: (m.count("."), m))
        found.append(Description(documented, name, defining, page.slug))
    return tuple(sorted(found, key=lambda d: (d.page, d.full_name)))


def aliases() -> dict[str, str]:
    """``{other public path: documented path}`` for every object exported under several paths."""
    documented = {(d.origin, d.name): d.full_name for d in descriptions()}
    found = {}
    for module in library_modules():
        for name in public_names(module):
            target = documented[(origin(module, name), name)]
            if f"{module}.{name}" != target:
                found[f"{module}.{name}"] = target
    return found


# ------------------------------------------------------------------------------------ rendering
def _kind(obj: object) -> str:
    if inspect.isclass(obj):
        return "exception" if issubclass(obj, BaseException) else "class"
    if callable(obj) and not isinstance(obj, types.ModuleType) and hasattr(obj, "__name__"):
        return "function"
    return "data"


def _data_rst(description: Description) -> list[str]:
    """A ``py:data`` description whose text is the ``#:`` comment above the definition."""
    from sphinx.pycode import ModuleAnalyzer  # only at build time

    value = getattr(importlib.import_module(description.module), description.name)
    lines = [f".. py:data:: {description.name}", f"   :module: {description.module}"]
    shown = repr(value)
    if not isinstance(value, types.ModuleType) and len(shown) <= MAX_VALUE_REPR and "\n" not in shown:
        lines.append(f"   :value: {shown}")
    lines.append("")
    comment = ModuleAnalyzer.for_module(description.origin).find_attr_docs().get(("", description.name))
    if comment:
        lines += [f"   {line}" if line else "" for line in comment]
    elif isinstance(value, types.ModuleType):
        lines.append(f"   The module :mod:`{value.__name__}` itself.")
    return lines


def _object_rst(description: Description) -> list[str]:
    obj = getattr(importlib.import_module(description.module), description.name)
    kind = _kind(obj)
    if kind == "data":
        return _data_rst(description)
    lines = [f".. auto{kind}:: {description.full_name}"]
    if kind in {"class", "exception"}:
        lines.append("   :members:")
    return lines


def _summary_rst(here: list[Description], current: str) -> list[str]:
    """An autosummary table of the functions and classes of one section (constants have no
    docstring of their own to summarise: they are described in full below it)."""
    listed = [d for d in here if _kind(getattr(importlib.import_module(d.module), d.name)) != "data"]
    if len(listed) < 2:
        return []
    names = [d.name if d.module == current else f"~{d.full_name}" for d in listed]
    return [".. autosummary::", "   :nosignatures:", "", *[f"   {name}" for name in names], ""]


def _line(module: str, name: str) -> int:
    for node in _top_level(_tree(module).body):
        targets = []
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            targets = [node.name]
        elif isinstance(node, ast.Assign):
            targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            targets = [node.target.id]
        if name in targets:
            return node.lineno
    return 0


def page_rst(slug: str) -> str:
    """The reStructuredText body of the reference page ``slug`` (below its title)."""
    page = next((p for p in API_PAGES if p.slug == slug), None)
    if page is None:
        raise LookupError(f"no API page {slug!r}; pages: {[p.slug for p in API_PAGES]}")
    modules = [m for m in library_modules() if page_of(m) == page]
    mine = [d for d in descriptions() if d.page == slug]
    lines = [f".. automodule:: {page.module}", "   :no-members:", ""]
    foreign = sorted(
        {documented for alias, documented in aliases().items() if alias.rsplit(".", 1)[0] == page.module}
        - {d.full_name for d in mine}
    )
    if foreign:
        lines += ["Also importable from here, and described on the page that defines them:", ""]
        lines += [f"* :py:obj:`~{target}` (``{target}``)" for target in foreign]
        lines.append("")
    for module in modules:
        here = sorted((d for d in mine if d.origin == module), key=lambda d: _line(module, d.name))
        if module != page.module:
            heading = f"``{module.removeprefix(page.module + '.')}``"
            lines += [heading, "-" * len(heading), "", f".. automodule:: {module}", "   :no-members:", ""]
        elif not here:
            continue
        lines += _summary_rst(here, module)
        for description in here:
            lines += [*_object_rst(description), ""]
    return "\n".join(lines) + "\n"


def stub_path(root: Path, page: ApiPage) -> Path:
    """The committed stub of ``page`` under ``root`` (the repository)."""
    return root / "docs" / "book" / "api" / f"{page.slug}.rst"
