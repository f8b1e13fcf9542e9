"""SyncEvolution's own test items (``../shared/corpus/formats/syncevolution``)
split into single items, and the comparison of items by their properties:
the client rewrites what it receives (PRODID, REV, empty properties, line
ends, folding), so items are equal when the properties that carry the data
are."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from syncml_codec.formats import Component, parse_items

from ..conftest import corpus_path


@dataclass(frozen=True)
class Kind:
    """One data type as a device holds it."""

    name: str  # test id
    store: str  # se-client store
    corpus: str  # file in the corpus
    vcard: str = "3.0"
    ical: str = "2.0"
    picks: tuple[int, ...] = (0, 1, 2)  # which items of the file the tests use


KINDS = {
    "vcard30": Kind("vcard30", "addressbook", "eds_contact.vcf", picks=(2, 4, 6)),
    "vcard21": Kind("vcard21", "addressbook", "vcard21.vcf", vcard="2.1", picks=(1, 2, 3)),
    "ical20": Kind("ical20", "calendar", "eds_event.ics", picks=(0, 1, 2)),
    "vcal10": Kind("vcal10", "calendar", "vcal10.ics", ical="1.0", picks=(0, 3, 4)),
    "tasks": Kind("tasks", "todo", "eds_task.ics", picks=(0,)),
    "notes": Kind("notes", "memo", "eds_memo.ics", picks=(0, 1, 3)),
}

#: the properties compared, per component
KEYS = {
    "VCARD": ("FN", "N", "EMAIL", "TEL", "NOTE", "ORG", "TITLE", "URL", "NICKNAME"),
    "VEVENT": ("SUMMARY", "DESCRIPTION", "LOCATION", "DTSTART", "DTEND"),
    "VTODO": ("SUMMARY", "DESCRIPTION", "DUE", "PRIORITY", "STATUS"),
}

_EXTRA_TASK = b"""BEGIN:VCALENDAR
PRODID:-//syncml-codec//tests//EN
VERSION:2.0
BEGIN:VTODO
UID:syncml-codec-task-2
SUMMARY:water the plants
DESCRIPTION:all of them\\, twice
PRIORITY:1
STATUS:NEEDS-ACTION
DUE:20061212T100000Z
END:VTODO
END:VCALENDAR
"""


def corpus_items(kind: Kind) -> list[bytes]:
    """Every item of the kind's corpus file (one top-level BEGIN..END
    each); notes as text/plain (SUMMARY, then the
    DESCRIPTION when it adds lines), the way SyncEvolution's memo file
    backend holds them."""
    text = corpus_path("formats", "syncevolution", kind.corpus).read_bytes()
    blocks = [c.serialize().strip() + b"\n" for c in parse_items(text, lenient=True)]
    if kind.name == "notes":
        return [memo_text(b) for b in blocks]
    if kind.name == "tasks":
        blocks.append(_EXTRA_TASK)
    return blocks


def memo_text(ical: bytes) -> bytes:
    journal = next(c for c in parse_items(ical, lenient=True)[0].components if c.name.upper() == "VJOURNAL")
    summary = journal.find("SUMMARY")
    description = journal.find("DESCRIPTION")
    text = description.value if description is not None else (summary.value if summary else "")
    return text.encode() + b"\n"


def picked(kind: Kind, count: int | None = None) -> list[bytes]:
    items = corpus_items(kind)
    chosen = [items[i] for i in kind.picks if i < len(items)]
    if kind.name == "tasks":
        chosen.append(items[-1])
    return chosen[:count] if count is not None else chosen


def edited(kind: Kind, item: bytes, marker: str) -> bytes:
    """The item with a visible change: the name / summary / text gets ``marker``."""
    if kind.name == "notes":
        return item.rstrip(b"\n") + f" {marker}\n".encode()
    field = {"addressbook": b"NOTE", "calendar": b"SUMMARY", "todo": b"SUMMARY"}[kind.store]
    lines = item.replace(b"\r\n", b"\n").split(b"\n")
    for i, line in enumerate(lines):
        if line.startswith(field + b":") or line.startswith(field + b";"):
            # unfold the property first so the marker ends its value
            j = i + 1
            while j < len(lines) and lines[j][:1] in (b" ", b"\t"):
                j += 1
            value = b"".join([lines[i]] + [x[1:] for x in lines[i + 1:j]])
            lines[i:j] = [value + f" {marker}".encode()]
            return b"\n".join(lines)
    end = {"addressbook": b"END:VCARD", "calendar": b"END:VEVENT", "todo": b"END:VTODO"}[kind.store]
    k = lines.index(end)
    lines.insert(k, field + f":{marker}".encode())
    return b"\n".join(lines)


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\r\n", "\n")).strip()


def _when(line_value: str) -> str:
    return line_value.replace("-", "").replace(":", "").strip()


def _main(comp: Component) -> Component:
    if comp.name.upper() == "VCALENDAR":
        for sub in comp.components:
            if sub.name.upper() in KEYS:
                return sub
    return comp


def fingerprint(kind: Kind, content: bytes | str) -> dict[str, tuple[str, ...]]:
    """The compared properties of one item: name -> sorted values (empty
    values left out, whitespace folded, dates without separators)."""
    data = content.encode() if isinstance(content, str) else content
    if kind.name == "notes":
        return {"TEXT": (_clean(data.decode("utf-8", "replace")),)}
    comp = _main(parse_items(data, lenient=True)[0])
    out: dict[str, tuple[str, ...]] = {}
    for name in KEYS[comp.name.upper()]:
        values = []
        for line in comp.find_all(name):
            value = ";".join(x.strip() for x in line.components()) if name in ("N", "ORG") else line.value
            value = _when(value) if name in ("DTSTART", "DTEND", "DUE") else _clean(value)
            if value.strip(" ;"):
                values.append(value.rstrip(" ;") if name in ("N", "ORG") else value)
        if values:
            out[name] = tuple(sorted(values))
    return out


def fingerprints(kind: Kind, contents: list[bytes] | list[str]) -> list[dict[str, tuple[str, ...]]]:
    return sorted((fingerprint(kind, c) for c in contents), key=repr)


def write_all(folder: Path, items: list[bytes]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, item in enumerate(items):
        path = folder / f"{i:04d}"
        path.write_bytes(item)
        paths.append(path)
    return paths
