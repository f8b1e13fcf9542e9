"""``syncml inspect``: a readable summary of SyncML messages."""

from __future__ import annotations

import argparse
from typing import Any

from ..codec.detect import looks_like_wbxml
from ..codec.san import Notification, looks_like_notification
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
from ._common import CommandError, read_input

__all__ = ["describe", "register"]


def _meta(meta: Meta | None) -> list[str]:
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


def _item(item: Item) -> str:
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


def _command(cmd: Command, indent: str, out: list[str]) -> None:
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


def describe(msg: Message, label: str, encoding: str, size: int) -> str:
    """The summary of one message, as ``syncml inspect`` prints it."""
    h = msg.header
    out = [f"{label}: SyncML {msg.version} ({encoding}, {size} bytes)"]
    if h is not None:
        src = h.source.loc_uri + (f" ({h.source.loc_name})" if h.source.loc_name else "")
        out.append(f"  session {h.session_id}, message {h.msg_id}: {src} -> {h.target.loc_uri}")
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


def _run(args: argparse.Namespace) -> None:
    texts = []
    for path in args.files:
        data = read_input(path)
        if looks_like_notification(data):  # server-alerted sync's binary message (digest not checked here)
            from ._push import describe_notification

            texts.append(describe_notification(Notification.from_bytes(data), path, len(data), None))
            continue
        try:
            msg = Message.from_bytes(data, lenient=args.lenient)
        except SyncMLError as exc:
            raise CommandError(f"{path}: {exc}") from None
        texts.append(describe(msg, path, "WBXML" if looks_like_wbxml(data) else "XML", len(data)))
    print("\n\n".join(texts))


def register(sub: Any) -> None:
    p = sub.add_parser("inspect", help="summarize SyncML messages",
                       description="Print a readable summary of each message (WBXML or XML).")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--lenient", action="store_true",
                   help="show fragments and broken messages instead of failing on them")
    p.set_defaults(func=_run)
