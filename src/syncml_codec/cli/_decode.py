"""``syncml decode``: SyncML messages (WBXML or XML) as readable XML, or
WBXML as a token trace (``--tokens``), from plain files or any capture
(pcap, HTTP dump, hex/base64, OBEX, log: ``cli._captures``).

One message gives exactly what it always gave: its XML (or a SAN's
description).  Several messages (a capture, or several files) give each in
turn, after a separating XML comment line naming where it came from and who
sent it::

    <!-- message 2 of 6: s.pcap: 127.0.0.1:41000 -> 127.0.0.1:8080, request 2; from the client -->

Who sent a message is the capture's word (an HTTP request is the client's)
or, failing that, worked out from the message headers as ``syncml inspect``
does (:func:`syncml_codec.capture.read_messages`).

A file or message that cannot be read gives one line on stderr (its origin
and what is wrong, with the byte offset or line); the others are still
decoded, and the exit status is 1 at the end.

The comment comes after each document's XML declaration, so every document
stays well-formed when the output is cut into its messages.
"""

from __future__ import annotations

import argparse
import sys

from ..capture import CapturedMessage, read_messages
from ..codec import wbxml as _wbxml
from ..codec.codepages import Language
from ..codec.detect import looks_like_wbxml
from ..codec.san import Notification
from ..codec.wbxml import MAX_INDENT, language_named
from ..codec.xml import parse_xml, write_xml
from ..errors import SyncMLError, WBXMLDecodeError
from ._captures import add_input_argument, load_captures
from ._common import CommandError, write_output

__all__ = ["format_trace", "register"]

#: bytes of a token shown in a trace line (the rest as "..")
_SHOWN_BYTES = 8


def _language(value: str) -> Language:
    try:
        return language_named(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _indent(value: str) -> int:
    if not value.isdigit() or int(value) > MAX_INDENT:
        raise argparse.ArgumentTypeError(f"give a number of spaces from 0 to {MAX_INDENT}, not {value!r}")
    return int(value)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "decode", help="WBXML or XML -> readable XML (or a WBXML token trace)",
        description="Decode SyncML messages (WBXML or XML, detected) to XML; a Data Sync Notification "
                    "(server-alerted sync) is recognised and described.  Inputs are plain messages or "
                    "captures (pcap, HTTP dump, hex, base64, OBEX, client log); several messages are "
                    "each preceded by an XML comment naming their origin and sender.  --tokens shows the "
                    "WBXML tokens instead, each with its byte offset, code page and meaning.")
    p.add_argument("files", nargs="*", default=["-"], metavar="CAPTURE",
                   help="input files or directories (default: stdin, also -)")
    add_input_argument(p)
    p.add_argument("-o", "--output", metavar="OUT", help="output file (default: stdout)")
    layout = p.add_mutually_exclusive_group()
    layout.add_argument("--compact", action="store_true", help="no line breaks, no indentation")
    layout.add_argument("-i", "--indent", type=_indent, default=None, metavar="N",
                        help="spaces per level, 0 to 16 (default 2; 0: one element a line, not indented; "
                             "as wbxml2xml -i)")
    p.add_argument("-k", "--keep-whitespace", action="store_true",
                   help="keep text exactly: white space between elements of an XML input is kept, and "
                        "nothing is added inside an element that holds text and elements")
    p.add_argument("-l", "--language", type=_language, metavar="LANG",
                   help="read WBXML with the code pages of LANG whatever its public ID says (as wbxml2xml -l): "
                        "SYNCML10, SYNCML11, SYNCML12, DEVINF10, DEVINF11, DEVINF12, METINF11, METINF12, "
                        "DMDDF12 (any case; also syncml1.2, devinf1.1, ...)")
    p.add_argument("--tokens", action="store_true",
                   help="print each WBXML token with its byte offset, code page and meaning instead of XML")
    p.add_argument("--strict", action="store_true",
                   help="fail on tokens SyncML does not define instead of keeping them as wbxml: elements")
    p.add_argument("--server-password-file", metavar="PW",
                   help="a notification: check its digest with the server password on this file's first line "
                        "(or $SYNCML_SERVER_PASSWORD when only --nonce is given)")
    p.add_argument("--nonce", default="", help="a notification: the nonce of its digest (default empty)")
    p.set_defaults(func=_cmd_decode)


def _comment(text: str) -> str:
    """``text`` as an XML comment line ("--" cannot be in one)."""
    while "--" in text:
        text = text.replace("--", "- -")
    return f"<!-- {text.rstrip('-')} -->\n"


