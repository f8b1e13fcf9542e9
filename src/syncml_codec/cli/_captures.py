"""Reading the captures named on the command line (``syncml inspect``,
``decode``, ``replay``): files, ``-`` for stdin, directories (their files in
name order), each read with :func:`syncml_codec.capture.read_capture` as the
kind ``--input`` forces or the detected one.  A file that cannot be opened
becomes an error note of its own, so the other inputs are still read.

Directories are read as what they hold:

* a SyncEvolution log directory (``syncevolution-log.html`` and the message
  dumps beside it) is one capture (:func:`~syncml_codec.capture.read_syncevolution_dir`);
* a recorded session (``NNN-request.wbxml`` and ``NNN-response.wbxml``, as
  ``se-client capture`` writes them) is one capture, in NNN order, each
  message's HTTP method, path, status and headers from its ``.json``
  sidecar (``body_file`` names the body), the direction from the file name;
* any other file is a capture of its own (with its sidecar's HTTP facts when
  it has one).  Sidecars, notes and renderings (``.json``, ``.md``, ``.ini``,
  ``*.wbxml.xml``) are skipped, not read as captures.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
from collections.abc import Sequence
from typing import Any

from ..capture import (
    INPUT_KINDS,
    Capture,
    CaptureNote,
    Direction,
    HttpInfo,
    InputKind,
    read_capture,
    read_syncevolution_dir,
    syncevolution_dumps,
)
from ._common import CommandError, read_input

__all__ = ["add_input_argument", "load_captures"]


def add_input_argument(p: argparse.ArgumentParser) -> None:
    """``--input KIND``: read every input as that kind instead of detecting it."""
    p.add_argument("--input", choices=INPUT_KINDS, metavar="KIND", default=None,
                   help="read the inputs as KIND (" + "|".join(INPUT_KINDS) + ") instead of detecting it")


_SKIPPED = (".json", ".md", ".ini", ".wbxml.xml")
_RECORDED = re.compile(r"^\d+-(request|response)\.[A-Za-z0-9]+$")
_MAX_SIDECAR = 1024 * 1024


def _skipped(name: str) -> bool:
    return name.lower().endswith(_SKIPPED) or name.startswith(".")


def _sidecars(folder: str, files: list[str]) -> dict[str, dict[str, Any]]:
    """The JSON sidecars in ``folder`` by the body file they describe."""
    out: dict[str, dict[str, Any]] = {}
    for f in files:
        if not f.endswith(".json") or f == "index.json":
            continue
        try:
            with open(os.path.join(folder, f), "rb") as fh:
                meta = json.loads(fh.read(_MAX_SIDECAR))
        except (OSError, ValueError):
            continue
        if isinstance(meta, dict) and isinstance(meta.get("body_file"), str):
            out[meta["body_file"]] = meta
    return out


def _http(meta: dict[str, Any]) -> HttpInfo:
    headers = meta.get("headers")
    pairs = tuple((str(k), str(v)) for k, v in headers.items()) if isinstance(headers, dict) else ()
    status = meta.get("status")
    return HttpInfo(method=meta.get("method") if isinstance(meta.get("method"), str) else None,
                    target=meta.get("path") if isinstance(meta.get("path"), str) else None,
                    status=status if isinstance(status, int) else None, headers=pairs)


def _with_http(cap: Capture, meta: dict[str, Any] | None, stream: str, direction: Direction | None = None) -> Capture:
    """The messages of ``cap`` with the sidecar's HTTP facts, and the
    direction given (else the sidecar's: a request is the client's)."""
    http = _http(meta) if meta is not None else None
    if direction is None and http is not None:
        direction = "client" if http.method else "server" if http.status is not None else None
    cap.messages = [dataclasses.replace(m, http=http or m.http, direction=direction or m.direction, stream=stream,
                                        content_type=m.content_type or (http.header("Content-Type") if http else None))
                    for m in cap.messages]
    return cap


def _read_file(name: str, kind: InputKind | None) -> Capture:
    try:
        data = read_input(name)
    except CommandError as exc:
        cap = Capture(name, kind or "xml")
        cap.notes.append(CaptureNote(name, str(exc).split(": ", 1)[-1], error=True))
        return cap
    return read_capture(data, name, kind)


def _read_recorded(folder: str, files: list[str], metas: dict[str, dict[str, Any]],
                   kind: InputKind | None) -> Capture:
    """One recorded session: its request and response files in name order."""
    out = Capture(folder, kind or "wbxml")
    for f in files:
        path = os.path.join(folder, f)
        cap = _read_file(path, kind)
        _with_http(cap, metas.get(f), folder, "client" if "-request" in f else "server")
        out.messages += cap.messages
        out.notes += cap.notes
        if not cap.messages and not cap.errors and os.path.getsize(path) == 0:
            out.notes.append(CaptureNote(path, "empty body"))
    return out


def _read_dir(root: str, kind: InputKind | None) -> list[Capture]:
    out: list[Capture] = []
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        files.sort()
        if "syncevolution-log.html" in files or syncevolution_dumps(files):
            out.append(read_syncevolution_dir(folder))
            dirs[:] = []  # its .before/.after data dumps are no captures
            continue
        metas = _sidecars(folder, files)
        bodies = [f for f in files if not _skipped(f)]
        recorded = [f for f in bodies if _RECORDED.match(f)]
        if recorded:
            out.append(_read_recorded(folder, recorded, metas, kind))
            bodies = [f for f in bodies if f not in recorded]
        for f in bodies:
            path = os.path.join(folder, f)
            cap = _read_file(path, kind)
            out.append(_with_http(cap, metas[f], path) if f in metas else cap)
    return out


def load_captures(paths: Sequence[str], kind: InputKind | None = None) -> list[Capture]:
    """One :class:`Capture` per input file (or recorded session, or log
    directory), in the order given."""
    out: list[Capture] = []
    for path in paths:
        if path != "-" and os.path.isdir(path):
            out += _read_dir(path, kind)
        else:
            out.append(_read_file(path, kind))
    return out
