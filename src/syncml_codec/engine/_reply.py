"""What the server sends back: :class:`Response`, the header of its
messages (with its MaxMsgSize and MaxObjSize), the numbering of an answer's
commands and its Statuses (:class:`Answers`), and the two answers made
without a session (a refusal with only the SyncHdr status, and HTTP 400 for
a body that is not SyncML).

Answers are in the client's SyncML version (:func:`syncml_version`): its
VerDTD and VerProto, and nothing that version lacks.  SyncML 1.0 has no
``MaxObjSize`` (nor ``MoreData`` or ``NumberOfChanges``: large objects came
with 1.1), so a 1.0 header carries only ``MaxMsgSize``."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..model import (
    Chal,
    CmdIDs,
    Command,
    Item,
    Map,
    MapItem,
    Message,
    Meta,
    Source,
    Status,
    SyncBody,
    SyncHdr,
    Target,
    status_for,
    status_for_header,
)
from ._util import item_status, plain
from ._wire import CONTENT_TYPES

__all__ = ["DEVINF_URI", "Answers", "Response", "refusal", "reply_message", "syncml_version", "unreadable"]

#: the DevInf a session of each SyncML version asks for and answers (DevInf 1.x goes with SyncML 1.x)
DEVINF_URI = {"1.0": "./devinf10", "1.1": "./devinf11", "1.2": "./devinf12"}


def syncml_version(header: SyncHdr) -> str:
    """The SyncML version of a message, ``"1.0"``, ``"1.1"`` or ``"1.2"``:
    its VerDTD, else its VerProto (``SyncML/1.1``), else 1.2."""
    for value in ((header.ver_dtd or "").strip(), (header.ver_proto or "").strip().rpartition("/")[2]):
        if value in DEVINF_URI:
            return value
    return "1.2"


@dataclass(frozen=True, slots=True)
class Response:
    """What to send back: ``body`` with ``content_type``; ``session_id``
    is our session (also in the RespURI), None when the request did not
    authenticate or resume an authenticated session; ``http_status`` is 200
    unless the body was not SyncML at all; ``summary`` is for a log line."""

    body: bytes
    content_type: str
    session_id: str | None
    http_status: int = 200
    summary: Mapping[str, Any] = field(default_factory=dict)


class Answers:
    """The commands of one answer: their CmdIDs, and the Statuses for the
    commands of the message answered (``msg_ref``, its MsgID)."""

    def __init__(self, msg_ref: str) -> None:
        self.ids = CmdIDs()
        self.msg_ref = msg_ref

    def next_id(self) -> str:
        return self.ids.next()

    def status(self, cmd: Command, code: int, items: tuple[Item, ...] = ()) -> Status:
        """The Status of ``cmd`` (one read leniently without a CmdID is answered as CmdID 0)."""
        if not cmd.cmd_id:
            cmd = dataclasses.replace(cmd, cmd_id="0")  # type: ignore[type-var]
        return status_for(cmd, msg_ref=self.msg_ref, cmd_id=self.ids.next(), code=code, items=items)

    def item_status(self, change: Command, item: Item, code: int) -> Status:
        """The Status of one item of ``change`` (:func:`._util.item_status`)."""
        return item_status(change, item, code, cmd_id=self.ids.next(), msg_ref=self.msg_ref)

    def map_item_status(self, cmd: Map, item: MapItem | None, code: int) -> Status:
        """The Status of one item of a Map: ``TargetRef`` the GUID it names,
        ``SourceRef`` the client's LUID (None: of the whole Map)."""
        if item is None:
            return self.status(cmd, code)
        targets = (plain(item.target.loc_uri),) if item.target is not None else ()
        sources = (plain(item.source.loc_uri),) if item.source is not None else ()
        return Status.of(cmd_id=self.ids.next(), msg_ref=self.msg_ref, cmd_ref=cmd.cmd_id or "0", cmd=cmd.TAG,
                         target_refs=targets, source_refs=sources, code=code)


def reply_message(header: SyncHdr, commands: list[Command], final: bool, *, msg_id: str, resp_uri: str | None,
                  max_msg_size: int, max_obj_size: int) -> Message:
    """Our message answering ``header``, in its SyncML version: our
    MaxMsgSize and (from 1.1) MaxObjSize in its Meta."""
    version = syncml_version(header)
    meta = Meta(max_msg_size=str(max_msg_size), max_obj_size=str(max_obj_size) if version != "1.0" else None)
    hdr = SyncHdr(ver_dtd=version, ver_proto=f"SyncML/{version}",
                  session_id=header.session_id or "1", msg_id=msg_id,
                  target=Target(loc_uri=plain(header.source.loc_uri), loc_name=header.source.loc_name),
                  source=Source(loc_uri=plain(header.target.loc_uri)), resp_uri=resp_uri, meta=meta)
    return Message(header=hdr, body=SyncBody(commands=tuple(commands), final=final))


def refusal(header: SyncHdr, encoding: str, code: int, chal: Chal | None, *, max_msg_size: int,
            max_obj_size: int, summary: Mapping[str, Any], carrier: Command | None = None) -> Response:
    """A message with only the SyncHdr status (and the challenge): no session, nothing done.
    ``carrier``: the command whose credential was refused, answered with the same code and challenge.
    ``summary`` gets the count of those statuses by code, as a session's summary has them."""
    statuses = [status_for_header(header, cmd_id="1", code=code, chal=chal)]
    if carrier is not None and carrier.cmd_id:
        statuses.append(status_for(carrier, msg_ref=header.msg_id, cmd_id="2", code=code, chal=chal))
    out = reply_message(header, list(statuses), True, msg_id="1", resp_uri=None, max_msg_size=max_msg_size,
                        max_obj_size=max_obj_size)
    summary = {**summary, "statuses": {statuses[0].data: len(statuses)}}
    return Response(out.to_bytes(encoding), CONTENT_TYPES[encoding], None, 200, summary)


def unreadable(reason: str) -> Response:
    """HTTP 400 with a one-line reason: the body is not a SyncML message."""
    return Response(f"not a SyncML message: {reason}\n".encode(), "text/plain; charset=utf-8", None, 400,
                    {"error": reason})
