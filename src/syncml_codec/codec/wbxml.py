"""Picks the WBXML implementation: the Cython extension when it is
importable, else the pure-Python twin.

``SYNCML_CODEC_NO_EXTENSIONS=1`` forces the twin;
``SYNCML_CODEC_REQUIRE_EXTENSION=1`` makes a missing extension an error
(CI sets it, so a broken build cannot pass as pure Python).
"""

from __future__ import annotations

import os
from types import ModuleType

from . import _wbxml_py

__all__ = ["IMPLEMENTATION", "decode", "encode", "implementation", "wbxml_to_xml", "xml_to_wbxml"]


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


def _select() -> ModuleType:
    if _flag("SYNCML_CODEC_NO_EXTENSIONS"):
        if _flag("SYNCML_CODEC_REQUIRE_EXTENSION"):
            raise ImportError("SYNCML_CODEC_NO_EXTENSIONS and SYNCML_CODEC_REQUIRE_EXTENSION are both set")
        return _wbxml_py
    try:
        from . import _wbxml
    except ImportError:
        if _flag("SYNCML_CODEC_REQUIRE_EXTENSION"):
            raise
        return _wbxml_py
    return _wbxml


implementation: ModuleType = _select()
#: ``"cython"`` or ``"python"``
IMPLEMENTATION: str = implementation.IMPLEMENTATION
decode = implementation.decode
encode = implementation.encode
wbxml_to_xml = implementation.wbxml_to_xml
xml_to_wbxml = implementation.xml_to_wbxml
