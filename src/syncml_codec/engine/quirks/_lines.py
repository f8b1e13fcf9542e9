"""Content lines of a vCard / vCalendar / iCalendar item as bytes, edited
one physical line at a time (no unfolding: continuation lines, which start
with white space, and the lines of a quoted-printable value are left as
they are).  The quirk transforms change only the lines they name, so
everything else in an item keeps its bytes."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ...formats.versit import unquoted_colon

__all__ = ["Line", "edit_lines", "lines_of", "property_value"]

_EOL = re.compile(rb"\r\n|\r|\n")


@dataclass(frozen=True, slots=True)
class Line:
    """One content line: ``group.NAME;params:value`` (``name`` upper case,
    without the group; ``params`` the raw text between the name and the
    colon, without the leading ``;``)."""

    head: bytes  # everything before the colon (group, name, parameters)
    name: str
    params: bytes
    value: bytes

    def param_names(self) -> set[str]:
        """Upper-case parameter names and bare values (``HOME`` in vCard 2.1)."""
        out: set[str] = set()
        for part in self.params.split(b";"):
            key, _, _ = part.partition(b"=")
            if key.strip():
                out.add(key.strip().decode("ascii", "replace").upper())
        return out

    def has_param_value(self, value: str) -> bool:
        """Whether ``value`` is among the parameter values (``TYPE=A,B`` or bare)."""
        wanted = value.upper()
        for part in self.params.split(b";"):
            key, eq, vals = part.partition(b"=")
            candidates = vals.split(b",") if eq else [key]
            if any(c.strip().strip(b'"').decode("ascii", "replace").upper() == wanted for c in candidates):
                return True
        return False

    def with_value(self, value: bytes, params: bytes | None = None) -> bytes:
        head = self.head if params is None else self.head.split(b";", 1)[0] + (b";" + params if params else b"")
        return head + b":" + value


def _parse(raw: bytes) -> Line | None:
    if not raw or raw[:1] in (b" ", b"\t"):
        return None
    colon = unquoted_colon(raw)
    if colon < 0:
        return None
    head, value = raw[:colon], raw[colon + 1:]
    name_part, _, params = head.partition(b";")
    name = name_part.rsplit(b".", 1)[-1].strip()
    if not name or not re.fullmatch(rb"[A-Za-z0-9-]+", name):
        return None
    return Line(head, name.decode("ascii").upper(), params, value)


def _split(data: bytes) -> tuple[list[bytes], bytes]:
    match = _EOL.search(data)
    eol = match.group() if match else b"\r\n"
    return _EOL.split(data), eol


def lines_of(data: bytes) -> Iterator[Line]:
    """The content lines of ``data`` (continuation lines skipped)."""
    raws, _ = _split(data)
    for raw in raws:
        line = _parse(raw)
        if line is not None:
            yield line


def property_value(data: bytes, name: str) -> bytes | None:
    """The value of the first ``name`` line, None if there is none."""
    return next((line.value for line in lines_of(data) if line.name == name), None)


def edit_lines(data: bytes, edit: Callable[[Line, list[str]], bytes | None]) -> bytes:
    """``data`` with each content line replaced by what ``edit`` returns for
    it (None: unchanged; ``b""`` drops the line).  ``edit`` also gets the
    stack of open components (``["VCALENDAR", "VEVENT"]``).  Line ends are
    kept as the item has them."""
    raws, eol = _split(data)
    stack: list[str] = []
    out: list[bytes] = []
    changed = False
    for raw in raws:
        line = _parse(raw)
        if line is not None and line.name == "BEGIN":
            stack.append(line.value.strip().decode("ascii", "replace").upper())
        new = edit(line, stack) if line is not None else None
        if line is not None and line.name == "END" and stack:
            stack.pop()
        if new is None:
            out.append(raw)
            continue
        changed = True
        if new:
            out.append(new)
    return eol.join(out) if changed else data
