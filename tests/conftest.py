"""Shared fixtures.

``wbxml`` runs a test once per WBXML implementation (the Cython extension
and its pure-Python twin); ``versit_impl`` does the same for the Versit
tokenizer (the ``formats._versit`` extension and ``formats.versit``).  Without the extension its half is skipped,
unless ``SYNCML_CODEC_REQUIRE_EXTENSION=1`` (CI), where that is a failure.

The real-traffic corpus lives in ``../shared/corpus`` beside the checkout.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from syncml_codec.codec import _wbxml_py

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("SYNCML_CODEC_CORPUS", ROOT.parent / "shared" / "corpus"))
DATA = Path(__file__).resolve().parent / "data"
#: the package's sources in this checkout: the Cython files are not installed,
#: so tests that read sources read them here, not beside the imported package
SRC = ROOT / "src" / "syncml_codec"

try:
    from syncml_codec.codec import _wbxml as _wbxml_c  # type: ignore[attr-defined]
except ImportError as exc:
    _wbxml_c = None
    _IMPORT_ERROR = str(exc)
else:
    _IMPORT_ERROR = ""

try:
    from syncml_codec.formats import _versit as _versit_c
except ImportError as exc:
    _versit_c = None
    _VERSIT_IMPORT_ERROR = str(exc)
else:
    _VERSIT_IMPORT_ERROR = ""

REQUIRE_EXTENSION = os.environ.get("SYNCML_CODEC_REQUIRE_EXTENSION", "") not in ("", "0")
NO_EXTENSIONS = os.environ.get("SYNCML_CODEC_NO_EXTENSIONS", "") not in ("", "0")


def cython_impl():
    if _wbxml_c is None:
        if REQUIRE_EXTENSION:
            pytest.fail(f"the Cython extension is required but does not import: {_IMPORT_ERROR}")
        pytest.skip(f"the Cython extension is not built ({_IMPORT_ERROR})")
    return _wbxml_c


def mypy_error_lines(probe_source: str, tmp_path: Path) -> tuple[list[int], list[int], str]:
    """Type-check ``probe_source`` with ``mypy --strict``: (the lines mypy
    finds errors on, the lines marked ``# E:``, mypy's output).  Skipped
    when mypy is not installed (it is in the test extra)."""
    import shutil
    import subprocess
    import sys
    import textwrap

    if shutil.which("mypy") is None and not Path(sys.executable).with_name("mypy").exists():
        pytest.skip("mypy not installed")
    source = textwrap.dedent(probe_source)
    probe = tmp_path / "probe.py"
    probe.write_text(source)
    out = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental",
                          "--cache-dir", str(tmp_path / "cache"), str(probe)],
                         capture_output=True, text=True, check=False).stdout
    found = sorted({int(line.split(":")[1]) for line in out.splitlines() if ": error:" in line})
    expected = [n for n, line in enumerate(source.splitlines(), 1) if "# E:" in line]
    return found, expected, out


def model_fast():
    """The model's fast path (``syncml_codec.model._fast``, as ``Message``
    uses it): skipped in a pure-Python run or without the codec extension
    (failed when the extension is required), failed when the codec
    extension is there but the fast path is not."""
    if NO_EXTENSIONS:
        pytest.skip("SYNCML_CODEC_NO_EXTENSIONS=1: pure-Python run")
    cython_impl()
    from syncml_codec.model.message import FAST

    if FAST is None:
        pytest.fail("the codec extension is built but model._fast is not")
    return FAST


def cython_versit():
    """The Versit extension (``syncml_codec.formats._versit``), skipped or
    failed like :func:`cython_impl`."""
    if _versit_c is None:
        if REQUIRE_EXTENSION:
            pytest.fail(f"the Cython Versit extension is required but does not import: {_VERSIT_IMPORT_ERROR}")
        pytest.skip(f"the Cython Versit extension is not built ({_VERSIT_IMPORT_ERROR})")
    return _versit_c


@pytest.fixture(params=["cython", "python"])
def wbxml(request):
    """The WBXML implementation under test (module with decode, encode,
    wbxml_to_xml, xml_to_wbxml)."""
    if request.param == "python":
        return _wbxml_py
    if NO_EXTENSIONS:
        pytest.skip("SYNCML_CODEC_NO_EXTENSIONS=1: pure-Python run")
    return cython_impl()


@pytest.fixture(params=["cython", "python"])
def versit_impl(request):
    """The Versit tokenizer under test (``formats.versit.Tokenizer`` with
    parse_items and serialize_items): the extension's C port or the
    pure-Python reference, skipped / failed like ``wbxml``."""
    from syncml_codec.formats import versit

    if request.param == "python":
        return versit.PYTHON
    if NO_EXTENSIONS:
        pytest.skip("SYNCML_CODEC_NO_EXTENSIONS=1: pure-Python run")
    return versit.cython_tokenizer(cython_versit())


def corpus_path(*parts: str) -> Path:
    path = CORPUS.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"corpus not found at {path} (expected ../shared/corpus beside the checkout)")
    return path


def corpus_files(folder: str, pattern: str) -> list[Path]:
    base = CORPUS / folder
    if not base.exists():
        return []
    return sorted(p for p in base.glob(pattern) if p.is_file())


def ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(CORPUS)) for p in paths]
