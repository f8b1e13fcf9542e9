"""Reading the captures named on the command line (``syncml inspect``,
``decode``, ``replay``): files, ``-`` for stdin, directories (their files in
name order), each read with :func:`syncml_codec.capture.read_capture` as the
kind ``--input`` forces or the detected one.  A file that cannot be opened
becomes an error note of its own, so the other inputs are still read."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

from ..capture import INPUT_KINDS, Capture, CaptureNote, InputKind, read_capture
from ._common import CommandError, read_input

__all__ = ["add_input_argument", "load_captures"]


def add_input_argument(p: argparse.ArgumentParser) -> None:
    """``--input KIND``: read every input as that kind instead of detecting it."""
    p.add_argument("--input", choices=INPUT_KINDS, metavar="KIND", default=None,
                   help="read the inputs as KIND (" + "|".join(INPUT_KINDS) + ") instead of detecting it")


def _expand(path: str) -> list[str]:
    if path != "-" and os.path.isdir(path):
        out: list[str] = []
        for root, dirs, files in os.walk(path):
            dirs.sort()
            out += [os.path.join(root, f) for f in sorted(files)]
        return out
    return [path]


def load_captures(paths: Sequence[str], kind: InputKind | None = None) -> list[Capture]:
    """One :class:`Capture` per input file, in the order given."""
    out: list[Capture] = []
    for path in paths:
        for name in _expand(path):
            try:
                data = read_input(name)
            except CommandError as exc:
                cap = Capture(name, kind or "xml")
                cap.notes.append(CaptureNote(name, str(exc).split(": ", 1)[-1], error=True))
                out.append(cap)
                continue
            out.append(read_capture(data, name, kind))
    return out
