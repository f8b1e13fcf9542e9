"""``syncml convert``: convert files of PIM items between formats.

Each item is converted on its own; an item that cannot be converted is
reported (item number, first line, reason) and left out of the output,
never silently: the summary on stderr says how many and why, and the exit
status is 1 when any item failed.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from typing import Any

from ..errors import SyncMLError
from ..formats import parse, parse_items, registered_types

__all__ = ["register"]

_PROGRESS_FROM = 500  # items; below this, no progress display


def _run(args: argparse.Namespace) -> None:
    from ._main import CommandError, _read, _write

    data = _read(args.file)
    try:
        components = parse_items(data)
    except SyncMLError as exc:
        raise CommandError(f"{args.file}: {exc}") from None
    if not components:
        raise CommandError(f"{args.file}: no items (BEGIN:VCARD, BEGIN:VCALENDAR or BEGIN:VNOTE)")
    out: list[bytes] = []
    failures: list[tuple[int, int, str]] = []
    show = sys.stderr.isatty() and len(components) >= _PROGRESS_FROM
    for n, comp in enumerate(components, 1):
        try:
            item = parse(comp.serialize(), args.source_type)
            out.append(item.convert(args.target_type).serialize())
        except SyncMLError as exc:
            failures.append((n, comp.begin.lineno, getattr(exc, "reason", str(exc))))
        if show and (n % 100 == 0 or n == len(components)):
            print(f"\rconverting: {n}/{len(components)} items", end="", file=sys.stderr, flush=True)
    if show:
        print(file=sys.stderr)
    _write(args.output, b"".join(out), binary=False)
    converted = len(components) - len(failures)
    print(f"syncml convert: {converted} of {len(components)} items converted to {args.target_type}",
          file=sys.stderr)
    if failures:
        for reason, count in Counter(r for _, _, r in failures).most_common():
            print(f"  {count} not converted: {reason}", file=sys.stderr)
        for n, line, reason in failures[:10]:
            print(f"  item {n} (line {line}): {reason}", file=sys.stderr)
        raise CommandError(f"{len(failures)} items could not be converted")


def register(sub: Any) -> None:
    p = sub.add_parser(
        "convert", help="convert PIM items between formats",
        description="Convert a file of vCards (and, as they arrive, other item types) to another format. "
                    f"Known types: {', '.join(registered_types())}.")
    p.add_argument("file", metavar="IN", help="input file, - for stdin")
    p.add_argument("--from", dest="source_type", metavar="TYPE",
                   help="content type of the input (default: detected per item)")
    p.add_argument("--to", dest="target_type", metavar="TYPE", required=True, help="content type to write")
    p.add_argument("-o", "--output", metavar="OUT", help="output file (default: stdout)")
    p.set_defaults(func=_run)