def _xml(data: bytes, args: argparse.Namespace) -> bytes:
    pretty = not args.compact
    if looks_like_wbxml(data):
        if args.keep_whitespace:
            doc = _wbxml.decode(data, strict=args.strict, language=args.language)
            return write_xml(doc, pretty=pretty, indent=args.indent, keep_whitespace=True)
        out: bytes = _wbxml.wbxml_to_xml(data, pretty=pretty, strict=args.strict, indent=args.indent,
                                         language=args.language)
        return out
    doc = parse_xml(data, keep_whitespace=args.keep_whitespace)
    return write_xml(doc, pretty=pretty, indent=args.indent, keep_whitespace=args.keep_whitespace)


def _hex(raw: bytes) -> str:
    if len(raw) <= _SHOWN_BYTES:
        return raw.hex(" ")
    return raw[:_SHOWN_BYTES - 1].hex(" ") + " .."


def format_trace(data: bytes, language: Language | None = None) -> tuple[list[str], WBXMLDecodeError | None]:
    """The lines of ``syncml decode --tokens`` for the WBXML document
    ``data``, and the error that stopped the trace (its line is the last)::

        offset   dec  page  bytes                    token
        0x0000     0        03                       WBXML version 1.3
        0x0005     5     0  6d                       <SyncML> (tag 0x2D; content)
    """
    lines = ["offset     dec  page  bytes                    token"]
    try:
        for t in _wbxml.trace_tokens(data, language=language):
            page = "" if t.page is None else str(t.page)
            mark = "" if t.known else "  [not defined]"
            lines.append(f"{t.offset:#06x} {t.offset:>6}  {page:>4}  {_hex(t.raw):<23}  "
                         f"{'  ' * t.depth}{'| ' * t.nested}{t.meaning}{mark}")
    except WBXMLDecodeError as exc:
        lines.append(f"{exc.offset:#06x} {exc.offset:>6}  ERROR: {exc.reason}")
        return lines, exc
    return lines, None


def _one(msg: CapturedMessage, args: argparse.Namespace) -> tuple[bytes, str | None]:
    """The output for one message, and the error line to report (or None)."""
    data = msg.data
    if msg.kind == "san":
        from ._push import describe_notification, server_password

        try:
            notification = Notification.from_bytes(data)
        except SyncMLError as exc:
            return b"", f"{msg.origin}: {exc}"
        checked = args.server_password_file is not None or bool(args.nonce)
        verified = notification.verify(server_password(args.server_password_file), args.nonce) if checked else None
        text = describe_notification(notification, msg.origin, len(data), verified) + "\n"
        error = f"{msg.origin}: the notification's digest does not match that password and nonce" \
            if verified is False else None
        return text.encode("utf-8"), error
    if args.tokens:
        if not looks_like_wbxml(data):
            return (f"{msg.origin}: an XML document, {len(data)} bytes: it has no WBXML tokens "
                    "(trace its WBXML with 'syncml encode FILE | syncml decode --tokens')\n").encode(), None
        lines, failed = format_trace(data, args.language)
        head = f"{msg.origin}: WBXML, {len(data)} bytes\n"
        out = (head + "\n".join(lines) + "\n").encode("utf-8")
        return out, None if failed is None else f"{msg.origin}: {failed}"
    try:
        return _xml(data, args), None
    except SyncMLError as exc:
        return b"", f"{msg.origin}: {exc}"


def _cmd_decode(args: argparse.Namespace) -> None:
    if args.indent is None:  # (not a default of 2: argparse would let "--compact -i 2" pass)
        args.indent = 2
    captures = load_captures(args.files, args.input)
    messages = [msg for cap in captures for msg in cap.messages]
    several = len(messages) > 1
    # who sent each: the capture's word, else worked out from the headers (capture.read_messages,
    # which reads every message into the model: only when some capture did not say)
    unknown = several and any(m.direction == "unknown" for m in messages)
    directions = {id(sm.captured): sm.direction for sm in read_messages(messages)} if unknown else {}
    chunks: list[bytes] = []
    errors = [str(note) for cap in captures for note in cap.errors]
    for i, msg in enumerate(messages, 1):
        out, error = _one(msg, args)
        if several:
            direction = directions.get(id(msg), msg.direction)
            who = "sender unknown" if direction == "unknown" else f"from the {direction}"
            comment = _comment(f"message {i} of {len(messages)}: {msg.origin}; {who}").encode("utf-8")
            end = out.find(b"?>") + 2 if out.startswith(b"<?xml") else 0
            chunks.append(out[:end] + (b"\n" if end else b"") + comment)
            out = out[end:].lstrip(b"\n") if end else out
        if out:
            chunks.append(out if not several or out.endswith(b"\n") else out + b"\n")
        if error is not None:
            errors.append(error)
    if chunks:
        write_output(args.output, b"".join(chunks), binary=False)
    if errors:  # one line each; the last one through main(), which exits 1
        for line in errors[:-1]:
            print(f"syncml decode: {line}", file=sys.stderr)
        raise CommandError(errors[-1])
