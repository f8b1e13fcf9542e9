"""``syncml convert``: convert files of PIM items between formats.

A Versit file (vCard, vCalendar, vNote) may hold many items; any other
input (SIF, OMA DS objects, a mail) is one item.  Each item is converted
on its own.  Nothing is lost silently:

* an item that cannot be converted is reported (item number, first line,
  reason) and left out of the output, and the exit status is 1;
* an item that converts but loses something (a field the target format
  cannot hold) is written, and what it lost is summarised on stderr.

Versit output goes into one file.  XML items (SIF, OMA DS objects) and
mails are one document each, so several of them need ``-o DIRECTORY``
(one numbered file per item).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from typing import Any

from ..errors import SyncMLError
from ..formats import content_type_of, parse, parse_items, registered_types
from ._common import CommandError, read_input, write_output

__all__ = ["register"]

_PROGRESS_FROM = 500  # items; below this, no progress display by default
_VERSIT_OUTPUT = ("text/x-vcard", "text/vcard", "text/x-vcalendar", "text/calendar", "text/x-vnote")
_SUFFIX = {"text/x-vcard": ".vcf", "text/vcard": ".vcf", "text/x-vcalendar": ".vcs", "text/calendar": ".ics",
           "text/x-vnote": ".vnt", "text/plain": ".txt", "message/rfc822": ".eml"}


def _split(data: bytes, source_type: str | None, name: str) -> list[tuple[int, bytes]]:
    """(first line, bytes) of each item in the input."""
    versit = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:5].upper() == b"BEGIN"
    if versit and (source_type is None or content_type_of(source_type) in _VERSIT_OUTPUT):
        try:
            components = parse_items(data)
        except SyncMLError as exc:
            raise CommandError(f"{name}: {exc}") from None
        return [(comp.begin.lineno, comp.serialize()) for comp in components]
    return [(1, data)] if data.strip() else []


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


def _write_items(args: argparse.Namespace, out: list[bytes]) -> None:
    target = content_type_of(args.target_type)
    if target in _VERSIT_OUTPUT or len(out) <= 1:
        write_output(args.output, b"".join(out), binary=False)
        return
    directory = args.output
    if directory is None or not (os.path.isdir(directory) or directory.endswith(os.sep)):
        raise CommandError(f"{len(out)} {target} items are separate documents; use -o DIRECTORY "
                           "(one file per item)")
    os.makedirs(directory, exist_ok=True)
    suffix = _SUFFIX.get(target, ".xml")
    for n, data in enumerate(out, 1):
        write_output(os.path.join(directory, f"item-{n:05d}{suffix}"), data, binary=False)


def _run(args: argparse.Namespace) -> None:
    data = read_input(args.file)
    items = _split(data, args.source_type, args.file)
    if not items:
        raise CommandError(f"{args.file}: no items")
    out: list[bytes] = []
    failures: list[tuple[int, int, str]] = []
    losses: list[tuple[int, str]] = []
    progress = _Progress(len(items), args.progress)
    for n, (line, raw) in enumerate(items, 1):
        try:
            converted = parse(raw, args.source_type).convert(args.target_type)
            out.append(converted.serialize())
        except SyncMLError as exc:
            failures.append((n, line, getattr(exc, "reason", str(exc))))
        else:
            losses.extend((n, loss) for loss in getattr(converted, "losses", ()))
        progress.show(n)
    progress.done()
    _write_items(args, out)
    _summary(args, len(items), failures, losses)
    if failures:
        raise CommandError(f"{len(failures)} items could not be converted")


def _summary(args: argparse.Namespace, total: int, failures: list[tuple[int, int, str]],
             losses: list[tuple[int, str]]) -> None:
    err = sys.stderr
    print(f"syncml convert: {total - len(failures)} of {total} items converted to {args.target_type}", file=err)
    if losses:
        lossy = len({n for n, _ in losses})
        print(f"  {lossy} items lost something the target format cannot hold:", file=err)
        for reason, count in Counter(r for _, r in losses).most_common(10):
            print(f"  {count} x {reason}", file=err)
    if failures:
        for reason, count in Counter(r for _, _, r in failures).most_common():
            print(f"  {count} not converted: {reason}", file=err)
        for n, line, reason in failures[:10]:
            print(f"  item {n} (line {line}): {reason}", file=err)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "convert", help="convert PIM items between formats",
        description="Convert a file of items (many vCards, vCalendar/iCalendar or vNote items; "
                    f"one SIF, OMA DS object or mail) to another format. Known types: {', '.join(registered_types())}.")
    p.add_argument("file", metavar="IN", help="input file, - for stdin")
    p.add_argument("--from", dest="source_type", metavar="TYPE",
                   help="content type of the input (default: detected per item)")
    p.add_argument("--to", dest="target_type", metavar="TYPE", required=True, help="content type to write")
    p.add_argument("-o", "--output", metavar="OUT",
                   help="output file, or directory for several XML items (default: stdout)")
    p.add_argument("--progress", choices=("auto", "always", "never"), default="auto",
                   help=f"progress bar on stderr (auto: on a terminal, from {_PROGRESS_FROM} items)")
    p.set_defaults(func=_run)
