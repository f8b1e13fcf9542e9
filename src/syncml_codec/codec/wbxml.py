"""Picks the WBXML implementation: the Cython extension when it is
importable, else the pure-Python twin.

``SYNCML_CODEC_NO_EXTENSIONS=1`` forces the twin;
``SYNCML_CODEC_REQUIRE_EXTENSION=1`` makes a missing extension an error
(CI sets it, so a broken build cannot pass as pure Python).

:func:`trace_tokens` lists a document's tokens with their offsets (one
Python walker for both implementations: not a hot path); the languages a
decoder can be forced to (``language=``) are named in :data:`LANGUAGE_NAMES`.

``body_size`` counts what the (pure-Python) encoder writes for one element
in a given code page: the sizes ``model.size`` needs while a message is
being built, when the model's own extension is not there to count them.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from types import ModuleType

from . import _wbxml_py
from ._common import LANGUAGE_NAMES, MAX_INDENT, encode_options, language_named
from ._pywbxml import encoder as _py_encoder
from ._trace import PUBLIC_IDS, TokenKind, TokenTrace, trace_tokens
from .codepages import Language
from .tree import Element

__all__ = ["IMPLEMENTATION", "LANGUAGE_NAMES", "MAX_INDENT", "PUBLIC_IDS", "TokenKind", "TokenTrace",
           "available_implementations", "body_size", "decode", "encode", "env_flag", "implementation",
           "language_named", "load_extension", "trace_tokens", "wbxml_to_xml", "xml_to_wbxml"]


def env_flag(name: str) -> bool:
    """Whether the environment variable ``name`` is set to something true
    (not empty, ``0``, ``false`` or ``no``)."""
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


def load_extension(load: Callable[[], ModuleType]) -> ModuleType | None:
    """A layer's C extension (``load()`` imports it), or None for its
    pure-Python twin, by the switches every layer follows:
    ``SYNCML_CODEC_NO_EXTENSIONS`` gives None, ``SYNCML_CODEC_REQUIRE_EXTENSION``
    turns a failed import into an error (both at once are an error)."""
    if env_flag("SYNCML_CODEC_NO_EXTENSIONS"):
        if env_flag("SYNCML_CODEC_REQUIRE_EXTENSION"):
            raise ImportError("SYNCML_CODEC_NO_EXTENSIONS and SYNCML_CODEC_REQUIRE_EXTENSION are both set")
        return None
    try:
        return load()
    except ImportError:
        if env_flag("SYNCML_CODEC_REQUIRE_EXTENSION"):
            raise
        return None


def _import_extension() -> ModuleType:
    from . import _wbxml

    return _wbxml


implementation: ModuleType = load_extension(_import_extension) or _wbxml_py
#: ``"cython"`` or ``"python"``
IMPLEMENTATION: str = implementation.IMPLEMENTATION
decode = implementation.decode
encode = implementation.encode
wbxml_to_xml = implementation.wbxml_to_xml
xml_to_wbxml = implementation.xml_to_wbxml


def available_implementations() -> dict[str, ModuleType]:
    """Every implementation importable here, by name (``"python"``, and
    ``"cython"`` when the extension imports, whatever the switches say): for
    comparing them (``syncml bench --impl both``).  Each module has
    ``decode``, ``encode``, ``wbxml_to_xml`` and ``xml_to_wbxml``."""
    found: dict[str, ModuleType] = {}
    with contextlib.suppress(ImportError):
        found["cython"] = _import_extension()
    found["python"] = _wbxml_py
    return found


def body_size(root: Element, language: Language, page: int = 0) -> tuple[int, int]:
    """``(n, page_after)``: the bytes ``root`` adds to the body of a WBXML
    document of ``language`` whose code page is ``page``, and the code page
    in force after it -- the (pure-Python) encoder run with the defaults of
    ``encode`` and counted, so the sizes are the encoder's by definition.
    For sizing messages while they are built (``model.size``)."""
    version, mib, codec, _, text_pid = encode_options("1.3", False, "numeric", "utf-8")
    enc = _py_encoder._Encoder(language, version, mib, codec, False, text_pid, None, [0])
    enc.page = page
    _py_encoder._walk(enc, root)
    return len(enc.body), enc.page
