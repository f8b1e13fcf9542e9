"""Our decoding of every corpus WBXML message against libwbxml's
``wbxml2xml`` (run as a subprocess: the Debian build is known to crash on
some hostile input, and a crash must not take the test run with it)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from .corpus import WBXML_FILES, rel
from .xmlshape import shape

WBXML2XML = shutil.which("wbxml2xml")
# libwbxml cannot read these: no iconv in Debian's build (Latin-1), and
# binary data it writes raw into XML (not well-formed).
LIBWBXML_CANNOT = {"syncml12-latin1-charset.wbxml", "syncml12-nextnonce-binary-data.wbxml"}


def libwbxml_decode(path: Path, tmp_path: Path) -> bytes:
    out = tmp_path / "out.xml"
    proc = subprocess.run([WBXML2XML, "-o", str(out), str(path)], capture_output=True, timeout=20)
    assert proc.returncode == 0, proc.stderr
    return out.read_bytes()


@pytest.mark.skipif(WBXML2XML is None and not os.environ.get("CI"),
                    reason="wbxml2xml not installed (apt-get install libwbxml2-utils)")
@pytest.mark.parametrize("path", [p for p in WBXML_FILES if p.name not in LIBWBXML_CANNOT], ids=rel)
def test_same_as_libwbxml(wbxml, path: Path, tmp_path: Path):
    assert WBXML2XML is not None, "CI must install libwbxml2-utils"
    theirs = libwbxml_decode(path, tmp_path)
    ours = wbxml.wbxml_to_xml(path.read_bytes(), pretty=True)
    assert shape(ours) == shape(theirs)
