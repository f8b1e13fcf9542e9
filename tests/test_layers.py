"""Imports point one way: errors <- codec <- model <- devinf/formats <-
store <- engine <- server <- cli (the engine uses the store protocol; a store
knows nothing of the engine; ``syncml serve`` runs the server's WSGI app).

Checked by reading the source: ``.py`` files with ast (every import, the
ones inside functions and under ``TYPE_CHECKING`` included), the Cython
sources (``.pyx``/``.pxi``/``.pxd``) line by line for ``import``,
``cimport`` and ``include``.  On top of the layer ranks (house rule 2):

* nothing imports another package's ``_`` modules or ``_`` names (a package
  offers what its public modules export; tests may reach further);
* a Cython module may ``cimport`` from another package only a ``.pxd`` that
  exists there (a declared C interface, like ``codec/_wbxml.pxd``);
* ``include`` takes files of the includer's own package only;
* within ``cli/`` and within ``formats/`` the module import graph has no cycle.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import syncml_codec

PKG = Path(syncml_codec.__file__).parent
# The Cython sources are not installed in wheels: read them from the checkout.
SRC = Path(__file__).resolve().parents[1] / "src" / "syncml_codec"
CYTHON_SUFFIXES = (".pyx", ".pxi", ".pxd")
# a layer may import only from layers with a lower rank
RANK = {"errors": 0, "codec": 1, "model": 2, "devinf": 3, "formats": 3, "capture": 3, "filters": 4, "store": 4,
        "mail": 4.5, "engine": 5, "server": 6, "cli": 7}


@dataclass(frozen=True)
class Import:
    """One import statement's target, as a path inside ``syncml_codec``
    (``("codec", "_common")``); ``names`` are the imported names of a
    ``from ... import`` (empty for ``import x``)."""

    target: tuple[str, ...]
    names: tuple[str, ...]
    kind: str  # "import" | "cimport" | "include"
    line: int


def layer_of(path: Path, root: Path = PKG) -> str | None:
    rel = path.relative_to(root).parts
    name = rel[0].split(".")[0]
    return name if name in RANK else None


def _package_parts(rel: Path) -> list[str]:
    """``codec/_pywbxml/fast.py`` -> ``["codec", "_pywbxml"]``."""
    return list(rel.parts[:-1])


def _resolve(rel: Path, level: int, module: str | None) -> tuple[str, ...] | None:
    """The target of ``from <level dots><module> import`` (or of an absolute
    ``syncml_codec.x`` when level is 0) inside the package, else None."""
    if level:
        base = _package_parts(rel)
        if level - 1 > len(base):
            return None
        base = base[: len(base) - level + 1]
        return tuple(base + (module.split(".") if module else []))
    if module and (module == "syncml_codec" or module.startswith("syncml_codec.")):
        return tuple(module.split(".")[1:])
    return None


def python_imports(path: Path, root: Path = PKG) -> Iterator[Import]:
    """Every import of the package in a ``.py`` file, nested ones included."""
    rel = path.relative_to(root)
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            target = _resolve(rel, node.level, node.module)
            if target is not None:
                yield Import(target, tuple(a.name for a in node.names), "import", node.lineno)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                target = _resolve(rel, 0, alias.name)
                if target is not None:
                    yield Import(target, (), "import", node.lineno)


_TRIPLE_QUOTED = re.compile(r'"""(?:.|\n)*?"""|\'\'\'(?:.|\n)*?\'\'\'')
_FROM = re.compile(r"from\s+(\.*)([\w.]*)\s+(c?import)\s+([\w\s,*]*)")
_PARENTHESIZED = re.compile(r"(\bc?import\s*)\(([^)]*)\)")
_PLAIN = re.compile(r"(c?import)\s+([\w.]+(?:\s+as\s+\w+)?(?:\s*,\s*[\w.]+(?:\s+as\s+\w+)?)*)\s*$")
_INCLUDE = re.compile(r"include\s+[\"']([^\"']+)[\"']")


def cython_imports(path: Path, root: Path = SRC, text: str | None = None) -> Iterator[Import]:
    """The imports, cimports and includes of a Cython source (``text``
    instead of the file's content when given), read line by line with
    strings in triple quotes and comments left out."""
    rel = path.relative_to(root)
    source = path.read_text() if text is None else text
    # blank out docstrings and C code blocks, keeping the line numbers
    source = _TRIPLE_QUOTED.sub(lambda m: "\n" * m.group(0).count("\n"), source)
    # "from x import (a,\n b)" on one line (the line breaks go after it)
    source = _PARENTHESIZED.sub(
        lambda m: m.group(1) + " ".join(m.group(2).split()) + "\n" * m.group(2).count("\n"), source)
    for number, raw in enumerate(source.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if m := _INCLUDE.fullmatch(line):
            included = (path.parent / m.group(1)).resolve()
            try:
                target = tuple(included.relative_to(root.resolve()).parts)
            except ValueError:  # outside the package: no package of ours
                target = ("..", *Path(m.group(1)).parts)
            yield Import(target, (), "include", number)
        elif m := _FROM.match(line):
            target = _resolve(rel, len(m.group(1)), m.group(2) or None)
            if target is not None:
                names = tuple(n.split()[0] for n in m.group(4).split(",") if n.strip())
                yield Import(target, names, m.group(3), number)
        elif m := _PLAIN.match(line):
            for item in m.group(2).split(","):
                target = _resolve(rel, 0, item.split()[0])
                if target is not None:
                    yield Import(target, (), m.group(1), number)


def sources(suffixes: tuple[str, ...], root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix in suffixes and p.is_file())


def imports_of(path: Path, root: Path) -> Iterator[Import]:
    if path.suffix == ".py":
        return python_imports(path, root)
    return cython_imports(path, root)


def _is_module(root: Path, parts: tuple[str, ...]) -> bool:
    base = root.joinpath(*parts)
    return base.is_dir() or any(base.with_name(base.name + s).exists() for s in (".py", ".pyx", ".pyi"))


def wrong_imports(path: Path, root: Path, found: list[Import] | None = None) -> list[str]:
    """What breaks the rules in one source file (``found``: its imports,
    read from the file when None)."""
    layer = layer_of(path, root)
    if layer is None:
        return []
    own = path.relative_to(root).parts[0]
    where = path.relative_to(root)
    wrong = []
    for imp in imports_of(path, root) if found is None else found:
        other = imp.target[0] if imp.target else None
        if imp.kind == "include":
            if imp.target[:-1] != where.parts[:-1]:
                wrong.append(f"{where}:{imp.line} includes {'/'.join(imp.target)} (another package's file)")
            continue
        if not imp.target and imp.names:  # "from .. import x": x names the package
            for name in imp.names:
                if name in RANK and name != own and RANK[name] >= RANK[layer]:
                    wrong.append(f"{where}:{imp.line} imports {name}")
            continue
        if other is None or other not in RANK:
            continue
        if other != layer and RANK[other] >= RANK[layer]:
            wrong.append(f"{where}:{imp.line} imports {other}")
        if other == own:
            continue
        private = [p for p in imp.target[1:] if p.startswith("_") and p != "__init__"]
        if imp.kind == "cimport":
            pxd = root.joinpath(*imp.target).with_suffix(".pxd")
            if not pxd.exists() and not all(
                    root.joinpath(*imp.target, n).with_suffix(".pxd").exists() for n in imp.names):
                wrong.append(f"{where}:{imp.line} cimports {'.'.join(imp.target)}, which has no .pxd")
            continue
        if private:
            wrong.append(f"{where}:{imp.line} imports {'.'.join(imp.target)} (another package's _ module)")
        for name in imp.names:
            if name.startswith("_") and not name.startswith("__"):
                wrong.append(f"{where}:{imp.line} imports {'.'.join(imp.target)}.{name} "
                             "(another package's _ module or name)")
    return wrong


# Known breaks another branch of issue 11 removes (model-fast: sizes from a
# counting sink of the encoder).  Each must still be there, so that the list
# is emptied when the fix lands.
def test_imports_point_down() -> None:
    wrong = {w for path in sources((".py",), PKG) for w in wrong_imports(path, PKG)}
    assert wrong == set(), "\n".join(sorted(wrong))


def test_cython_sources_point_down() -> None:
    files = sources(CYTHON_SUFFIXES, SRC)
    if not files:
        pytest.skip(f"no Cython sources under {SRC} (not a checkout)")
    names = {p.relative_to(SRC).as_posix() for p in files}
    assert {"codec/_wbxml.pyx", "formats/_versit.pyx"} <= names
    wrong = [w for path in files for w in wrong_imports(path, SRC)]
    assert not wrong, "\n".join(wrong)


# The rules themselves, on made-up sources (each placed where a real file
# could be, so the checks of .pxd files and include paths are real).
@pytest.mark.parametrize(("where", "line", "why"), [
    ("formats/_x.pyx", "from syncml_codec.codec import _wbxml", "another package's _ module"),
    ("formats/_x.pyx", "from syncml_codec.codec import (\n    codepages,\n    _wbxml_py,\n)", "another package's _"),
    ("formats/_x.pyx", "from syncml_codec.codec._common import thing", "another package's _ module"),
    ("formats/_x.pyx", "    from syncml_codec.engine import client", "imports engine"),
    ("formats/_x.pyx", "import syncml_codec.cli", "imports cli"),
    ("formats/_x.pyx", "from syncml_codec.codec._wbxml_util cimport Buf", "has no .pxd"),
    ("formats/_x.pyx", 'include "../codec/_wbxml_util.pxi"', "another package's file"),
    ("model/_x.pyx", "from ..codec._wbxml_util cimport Buf", "has no .pxd"),
    ("model/_x.pyx", "from ..codec cimport _wbxml_util", "has no .pxd"),
])
def test_cython_rules_catch(where: str, line: str, why: str) -> None:
    path = SRC / where
    found = list(cython_imports(path, SRC, text=f'"""doc\nimport syncml_codec.cli\n"""\n{line}  # why\n'))
    assert [i.line for i in found] == [4]
    wrong = wrong_imports(path, SRC, found)
    assert len(wrong) == 1 and why in wrong[0], wrong


@pytest.mark.parametrize("line", [
    "from syncml_codec.errors import FormatError",
    "from syncml_codec.codec.codepages import SYNCML12",
    "cimport cython",
    "from libc.string cimport memchr",
    "from cpython.object cimport PyObject",
    'include "_versit_util.pxi"',
    "from syncml_codec.formats._versit import VersitCodec",  # its own package
    "cdef extern from *:",
])
def test_cython_rules_allow(line: str) -> None:
    path = SRC / "formats" / "_x.pyx"
    assert wrong_imports(path, SRC, list(cython_imports(path, SRC, text=line + "\n"))) == []


def test_cimport_of_a_declared_interface_is_allowed(tmp_path: Path) -> None:
    (tmp_path / "codec").mkdir()
    (tmp_path / "model").mkdir()
    (tmp_path / "codec" / "_wbxml.pxd").write_text("cdef class _Dec:\n    pass\n")
    path = tmp_path / "model" / "_fast.pyx"
    for line in ("from syncml_codec.codec._wbxml cimport _Dec", "from ..codec cimport _wbxml"):
        found = list(cython_imports(path, tmp_path, text=line + "\n"))
        assert found and found[0].kind == "cimport"
        assert wrong_imports(path, tmp_path, found) == []


@pytest.mark.parametrize(("where", "source", "why"), [
    ("model/x.py", "from ..codec._common import x", "another package's _ module"),
    ("model/x.py", "def f():\n    from ..codec import _wbxml_py", "another package's _ module or name"),
    ("model/x.py", "from syncml_codec.codec.wbxml import _select", "another package's _ module or name"),
    ("formats/x.py", "if TYPE_CHECKING:\n    from ..devinf import DevInf", "imports devinf"),
])
def test_python_rules_catch(tmp_path: Path, where: str, source: str, why: str) -> None:
    path = tmp_path / where
    path.parent.mkdir(parents=True)
    path.write_text(source + "\n")
    wrong = wrong_imports(path, tmp_path)
    assert len(wrong) == 1 and why in wrong[0], wrong


def test_errors_imports_nothing_from_the_package() -> None:
    assert list(python_imports(PKG / "errors.py")) == []


def test_no_network_or_threads_below_server() -> None:
    banned = {"socket", "http", "urllib", "threading", "asyncio", "wsgiref"}
    harmless = {"urllib.parse"}  # string functions (the engine reads ?sessionid= from a URI)
    # the PostgreSQL store talks to its server (through psycopg, whose pool has threads of its own)
    # and keeps each thread's open transaction in a threading.local, behind a lock for the pool
    # the IMAP connection pool (issue 14) is shared by the server's worker threads: a lock and a condition
    allowed = {PKG / "store" / "postgres.py": {"threading"}, PKG / "mail" / "pool.py": {"threading"}}
    for path in PKG.rglob("*.py"):
        layer = layer_of(path)
        if layer is None or RANK[layer] >= RANK["server"]:
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            modules = []
            if isinstance(node, ast.Import):
                modules = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                modules = [node.module]
            names = [m.split(".")[0] for m in modules if m not in harmless]
            assert not (banned - allowed.get(path, set())).intersection(names), f"{path} imports {modules}"


# -- no import cycle inside a package -------------------------------------------------
def import_graph(package: str, root: Path) -> dict[str, set[str]]:
    """Module -> the modules of the same package it imports (every import in
    the file, wherever it stands; ``from . import x`` counts as importing
    module ``x`` when there is one, else the package's ``__init__``)."""
    base = root / package
    graph: dict[str, set[str]] = {}
    for path in sources((".py", ".pyx"), base):
        name = ".".join(path.relative_to(root).with_suffix("").parts)
        edges = graph.setdefault(name, set())
        for imp in imports_of(path, root):
            if imp.kind == "include" or not imp.target or imp.target[0] != package:
                continue
            for target in [(*imp.target, n) for n in imp.names] or [imp.target]:
                if not _is_module(root, target):
                    target = target[:-1]
                if root.joinpath(*target).is_dir():
                    target = (*target, "__init__")
                other = ".".join(target)
                if other != name:
                    edges.add(other)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module
    (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_cycle_finder() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set(), "c": {"b"}}) == []


def test_lazy_imports_make_edges(tmp_path: Path) -> None:
    pkg = tmp_path / "formats"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from .a import f\n")
    (pkg / "a.py").write_text("from .b import g\n\ndef f():\n    return g()\n")
    (pkg / "b.py").write_text("def g():\n    from . import a\n    return a\n")
    assert cycles(import_graph("formats", tmp_path)) == [["formats.a", "formats.b"]]


@pytest.mark.parametrize("package", ["cli", "formats"])
def test_no_import_cycle_within(package: str) -> None:
    graph = import_graph(package, SRC if SRC.exists() else PKG)
    assert len(graph) > 3
    assert cycles(graph) == []
