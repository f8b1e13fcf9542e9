"""The public API of syncml_codec, as the docs and the test of docstrings see it.

A public name is a name in the ``__all__`` of a package of ``syncml_codec`` (no
``_private`` part in its dotted name), or in the ``__all__`` of a module that such
an ``__all__`` lists (``syncml_codec.errors``, ``syncml_codec.model.auth``).

Classes and functions carry their docstring; a constant cannot (its ``__doc__``
is its type's), so it is documented where it is assigned, Sphinx's way: ``#:``
comment lines right above the assignment, or a string right below it.
:func:`attribute_doc` follows ``from ... import`` re-exports to that assignment.

As a Sphinx extension (``extensions = ["public_api"]``) it gives the directive
``.. public-api:: MODULE`` (a module's page: its docstring, its classes and
functions by autodoc, its constants with the documentation at their assignment,
and links for the names it re-exports from another public module), and warns (an
error under ``-W``) for every public name the built docs do not describe or that
has no docstring.
"""

from __future__ import annotations

import ast
import dataclasses
import enum
import importlib
import importlib.util
import inspect
import pkgutil
import types
from collections.abc import Iterator
from functools import cache
from typing import Any

ROOT = "syncml_codec"


def public_modules(root: str = ROOT) -> list[str]:
    """The dotted names of the packages with an ``__all__``, and of the modules their ``__all__`` lists."""
    package = importlib.import_module(root)
    packages = [root] + [
        info.name for info in pkgutil.walk_packages(package.__path__, root + ".")
        if info.ispkg and not any(part.startswith("_") for part in info.name.split("."))
    ]
    found: list[str] = []

    def add(name: str) -> None:
        module = importlib.import_module(name)
        if name in found or not hasattr(module, "__all__"):
            return
        found.append(name)
        for attr in module.__all__:
            value = getattr(module, attr)
            if isinstance(value, types.ModuleType):
                add(value.__name__)

    for name in packages:
        add(name)
    return found


def public_names(root: str = ROOT) -> Iterator[tuple[str, str, Any]]:
    """``(module, name, object)`` for every public name."""
    for modname in public_modules(root):
        module = importlib.import_module(modname)
        for name in module.__all__:
            yield modname, name, getattr(module, name)


def is_data(obj: Any) -> bool:
    """Whether ``obj`` is documented as a constant (at its assignment) rather than by its own docstring."""
    return not (isinstance(obj, types.ModuleType) or inspect.isclass(obj) or callable(obj)) \
        or _is_type_alias(obj)


def _is_type_alias(obj: Any) -> bool:
    return not inspect.isclass(obj) and (type(obj).__module__ in ("typing", "typing_extensions")
                                         or isinstance(obj, types.GenericAlias))


def own_doc(obj: Any) -> str | None:
    """The docstring written for a module, class or function; None where there is none, or only one
    Python made up (a dataclass's signature, an Enum's default text) or inherited."""
    if inspect.isclass(obj):
        doc = obj.__dict__.get("__doc__")
        if doc and dataclasses.is_dataclass(obj) and doc.startswith(obj.__name__ + "("):
            doc = None
        if doc and issubclass(obj, enum.Enum) and doc == "An enumeration.":
            doc = None
    else:
        doc = getattr(obj, "__doc__", None)
    return inspect.cleandoc(doc) if isinstance(doc, str) and doc.strip() else None


@cache
def _tree(modname: str) -> tuple[ast.Module, tuple[str, ...], str]:
    module = importlib.import_module(modname)
    source = inspect.getsource(module)
    package = modname if hasattr(module, "__path__") else modname.rpartition(".")[0]
    return ast.parse(source), tuple(source.splitlines()), package


def attribute_doc(modname: str, name: str) -> str | None:
    """The documentation of the constant ``modname.name``, from the ``#:`` comments above its assignment
    or the string below it, following re-exports; None if it has none."""
    tree, lines, package = _tree(modname)
    body = tree.body
    for index, node in enumerate(body):
        if isinstance(node, ast.If):  # an assignment chosen at import time: look in both branches
            for branch in (node.body, node.orelse):
                for sub in branch:
                    if name in _targets(sub):
                        return _comment_above(lines, node.lineno) or _comment_above(lines, sub.lineno)
        if name in _targets(node):
            following = body[index + 1] if index + 1 < len(body) else None
            if (isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant)
                    and isinstance(following.value.value, str)):
                return inspect.cleandoc(following.value.value)
            return _comment_above(lines, node.lineno)
    for node in body:
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if (alias.asname or alias.name) == name:
                    source = importlib.util.resolve_name("." * node.level + (node.module or ""), package)
                    return attribute_doc(source, alias.name)
    return None


def _targets(node: ast.stmt) -> list[str]:
    if isinstance(node, ast.Assign):
        return [target.id for target in node.targets if isinstance(target, ast.Name)]
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return [node.target.id]
    return []


def _comment_above(lines: tuple[str, ...], lineno: int) -> str | None:
    comment: list[str] = []
    index = lineno - 2
    while index >= 0 and lines[index].lstrip().startswith("#:"):
        comment.insert(0, lines[index].lstrip()[2:].strip())
        index -= 1
    return "\n".join(comment) or None


