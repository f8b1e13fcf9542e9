"""``syncml convert``: convert files of PIM items between formats.

Types are named by a short name (``vcf``, ``vcf21``, ``ics``, ``vcs``,
``sifc``, ... see :data:`SHORT_TYPES` and ``--list-types``) or by their
MIME type (``text/x-vcard``).  An unknown ``--to`` or ``--from``, or a
``--from``/``--to`` pair with no conversion, is a usage error (exit status
2) before any input is opened.

A Versit file (vCard, vCalendar, vNote) may hold many items; any other
input (SIF, OMA DS objects, a mail) is one item.  Every input is read and
each of its items converted on its own.  Nothing is lost silently:

* an item that cannot be read or converted is listed on stderr (file, item
  number, line, reason), the other items are written, and the exit status
  is 1; ``--lenient`` reads broken Versit items as the formats' lenient
  parsers do (lines that are not content lines kept raw, a missing END
  closed) before converting them;
* text outside any item in a Versit file is listed too (exit status 1, a
  note only with ``--lenient``);
* an item that converts but loses something (a field the target format
  cannot hold) is written, and what it lost is summarised on stderr;
* the counts (items read, converted, failed) always end the output on stderr.

Where the output goes: stdout or ``-o FILE``: every item of every input,
one after the other (Versit targets; a one-document type such as SIF only
when there is a single item); ``-o DIRECTORY`` (an existing directory, or a
path ending in ``/``): one file per item, ``item-00001.xml``... numbered
across all inputs; ``--out-dir DIRECTORY``: one output per input, named
after it with the target's extension (``contacts.vcf`` -> ``contacts.ics``;
``contacts-00001.xml``... when a one-document type gets several items).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import textwrap
from collections import Counter
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from ..errors import SyncMLError
from ..formats import content_type_of, detect_content_type, parse, parse_items, registered_types
from ..formats.registry import conversion_for
from ._common import CommandError, read_input, write_output

__all__ = ["SHORT_TYPES", "register", "resolve_type"]

_PROGRESS_FROM = 500  # items; below this, no progress display by default
_LISTED = 100  # bad items listed on stderr without -v
_VERSIT_OUTPUT = ("text/x-vcard", "text/vcard", "text/x-vcalendar", "text/calendar", "text/x-vnote")
_SUFFIX = {"text/x-vcard": ".vcf", "text/vcard": ".vcf", "text/x-vcalendar": ".vcs", "text/calendar": ".ics",
           "text/x-vnote": ".vnt", "text/plain": ".txt", "message/rfc822": ".eml"}
_BEGIN_LINE = re.compile(rb"^[ \t]*BEGIN[ \t]*:[ \t]*V", re.I | re.M)

#: short name -> (MIME type, what it is); ``--to``/``--from`` take either
SHORT_TYPES: dict[str, tuple[str, str]] = {
    "vcf": ("text/vcard", "vCard 3.0"),
    "vcf30": ("text/vcard", "vCard 3.0"),
    "vcf21": ("text/x-vcard", "vCard 2.1"),
    "ics": ("text/calendar", "iCalendar 2.0"),
    "vcs": ("text/x-vcalendar", "vCalendar 1.0"),
    "vnt": ("text/x-vnote", "vNote 1.1"),
    "txt": ("text/plain", "plain-text note"),
    "note": ("text/plain", "plain-text note (as txt)"),
    "sifc": ("text/x-s4j-sifc", "Funambol SIF contact"),
    "sife": ("text/x-s4j-sife", "Funambol SIF event"),
    "sift": ("text/x-s4j-sift", "Funambol SIF task"),
    "sifn": ("text/x-s4j-sifn", "Funambol SIF note"),
    "eml": ("message/rfc822", "mail (RFC 822 / MIME)"),
    "email": ("application/vnd.omads-email+xml", "OMA DS email object"),
    "file": ("application/vnd.omads-file+xml", "OMA DS file object"),
    "folder": ("application/vnd.omads-folder+xml", "OMA DS folder object"),
}


def resolve_type(value: str) -> str:
    """The MIME type a ``--to``/``--from`` value names (a short name or a
    registered MIME type, any case); :class:`argparse.ArgumentTypeError`
    naming the valid short names otherwise."""
    short = SHORT_TYPES.get(value.strip().lower())
    if short is not None:
        return short[0]
    mime = content_type_of(value)
    if mime in registered_types():
        return mime
    raise argparse.ArgumentTypeError(f"unknown type {value!r}; valid: {', '.join(SHORT_TYPES)} "
                                     "or a MIME type (syncml convert --list-types)")


def _short_name(mime: str) -> str:
    return next((name for name, (m, _) in SHORT_TYPES.items() if m == mime), mime)


class _ListTypes(argparse.Action):
    """``--list-types``: the short names, their MIME types and conversions."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:
        print(f"{'name':<7} {'MIME type':<34} what, and what it converts to")
        for name, (mime, what) in SHORT_TYPES.items():
            targets = sorted({_short_name(t) for t in registered_types() if conversion_for(mime, t)})
            print(f"{name:<7} {mime:<34} {what}; -> {', '.join(targets) or 'itself only'}")
        print("Any type also converts to itself (read and written again). Full MIME types work as well.")
        parser.exit()


