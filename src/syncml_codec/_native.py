"""Which implementation runs each layer that has a C extension, and the
:class:`~syncml_codec.errors.PurePythonWarning` when the build meant an
extension to be there and it is not.

Each layer picks its implementation itself when it is imported
(``codec.wbxml``, ``model.message``, ``formats.versit``); this module only
reports.  The check at ``import syncml_codec`` must stay cheap: that import
loads codec and model but not formats (about 160 ms more), so the formats
extension is looked for as a file unless formats is already loaded.

Expected: unless ``SYNCML_CODEC_NO_EXTENSIONS`` is set or the package was
built with ``SYNCML_CODEC_EXTENSION=skip`` (``setup.py`` records the policy
in ``_build.json``; without that record, e.g. a checkout on ``sys.path``,
the extensions are expected, as they are by default).
"""

from __future__ import annotations

import json
import sys
import warnings
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

from .codec.wbxml import env_flag
from .errors import PurePythonWarning

__all__ = ["implementations", "warn_if_missing"]

_HERE = Path(__file__).parent
# layer -> its extension module, relative to the package
EXTENSIONS = {"codec": "codec._wbxml", "model": "model._fast", "formats": "formats._versit"}


def implementations() -> dict[str, str]:
    """The implementation running each layer that has a C extension,
    ``"cython"`` or ``"python"``: ``{"codec": ..., "model": ...,
    "formats": ...}`` (imports the formats layer)."""
    from .codec import wbxml
    from .formats import versit
    from .model import message

    return {"codec": wbxml.IMPLEMENTATION, "model": "python" if message.FAST is None else "cython",
            "formats": versit.IMPLEMENTATION}


#: written by setup.py's build_py: {"extensions": "require" | "skip" | "try"}
RECORD = _HERE / "_build.json"


def build_policy() -> str:
    """``SYNCML_CODEC_EXTENSION`` of the build, from its record: ``"require"``,
    ``"skip"`` or ``"try"`` (also when there is no readable record)."""
    try:
        policy = json.loads(RECORD.read_text())["extensions"]
    except (OSError, ValueError, KeyError, TypeError):
        return "try"
    return policy if policy in ("require", "skip") else "try"


def _binary_exists(module: str) -> bool:
    base = _HERE.joinpath(*module.split("."))
    return any(base.with_name(base.name + suffix).is_file() for suffix in EXTENSION_SUFFIXES)


def missing() -> list[str]:
    """The layers running pure Python although their extension was expected
    (empty when pure Python was asked for)."""
    if env_flag("SYNCML_CODEC_NO_EXTENSIONS") or build_policy() == "skip":
        return []
    from .codec import wbxml
    from .model import message

    loaded = {"codec": wbxml.IMPLEMENTATION == "cython", "model": message.FAST is not None}
    versit = sys.modules.get(f"{__package__}.formats.versit")
    loaded["formats"] = (getattr(versit, "IMPLEMENTATION", None) == "cython" if versit is not None
                         else _binary_exists(EXTENSIONS["formats"]))
    return [layer for layer, ok in loaded.items() if not ok]


def warn_if_missing() -> None:
    """Warn (:class:`PurePythonWarning`, attributed to the caller: the
    package's ``__init__``) when expected extensions are missing."""
    layers = missing()
    if layers:
        names = ", ".join(f"{__package__}.{EXTENSIONS[layer]}" for layer in layers)
        warnings.warn(
            f"syncml-codec runs pure Python for {', '.join(layers)}: {names} not built or not loadable "
            "(same results, 15-40x slower). Reinstall with a C compiler (SYNCML_CODEC_EXTENSION=require "
            "makes a failed build an error), or silence this: SYNCML_CODEC_NO_EXTENSIONS=1 or "
            "-W 'ignore::RuntimeWarning:syncml_codec'",
            PurePythonWarning, stacklevel=2)
