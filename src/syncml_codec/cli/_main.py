"""The ``syncml`` command: argument parsing and the codec subcommands.

Every failure the user can cause (unreadable file, bad input) ends with
exit status 1 and one line on stderr that says where: the byte offset for
WBXML, the line for XML.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .. import __version__
from ..codec import wbxml as _wbxml
from ..codec.detect import looks_like_wbxml
from ..errors import SyncMLError
from ._common import CommandError, read_input, write_output

__all__ = ["main"]


def _cmd_encode(args: argparse.Namespace) -> None:
    data = read_input(args.file)
    try:
        if looks_like_wbxml(data):
            raise CommandError(f"{args.file}: already WBXML (use 'syncml decode' to read it)")
        out = _wbxml.xml_to_wbxml(
            data, string_table=args.string_table, wbxml_version=args.wbxml_version,
            public_id=args.public_id, charset=args.charset,
        )
    except SyncMLError as exc:
        raise CommandError(f"{args.file}: {exc}") from None
    except ValueError as exc:  # bad option values
        raise CommandError(str(exc)) from None
    write_output(args.output, out, binary=True)


def _charset(value: str) -> str | int:
    return int(value) if value.isdigit() else value


class _Version(argparse.Action):
    """``--version``: the version and the implementation of each layer with a
    C extension, e.g. ``syncml-codec 0.1.0 (codec: cython, model: cython,
    formats: cython)``; worked out only when asked for (it imports formats)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:
        from .. import implementations

        layers = ", ".join(f"{layer}: {impl}" for layer, impl in implementations().items())
        print(f"syncml-codec {__version__} ({layers})")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="syncml", description="SyncML toolkit: decode, encode and inspect SyncML traffic; run a sync server.")
    parser.add_argument("--version", action=_Version, nargs=0,
                        help="show the version and each layer's implementation (cython or python) and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    from . import _decode
    _decode.register(sub)

    p = sub.add_parser("encode", help="XML -> WBXML",
                       description="Encode a SyncML XML message as WBXML.")
    p.add_argument("file", nargs="?", default="-", metavar="FILE", help="input file, - for stdin")
    p.add_argument("-o", "--output", metavar="OUT", help="output file (default: stdout, not a terminal)")
    p.add_argument("--string-table", action="store_true", help="put repeated strings in a string table")
    p.add_argument("--wbxml-version", default="1.3", choices=["1.0", "1.1", "1.2", "1.3"])
    p.add_argument("--public-id", default="numeric", choices=["numeric", "text"])
    p.add_argument("--charset", default="utf-8", type=_charset,
                   help="charset name or IANA MIBenum (default utf-8)")
    p.set_defaults(func=_cmd_encode)

    from . import _accounts, _backup, _bench, _convert, _devinf, _inspect, _mail, _operate, _push, _replay, _serve
    _inspect.register(sub)
    _devinf.register(sub)
    _convert.register(sub)
    _serve.register(sub)
    _accounts.register(sub)
    _operate.register(sub)
    _push.register(sub)
    _backup.register(sub)
    _mail.register(sub)
    _bench.register(sub)
    _replay.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``syncml`` command with ``argv`` (default: ``sys.argv[1:]``) and return its exit
    status: 0, or 1 when the command failed (one line on stderr says why).  A usage error exits
    with status 2 (argparse's ``SystemExit``)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except CommandError as exc:
        print(f"syncml {args.command}: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 1
    return 0