@dataclass
class _Stats:
    files: int = 0
    read: int = 0
    written: int = 0
    failures: list[tuple[str, int, int, str]] = field(default_factory=list)  # file, item, line, reason
    file_errors: list[str] = field(default_factory=list)
    stray: list[str] = field(default_factory=list)
    losses: list[tuple[str, int, str]] = field(default_factory=list)


def _split(data: bytes, source_type: str | None, name: str, stats: _Stats) -> list[tuple[int, bytes]]:
    """(first line, bytes) of each item in the input; text outside the items
    of a Versit file goes to ``stats.stray``."""
    if not data.strip():  # nothing; but an empty plain-text note when the input is said to be one
        return [(1, data)] if source_type == "text/plain" else []
    if not _is_versit(data, source_type):
        return [(1, data)]
    try:
        components = parse_items(data)
    except SyncMLError:  # a broken item or text between items: find the items leniently, judge each alone
        try:
            components = parse_items(data, lenient=True)
        except SyncMLError as exc:
            raise CommandError(f"{name}: {exc}") from None
    for comp in components:
        for text, line in ((comp.leading, comp.begin.lineno - comp.leading.count(b"\n")),
                           (comp.trailing, comp.end.lineno + 1 if comp.end is not None else 0)):
            if text.strip():
                first = text.strip().splitlines()[0][:60].decode("utf-8", "replace")
                stats.stray.append(f"{name}: line {line}: text outside any item left out ({first!r})")
    return [(comp.begin.lineno, comp.serialize()) for comp in components]


def _is_versit(data: bytes, source_type: str | None) -> bool:
    if source_type is not None and source_type not in _VERSIT_OUTPUT:
        return False
    if data.lstrip(b"\xef\xbb\xbf \t\r\n")[:5].upper() == b"BEGIN":
        return True
    if _BEGIN_LINE.search(data) is None:
        return False
    if source_type is not None:
        return True
    try:  # something else before the first BEGIN: a Versit file only if it is no other format
        detect_content_type(data)
    except SyncMLError:
        return True
    return False


class _Progress:
    def __init__(self, total: int, mode: str) -> None:
        auto = sys.stderr.isatty() and total >= _PROGRESS_FROM
        self.total = total
        self.on = mode == "always" or (mode == "auto" and auto)

    def show(self, n: int) -> None:
        if self.on and (n % 100 == 0 or n == self.total):
            width = 30
            filled = width * n // self.total
            print(f"\rconverting [{'#' * filled}{'.' * (width - filled)}] {n}/{self.total}",
                  end="", file=sys.stderr, flush=True)

    def done(self) -> None:
        if self.on:
            print(file=sys.stderr)


def _one_document(target: str) -> bool:
    """Whether each item of ``target`` is a document of its own (XML, mail, text)."""
    return target not in _VERSIT_OUTPUT


def _is_directory(path: str | None) -> bool:
    return path is not None and path != "-" and (os.path.isdir(path) or path.endswith(os.sep))


def _convert_items(args: argparse.Namespace, name: str, items: list[tuple[int, bytes]],
                   stats: _Stats) -> list[bytes]:
    out: list[bytes] = []
    progress = _Progress(len(items), args.progress)
    for n, (line, raw) in enumerate(items, 1):
        try:
            converted = parse(raw, args.source_type, lenient=args.lenient).convert(args.target_type)
            out.append(_closed(converted.serialize()) if args.lenient else converted.serialize())
        except SyncMLError as exc:
            inner: int = getattr(exc, "line", 0) or 0
            at = line + inner - 1 if inner else line
            stats.failures.append((name, n, at, getattr(exc, "reason", str(exc))))
        else:
            stats.losses.extend((name, n, loss) for loss in getattr(converted, "losses", ()))
        progress.show(n)
    progress.done()
    return out


_FIRST_BEGIN = re.compile(rb"\A\s*BEGIN[ \t]*:[ \t]*([A-Za-z0-9-]+)", re.I)
_LAST_END = re.compile(rb"^[ \t]*END[ \t]*:[^\r\n]*\s*\Z", re.I | re.M)


