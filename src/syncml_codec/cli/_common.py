"""What every ``syncml`` subcommand shares: the one-line failure
(:class:`CommandError`, exit status 1) and reading / writing the files it
is given (``-`` is stdin / stdout).  Imports nothing of the CLI, so the
subcommand modules and ``_main`` all import it and not each other."""

from __future__ import annotations

import sys
from typing import BinaryIO

__all__ = ["CommandError", "read_input", "write_output"]


class CommandError(Exception):
    """A failure to report in one line, with exit status 1."""


def read_input(path: str) -> bytes:
    """The bytes of ``path`` (stdin for ``-``)."""
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError as exc:
        raise CommandError(f"{path}: {exc.strerror}") from None


def write_output(path: str | None, data: bytes, binary: bool) -> None:
    """Write ``data`` to ``path`` (stdout for None or ``-``; binary data
    never to a terminal)."""
    if path is None or path == "-":
        out: BinaryIO = sys.stdout.buffer
        if binary and out.isatty():
            raise CommandError("refusing to write WBXML to a terminal; use -o FILE")
        out.write(data)
        out.flush()
        return
    try:
        with open(path, "wb") as fh:
            fh.write(data)
    except OSError as exc:
        raise CommandError(f"{path}: {exc.strerror}") from None
