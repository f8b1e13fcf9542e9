"""Imports point one way: errors <- codec <- model <- devinf/formats <-
store <- engine <- server <- cli (the engine uses the store protocol; a store
knows nothing of the engine; ``syncml serve`` runs the server's WSGI app).
Checked by reading the source with ast."""

from __future__ import annotations

import ast
from pathlib import Path

import syncml_codec

PKG = Path(syncml_codec.__file__).parent
# a layer may import only from layers with a lower rank
RANK = {"errors": 0, "codec": 1, "model": 2, "devinf": 3, "formats": 3, "store": 4, "engine": 5,
        "server": 6, "cli": 7}


def layer_of(path: Path) -> str | None:
    rel = path.relative_to(PKG).parts
    name = rel[0].removesuffix(".py")
    return name if name in RANK else None


def imported_layers(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    pkg_parts = path.relative_to(PKG).parts[:-1]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(pkg_parts)[: len(pkg_parts) - node.level + 1]
                target = base + (node.module.split(".") if node.module else [])
                if not target:  # "from .. import x": x names the layer
                    target = [alias.name for alias in node.names]
                    found.update(t for t in target if t in RANK)
                    continue
            elif node.module and node.module.startswith("syncml_codec."):
                target = node.module.split(".")[1:]
            else:
                continue
            if target and target[0] in RANK:
                found.add(target[0])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "syncml_codec" and len(parts) > 1 and parts[1] in RANK:
                    found.add(parts[1])
    return found


def test_imports_point_down():
    wrong = []
    for path in PKG.rglob("*.py"):
        layer = layer_of(path)
        if layer is None:
            continue
        for other in imported_layers(path):
            if other != layer and RANK[other] >= RANK[layer]:
                wrong.append(f"{path.relative_to(PKG)} imports {other}")
    assert not wrong


def test_errors_imports_nothing_from_the_package():
    assert imported_layers(PKG / "errors.py") == set()


def test_no_network_or_threads_below_server():
    banned = {"socket", "http", "urllib", "threading", "asyncio", "wsgiref"}
    harmless = {"urllib.parse"}  # string functions (the engine reads ?sessionid= from a URI)
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
            assert not banned.intersection(names), f"{path} imports {modules}"