def _closed(data: bytes) -> bytes:
    """A Versit item the lenient reading closed (it had no END) gets its END
    line in the output, so that the items after it stay items of their own."""
    begin = _FIRST_BEGIN.match(data)
    if begin is None or _LAST_END.search(data):
        return data
    newline = b"\r\n" if b"\r\n" in data else b"\n"
    return data + (b"" if data.endswith(b"\n") else newline) + b"END:" + begin.group(1) + newline


class _Names:
    """Output names for ``--out-dir``: after the input (``people.vcf`` ->
    ``people``, a second ``people.vcf`` -> ``people-2``), never an input's
    own path."""

    def __init__(self, directory: str, inputs: list[str]) -> None:
        self.directory = directory
        self.inputs = {os.path.realpath(p) for p in inputs if p != "-"}
        self.stems: set[str] = set()

    def stem(self, source: str, suffix: str) -> str:
        """The output path without suffix for the input ``source``."""
        base = "stdin" if source == "-" else os.path.basename(source).rsplit(".", 1)[0] or "item"
        n = 1
        while True:
            stem = os.path.join(self.directory, base if n == 1 else f"{base}-{n}")
            if stem not in self.stems and os.path.realpath(stem + suffix) not in self.inputs:
                self.stems.add(stem)
                return stem
            n += 1


def _write_per_input(args: argparse.Namespace, names: _Names, source: str, out: list[bytes]) -> None:
    if not out:
        return
    target = args.target_type
    suffix = _SUFFIX.get(target, ".xml")
    stem = names.stem(source, suffix)
    if not _one_document(target) or len(out) == 1:
        write_output(stem + suffix, b"".join(out), binary=False)
        return
    for n, data in enumerate(out, 1):
        write_output(f"{stem}-{n:05d}{suffix}", data, binary=False)


def _write_all(args: argparse.Namespace, out: list[bytes]) -> None:
    target = args.target_type
    directory = args.output
    if not _one_document(target) or (len(out) <= 1 and not _is_directory(directory)):
        if out or not _is_directory(directory):
            write_output(directory, b"".join(out), binary=False)
        return
    if directory is None or not _is_directory(directory):
        raise CommandError(f"{len(out)} {target} items are separate documents; use -o DIRECTORY "
                           "(one file per item) or --out-dir DIRECTORY (one file per input)")
    os.makedirs(directory, exist_ok=True)
    suffix = _SUFFIX.get(target, ".xml")
    for n, data in enumerate(out, 1):
        write_output(os.path.join(directory, f"item-{n:05d}{suffix}"), data, binary=False)


def _run(args: argparse.Namespace) -> None:
    parser: argparse.ArgumentParser = args.parser
    if args.out_dir is not None and args.output is not None:
        parser.error("-o and --out-dir exclude each other")
    source, target = args.source_type, args.target_type
    if source is not None and source != target and conversion_for(source, target) is None:
        targets = sorted({_short_name(t) for t in registered_types() if conversion_for(source, t)})
        parser.error(f"no conversion from {source} to {target} "
                     f"({_short_name(source)} converts to: {', '.join(targets) or 'nothing'} or itself)")
    if (len(args.inputs) > 1 and _one_document(target) and args.out_dir is None
            and not _is_directory(args.output)):
        parser.error(f"{target} items are one document each: with several inputs, use -o DIRECTORY or "
                     "--out-dir DIRECTORY")
    if args.out_dir is not None:
        try:
            os.makedirs(args.out_dir, exist_ok=True)
        except OSError as exc:
            raise CommandError(f"{args.out_dir}: {exc.strerror}") from None
    names = _Names(args.out_dir, args.inputs) if args.out_dir is not None else None
    stats = _Stats()
    everything: list[bytes] = []
    for path in args.inputs:
        stats.files += 1
        try:
            data = read_input(path)
            items = _split(data, source, path, stats)
        except CommandError as exc:
            stats.file_errors.append(str(exc))
            continue
        if not items:
            stats.file_errors.append(f"{path}: no items")
            continue
        stats.read += len(items)
        if names is None and len(args.inputs) == 1 and _one_document(target) and len(items) > 1 \
                and not _is_directory(args.output):
            raise CommandError(f"{len(items)} {target} items are separate documents; use -o DIRECTORY "
                               "(one file per item) or --out-dir DIRECTORY (one file per input)")
        out = _convert_items(args, path, items, stats)
        stats.written += len(out)
        if names is not None:
            _write_per_input(args, names, path, out)
        else:
            everything.extend(out)
    if names is None and stats.read:
        _write_all(args, everything)
    _finish(args, stats)


