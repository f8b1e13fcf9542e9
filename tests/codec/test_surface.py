"""Both implementations have exactly the surface in ``_wbxml.pyi``, and the
selector honours the environment switches."""

from __future__ import annotations

import ast
import inspect
import os
import subprocess
import sys
from pathlib import Path

import pytest

import syncml_codec.codec as codec_pkg

PYI = Path(codec_pkg.__file__).with_name("_wbxml.pyi")


def stub_signatures() -> dict[str, list[tuple[str, str, str | None]]]:
    tree = ast.parse(PYI.read_text())
    out = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            args = node.args
            params = [(a.arg, "positional", None) for a in args.args]
            keyword = zip(args.kwonlyargs, args.kw_defaults, strict=True)
            params += [(a.arg, "keyword", ast.unparse(d)) for a, d in keyword]
            out[node.name] = params
    return out


def impl_signature(fn) -> list[tuple[str, str, str | None]]:
    params = []
    for p in inspect.signature(fn).parameters.values():
        kind = "keyword" if p.kind is p.KEYWORD_ONLY else "positional"
        default = None if p.default is p.empty else repr(p.default)
        params.append((p.name, kind, default))
    return params


def test_surface_matches_stub(wbxml):
    stubs = stub_signatures()
    assert set(stubs) == {"decode", "wbxml_to_xml", "encode", "xml_to_wbxml"}
    for name, params in stubs.items():
        assert impl_signature(getattr(wbxml, name)) == params, name
    assert wbxml.IMPLEMENTATION in ("cython", "python")


def _impl_in_subprocess(**env: str) -> subprocess.CompletedProcess[str]:
    code = "from syncml_codec.codec import wbxml; print(wbxml.IMPLEMENTATION)"
    full = {k: v for k, v in os.environ.items() if not k.startswith("SYNCML_CODEC_")}
    full.update(env)
    return subprocess.run([sys.executable, "-c", code], env=full, capture_output=True, text=True, timeout=60)


def test_no_extensions_switch():
    proc = _impl_in_subprocess(SYNCML_CODEC_NO_EXTENSIONS="1")
    assert proc.stdout.strip() == "python"


def test_default_prefers_the_extension():
    from ..conftest import _wbxml_c
    proc = _impl_in_subprocess()
    assert proc.stdout.strip() == ("python" if _wbxml_c is None else "cython")


def test_require_and_no_extensions_conflict():
    proc = _impl_in_subprocess(SYNCML_CODEC_NO_EXTENSIONS="1", SYNCML_CODEC_REQUIRE_EXTENSION="1")
    assert proc.returncode != 0 and "both set" in proc.stderr


@pytest.mark.skipif(os.environ.get("SYNCML_CODEC_NO_EXTENSIONS"), reason="pure-Python run")
def test_require_extension_means_cython():
    from ..conftest import REQUIRE_EXTENSION
    if not REQUIRE_EXTENSION:
        pytest.skip("SYNCML_CODEC_REQUIRE_EXTENSION is not set")
    assert codec_pkg.IMPLEMENTATION == "cython"
