"""``syncml inspect``: the transcript of captured sessions (:mod:`._transcript`
renders it; ``--json`` is its JSON document), or with ``--messages`` a
readable summary of each message on its own."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from ..capture import Capture, group_sessions, transcribe
from ..codec.detect import looks_like_wbxml
from ..codec.san import Notification
from ..codec.tree import Document, Element
from ..errors import SyncMLError
from ..model import (
    Alert,
    Anchor,
    Command,
    Item,
    Map,
    Message,
    Meta,
    Results,
    Status,
    Sync,
    alert_meaning,
    status_meaning,
)
from ._captures import add_input_argument, load_captures
from ._common import CommandError
from ._transcript import Style, render, use_color

__all__ = ["describe", "register"]


def _meta(meta: Meta[Any] | None) -> list[str]:
    if meta is None:
        return []
    out = []
    if meta.type:
        out.append(f"type {meta.type}")
    if meta.format:
        out.append(f"format {meta.format}")
    if meta.anchor is not None:
        out.append(f"anchors last={meta.anchor.last or '-'} next={meta.anchor.next}")
    if meta.max_msg_size:
        out.append(f"MaxMsgSize {meta.max_msg_size}")
    if meta.max_obj_size:
        out.append(f"MaxObjSize {meta.max_obj_size}")
    if meta.size:
        out.append(f"size {meta.size}")
    if meta.next_nonce is not None:
        out.append(f"NextNonce {meta.next_nonce!r}" if isinstance(meta.next_nonce, bytes)
                   else f"NextNonce {meta.next_nonce}")
    return out


def _data(value: Any) -> str:
    if isinstance(value, Document):
        root = value.root
        man, mod = root.find("Man"), root.find("Mod")
        who = " ".join(x.text for x in (man, mod) if x is not None)
        return f"{value.language.family} {value.language.version} document ({who})"
    if isinstance(value, Element):
        if value.tag == "Anchor":
            anchor = Anchor.from_element(value, lenient=True)
            assert isinstance(anchor, Anchor)
            return f"anchors last={anchor.last or '-'} next={anchor.next}"
        return f"<{value.tag}>"
    if isinstance(value, bytes):
        return f"{len(value)} bytes"
    if isinstance(value, str):
        return repr(value) if len(value) < 40 else f"{len(value)} characters"
    if isinstance(value, tuple):
        return ", ".join(_data(v) for v in value)
    return ""


def _item(item: Item[Any]) -> str:
    parts = []
    if item.source is not None:
        parts.append(f"from {item.source.loc_uri}")
    if item.target is not None:
        parts.append(f"to {item.target.loc_uri}")
    parts += _meta(item.meta)
    if item.data is not None:
        parts.append(_data(item.data))
    if item.more_data:
        parts.append("MoreData")
    return "; ".join(parts)


def _command(cmd: Command[Any], indent: str, out: list[str]) -> None:
    head = f"{indent}{cmd.TAG} #{cmd.cmd_id}"
    extra: list[str] = []
    if isinstance(cmd, Status):
        code = cmd.code
        meaning = status_meaning(int(code)) if code is not None else "?"
        head += f" -> msg {cmd.msg_ref} cmd #{cmd.cmd_ref} {cmd.cmd}: {cmd.data} {meaning}"
        if cmd.chal is not None:
            extra.append("challenge: " + ", ".join(_meta(cmd.chal.meta)))
    elif isinstance(cmd, Alert):
        code = cmd.code
        head += f": {cmd.data} {alert_meaning(int(code)) if code is not None else ''}".rstrip()
    elif isinstance(cmd, Sync):
        src = cmd.source.loc_uri if cmd.source else "?"
        dst = cmd.target.loc_uri if cmd.target else "?"
        head += f": {src} -> {dst}"
        if cmd.number_of_changes:
            head += f", {cmd.number_of_changes} changes"
    elif isinstance(cmd, Map):
        head += f": {cmd.source.loc_uri} -> {cmd.target.loc_uri}, {len(cmd.map_items)} mappings"
    elif isinstance(cmd, Results):
        head += f" -> cmd #{cmd.cmd_ref}"
    meta = getattr(cmd, "meta", None)
    if meta is not None:
        extra += _meta(meta)
    cred = getattr(cmd, "cred", None)
    if cred is not None:
        extra.append(f"credentials {cred.type}")
    out.append(head + (f"  [{'; '.join(extra)}]" if extra else ""))
    for item in getattr(cmd, "items", ()):
        out.append(f"{indent}    item: {_item(item)}")
    for sub in getattr(cmd, "commands", ()):
        _command(sub, indent + "    ", out)


def describe(msg: Message[None], label: str, encoding: str, size: int) -> str:
    """The summary of one message, as ``syncml inspect`` prints it."""
    h = msg.header
    out = [f"{label}: SyncML {msg.version} ({encoding}, {size} bytes)"]
    if h is not None:
        source, target = h.source, h.target
        src = f"{source.loc_uri}" + (f" ({source.loc_name})" if source.loc_name else "") if source else "?"
        out.append(f"  session {h.session_id}, message {h.msg_id}: {src} -> {target.loc_uri if target else '?'}")
        if h.resp_uri:
            out.append(f"  RespURI {h.resp_uri}")
        if h.cred is not None:
            out.append(f"  credentials {h.cred.type}")
        meta = _meta(h.meta)
        if meta:
            out.append("  " + ", ".join(meta))
        if h.no_resp:
            out.append("  NoResp")
    for cmd in msg.commands:
        _command(cmd, "  ", out)
    out.append("  Final" if msg.final else "  (not final: more messages follow)")
    return "\n".join(out)


def _messages(captures: Sequence[Capture], lenient: bool, problems: list[str]) -> str:
    """``--messages``: the summary of each message on its own."""
    texts = []
    for cap in captures:
        for m in cap.messages:
            if m.kind == "san":  # server-alerted sync's binary message (digest not checked here)
                from ._push import describe_notification

                try:
                    texts.append(describe_notification(Notification.from_bytes(m.data), m.origin, len(m.data), None))
                except SyncMLError as exc:
                    problems.append(f"{m.origin}: {exc}")
                continue
            try:
                msg = Message.from_bytes(m.data, m.content_type, lenient=lenient)
            except SyncMLError as exc:
                problems.append(f"{m.origin}: {exc}")
                continue
            texts.append(describe(msg, m.origin, "WBXML" if looks_like_wbxml(m.data) else "XML", len(m.data)))
    return "\n\n".join(texts)


def _run(args: argparse.Namespace) -> None:
    captures = load_captures(args.files, args.input)
    problems = [str(note) for cap in captures for note in cap.errors]
    if args.messages:
        text = _messages(captures, args.lenient, problems)
    else:
        transcript = transcribe(group_sessions([m for cap in captures for m in cap.messages]), captures)
        for tr in transcript.sessions:
            for rec in tr.messages:
                if rec.error is not None:
                    problems.append(f"{rec.origin}: {rec.error}")
                elif rec.problem is not None and not args.lenient:
                    problems.append(f"{rec.origin}: {rec.problem} (shown as read leniently; --lenient accepts it)")
            if tr.san is not None and tr.san.error is not None:
                problems.append(f"{tr.messages[0].origin}: {tr.san.error}")
        if args.json:
            text = json.dumps(transcript.to_json(), indent=2, ensure_ascii=False)
        else:
            text = render(transcript, Style(use_color(args.color, sys.stdout)))
    if text:
        print(text, flush=True)
    if problems:  # each on its own line; the last through CommandError (exit status 1)
        for line in problems[:-1]:
            print(f"syncml inspect: {line}", file=sys.stderr)
        raise CommandError(problems[-1])


def register(sub: Any) -> None:
    p = sub.add_parser(
        "inspect", help="transcript of captured sessions (or a summary of each message)",
        description="Read captures (SyncML messages, and whatever --input kinds are readable), group the "
                    "messages into sessions and print each session package by package: sync type per "
                    "datastore, anchors, authentication, item counts, every Status with its meaning, "
                    "MoreData, timings.  A bad file or message is reported on stderr (exit status 1) "
                    "and the rest is still shown.")
    p.add_argument("files", nargs="+", metavar="CAPTURE")
    add_input_argument(p)
    p.add_argument("--messages", action="store_true",
                   help="print each message on its own (the summary of earlier versions) instead of the transcript")
    p.add_argument("--json", action="store_true",
                   help="one JSON document for the whole run (schema syncml-codec/transcript/1)")
    p.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                   help="colour the transcript: auto (default) on a terminal unless NO_COLOR is set")
    p.add_argument("--lenient", action="store_true",
                   help="accept messages that are not valid SyncML (read leniently) without exit status 1")
    p.set_defaults(func=_run)