def _finish(args: argparse.Namespace, stats: _Stats) -> None:
    if not stats.read and len(stats.file_errors) == 1 and not stats.failures:
        raise CommandError(stats.file_errors[0])  # one input, unreadable: one line
    err = sys.stderr
    for problem in stats.file_errors:
        print(f"syncml convert: {problem}", file=err)
    for note in stats.stray:
        print(f"syncml convert: {note}" + (" (--lenient: a note only)" if args.lenient else ""), file=err)
    shown = stats.failures if args.verbose else stats.failures[:_LISTED]
    for name, n, line, reason in shown:
        print(f"syncml convert: {name}: item {n} (line {line}): {reason}", file=err)
    if len(shown) < len(stats.failures):
        print(f"  ... {len(stats.failures) - len(shown)} more not listed (-v lists them all)", file=err)
    if stats.failures:
        for reason, count in Counter(r for *_, r in stats.failures).most_common(10):
            print(f"  {count} not converted: {reason}", file=err)
    if stats.losses:
        lossy = len({(name, n) for name, n, _ in stats.losses})
        print(f"  {lossy} items lost something the target format cannot hold:", file=err)
        for reason, count in Counter(r for *_, r in stats.losses).most_common(10):
            print(f"  {count} x {reason}", file=err)
        if args.verbose:
            for name, n, reason in stats.losses:
                print(f"  {name}: item {n}: {reason}", file=err)
    files = f" from {stats.files} files" if stats.files > 1 else ""
    failed = len(stats.failures)
    print(f"syncml convert: {stats.written} of {stats.read} items converted to {args.target_type}{files}; "
          f"{failed} failed" + (f", {len(stats.file_errors)} inputs not read" if stats.file_errors else "")
          + (f", text outside items at {len(stats.stray)} places" if stats.stray else ""), file=err)
    problems = [f"{failed} items could not be converted" if failed else "",
                f"{len(stats.file_errors)} inputs could not be read" if stats.file_errors else "",
                "text outside any item was left out" if stats.stray and not args.lenient else ""]
    if any(problems):
        raise CommandError("; ".join(p for p in problems if p))


def _description() -> str:
    fill = partial(textwrap.fill, width=78)
    types = "\n".join(f"  {name:<7} {mime:<34} {what}" for name, (mime, what) in SHORT_TYPES.items())
    return "\n\n".join([
        fill("Convert files of items (many vCards, vCalendar/iCalendar or vNote items per file; one SIF, OMA DS "
             "object or mail) to another format. Each item is converted on its own: the good ones are written, "
             "the bad ones listed on stderr (file, item, line, reason) and the exit status is 1. Counts end the "
             "output on stderr."),
        "Types (a short name or the MIME type; --list-types shows what converts to what):\n" + types,
        fill("Output: stdout or -o FILE: all items of all inputs; -o DIRECTORY (existing, or ending in /): one "
             "file per item (item-00001.xml...); --out-dir DIRECTORY: one file per input, named after it with "
             "the new extension. An unknown type is a usage error (exit status 2) before any input is read."),
    ])


def register(sub: Any) -> None:
    p = sub.add_parser("convert", help="convert PIM items between formats",
                       formatter_class=argparse.RawDescriptionHelpFormatter, description=_description())
    p.add_argument("inputs", nargs="+", metavar="IN", help="input files, - for stdin")
    p.add_argument("--from", dest="source_type", metavar="TYPE", type=resolve_type,
                   help="type of the input (default: detected per item)")
    p.add_argument("--to", dest="target_type", metavar="TYPE", required=True, type=resolve_type,
                   help="type to write (short name or MIME type)")
    p.add_argument("--list-types", action=_ListTypes, nargs=0,
                   help="list the short type names, their MIME types and conversions, and exit")
    p.add_argument("-o", "--output", metavar="OUT",
                   help="output file, or directory for one file per item (default: stdout)")
    p.add_argument("--out-dir", metavar="DIR", help="one output file per input in DIR, named after the input")
    p.add_argument("--lenient", action="store_true",
                   help="read broken Versit items leniently (raw lines kept, missing END closed); XML and "
                        "mail formats have no lenient reading")
    p.add_argument("-v", "--verbose", action="store_true", help="list every failure and every loss")
    p.add_argument("--progress", choices=("auto", "always", "never"), default="auto",
                   help=f"progress bar on stderr (auto: on a terminal, from {_PROGRESS_FROM} items)")
    p.set_defaults(func=_run, parser=p)
