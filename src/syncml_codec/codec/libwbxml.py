"""libwbxml2 (the C WBXML library behind ``wbxml2xml``/``xml2wbxml``) called
in-process through ctypes, for comparisons: ``syncml bench`` and the
benchmarks time our codec against it on the same messages.

Loaded only when asked for (:func:`load_libwbxml`); nothing else in the
package needs it.  ``SYNCML_CODEC_LIBWBXML`` names the library to load (a
file name or path; ``none`` to act as if it were not installed), else it is
looked up as ``wbxml2`` and then ``libwbxml2.so.1``.  Each call creates and
destroys one converter, as libwbxml's own tools do per document.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from typing import Any

__all__ = ["LibWBXML", "LibWBXMLError", "load_libwbxml"]


class LibWBXMLError(RuntimeError):
    """libwbxml refused a document (its error code is in the message)."""


class LibWBXML:
    """libwbxml2's ``wbxml_conv_*`` converters: compact XML out, WBXML 1.3
    without a string table in (what our encoder writes by default)."""

    COMPACT = 0
    VERSION_13 = 3

    def __init__(self, name: str | None = None) -> None:
        """Load ``name`` (default: found as described in the module); raises
        :class:`OSError` when it cannot be loaded."""
        lib = ctypes.CDLL(name or ctypes.util.find_library("wbxml2") or "libwbxml2.so.1")
        self.name = getattr(lib, "_name", name) or "libwbxml2"
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        self._free = libc.free
        self._free.argtypes = [ctypes.c_void_p]
        p, pp = ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p)
        ul, pul = ctypes.c_ulong, ctypes.POINTER(ctypes.c_ulong)
        self._fn: dict[str, Any] = {}
        for fn, args in [
            ("wbxml2xml_create", [pp]), ("wbxml2xml_set_gen_type", [p, ctypes.c_int]),
            ("wbxml2xml_run", [p, ctypes.c_char_p, ul, pp, pul]), ("wbxml2xml_destroy", [p]),
            ("xml2wbxml_create", [pp]), ("xml2wbxml_set_version", [p, ctypes.c_int]),
            ("xml2wbxml_disable_string_table", [p]),
            ("xml2wbxml_run", [p, ctypes.c_char_p, ul, pp, pul]), ("xml2wbxml_destroy", [p]),
        ]:
            f = getattr(lib, "wbxml_conv_" + fn)
            f.argtypes = args
            f.restype = ctypes.c_int
            self._fn[fn] = f

    def _take(self, out: ctypes.c_void_p, n: ctypes.c_ulong) -> bytes:
        result = ctypes.string_at(out, n.value)
        self._free(out)
        return result

    def wbxml_to_xml(self, data: bytes) -> bytes:
        """WBXML -> compact XML; :class:`LibWBXMLError` when libwbxml fails."""
        f = self._fn
        conv, out, n = ctypes.c_void_p(), ctypes.c_void_p(), ctypes.c_ulong()
        if f["wbxml2xml_create"](ctypes.byref(conv)):
            raise LibWBXMLError("libwbxml: create failed")
        f["wbxml2xml_set_gen_type"](conv, self.COMPACT)
        ret = f["wbxml2xml_run"](conv, data, len(data), ctypes.byref(out), ctypes.byref(n))
        f["wbxml2xml_destroy"](conv)
        if ret:
            raise LibWBXMLError(f"libwbxml: wbxml2xml error {ret}")
        return self._take(out, n)

    def xml_to_wbxml(self, data: bytes) -> bytes:
        """XML -> WBXML 1.3, no string table; :class:`LibWBXMLError` when libwbxml fails."""
        f = self._fn
        conv, out, n = ctypes.c_void_p(), ctypes.c_void_p(), ctypes.c_ulong()
        if f["xml2wbxml_create"](ctypes.byref(conv)):
            raise LibWBXMLError("libwbxml: create failed")
        f["xml2wbxml_set_version"](conv, self.VERSION_13)
        f["xml2wbxml_disable_string_table"](conv)
        ret = f["xml2wbxml_run"](conv, data, len(data), ctypes.byref(out), ctypes.byref(n))
        f["xml2wbxml_destroy"](conv)
        if ret:
            raise LibWBXMLError(f"libwbxml: xml2wbxml error {ret}")
        return self._take(out, n)


def load_libwbxml() -> tuple[LibWBXML | None, str]:
    """``(library, "")`` when libwbxml2 loads, else ``(None, why not)``."""
    name = os.environ.get("SYNCML_CODEC_LIBWBXML", "").strip() or None
    if name is not None and name.lower() == "none":
        return None, "libwbxml2 not used (SYNCML_CODEC_LIBWBXML=none)"
    try:
        return LibWBXML(name), ""
    except (OSError, AttributeError) as exc:
        return None, f"libwbxml2 is not installed or cannot be loaded ({exc})"