def doc_of(modname: str, name: str, obj: Any) -> str | None:
    """The documentation of one public name, wherever it is written."""
    return attribute_doc(modname, name) if is_data(obj) else own_doc(obj)


def home(modname: str, name: str, obj: Any) -> str:
    """The public module whose page documents ``obj`` (``modname.name`` is an alias elsewhere): for a class
    or function the deepest public module exporting it that contains the module defining it, for a
    module the module itself, for a constant the deepest public module exporting it under that name."""
    if isinstance(obj, types.ModuleType):
        return obj.__name__
    exporters = [m for m, n, o in public_names() if o is obj and (n == name or not is_data(o))]
    defined = "" if is_data(obj) else getattr(obj, "__module__", None) or ""
    inside = [m for m in exporters if defined == m or defined.startswith(m + ".")]
    return max(inside or exporters, key=lambda m: (m.count("."), m))


def _private_base(obj: Any) -> bool:
    """Whether the class ``obj`` inherits from a class of a private module of the package."""
    return inspect.isclass(obj) and any(
        base.__module__.startswith(ROOT + ".") and any(p.startswith("_") for p in base.__module__.split("."))
        for base in obj.__mro__[1:])


# --- the Sphinx extension --------------------------------------------------------------------------

_SHORT_VALUE = 60


def _api_page(modname: str) -> tuple[str, list[str]]:
    """The reST of one module's page, and the public names it lists as aliases."""
    module = importlib.import_module(modname)
    members, constants, aliases = [], [], []
    for name in module.__all__:
        obj = getattr(module, name)
        where = home(modname, name, obj)
        if where != modname:
            aliases.append((name, obj, where))
        elif is_data(obj):
            constants.append((name, obj))
        else:
            members.append(name)
    # a class with a private base (the stores' store._sql.SQLStore) shows that base's methods as its own:
    # they are its API, and the private base has no page
    heirs = [name for name in members if _private_base(getattr(module, name))]
    members = [name for name in members if name not in heirs]
    out = [f".. automodule:: {modname}"]
    if members:
        out.append(f"   :members: {', '.join(members)}")
    out.append("")
    for name in heirs:
        out += [f".. autoclass:: {modname}.{name}", "   :members:", "   :inherited-members:", ""]
    if constants:
        out += [".. rubric:: Constants", ""]
        for name, obj in constants:
            out.append(f".. py:data:: {name}")
            out.append(f"   :module: {modname}")
            value = repr(obj)
            if len(value) <= _SHORT_VALUE and "\n" not in value:
                out.append(f"   :value: {value}")
            out.append("")
            out += [f"   {line}" if line else "" for line in (attribute_doc(modname, name) or "").splitlines()]
            out.append("")
    if aliases:
        out += [".. rubric:: Also here", "",
                "These public names are the same objects as those documented on their own module's page:", ""]
        for name, obj, where in aliases:
            if isinstance(obj, types.ModuleType):
                target = f":py:mod:`{obj.__name__}`"
            else:
                there = next(n for n in importlib.import_module(where).__all__
                             if getattr(importlib.import_module(where), n) is obj and (n == name or not is_data(obj)))
                target = f":py:obj:`{where}.{there}`"
            out.append(f"- ``{name}``: {target}")
        out.append("")
    return "\n".join(out), [f"{modname}.{name}" for name, _, _ in aliases]


def _directive() -> Any:
    from sphinx.util.docutils import SphinxDirective

    class PublicAPI(SphinxDirective):
        """``.. public-api:: syncml_codec.store``: the module's docstring, then each name of its ``__all__``:
        classes and functions by autodoc, constants with the documentation at their assignment, and the
        names it re-exports from another public module as links there."""

        required_arguments = 1

        def run(self) -> list[Any]:
            text, aliases = _api_page(self.arguments[0])
            listed = self.env.__dict__.setdefault("public_api_aliases", {})
            listed.setdefault(self.env.docname, set()).update(aliases)
            return self.parse_text_to_nodes(text)

    return PublicAPI


def _purge(app: Any, env: Any, docname: str) -> None:
    env.__dict__.get("public_api_aliases", {}).pop(docname, None)


def _merge(app: Any, env: Any, docnames: Any, other: Any) -> None:
    env.__dict__.setdefault("public_api_aliases", {}).update(other.__dict__.get("public_api_aliases", {}))


def _check_consistency(app: Any, env: Any) -> None:
    from sphinx.util import logging

    documented = set(env.get_domain("py").objects)
    aliases = set().union(*env.__dict__.get("public_api_aliases", {}).values())
    logger = logging.getLogger(__name__)
    for modname, name, obj in public_names():
        full = obj.__name__ if isinstance(obj, types.ModuleType) else f"{modname}.{name}"
        if full not in documented and f"{modname}.{name}" not in aliases:
            logger.warning("public name %s is not in the documentation", full)
        if not doc_of(modname, name, obj):
            logger.warning("public name %s.%s has no docstring", modname, name)


def setup(app: Any) -> dict[str, Any]:
    app.add_directive("public-api", _directive())
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    app.connect("env-check-consistency", _check_consistency)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
