"""What the server sends back: :class:`Response`, the header of its
messages (with its MaxMsgSize and MaxObjSize), and the two answers made
without a session (a refusal with only the SyncHdr status, and HTTP 400 for
a body that is not SyncML)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..model import Chal, Command, Message, Meta, Source, SyncBody, SyncHdr, Target, status_for_header
from ._util import text

__all__ = ["CONTENT_TYPES", "Response", "refusal", "reply_message", "unreadable"]

CONTENT_TYPES = {"wbxml": "application/vnd.syncml+wbxml", "xml": "application/vnd.syncml+xml"}


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


def reply_message(header: SyncHdr, commands: list[Command], final: bool, *, msg_id: str, resp_uri: str | None,
                  max_msg_size: int, max_obj_size: int) -> Message:
    """Our message answering ``header``: our MaxMsgSize and MaxObjSize in its Meta."""
    meta = Meta(max_msg_size=str(max_msg_size), max_obj_size=str(max_obj_size))
    hdr = SyncHdr(ver_dtd=header.ver_dtd or "1.2", ver_proto=header.ver_proto or "SyncML/1.2",
                  session_id=header.session_id or "1", msg_id=msg_id,
                  target=Target(loc_uri=text(header.source.loc_uri), loc_name=header.source.loc_name),
                  source=Source(loc_uri=text(header.target.loc_uri)), resp_uri=resp_uri, meta=meta)
    return Message(header=hdr, body=SyncBody(commands=tuple(commands), final=final))


def refusal(header: SyncHdr, encoding: str, code: int, chal: Chal | None, *, max_msg_size: int,
            max_obj_size: int, summary: Mapping[str, Any]) -> Response:
    """A message with only the SyncHdr status (and the challenge): no session, nothing done."""
    status = status_for_header(header, cmd_id="1", code=code, chal=chal)
    out = reply_message(header, [status], True, msg_id="1", resp_uri=None, max_msg_size=max_msg_size,
                        max_obj_size=max_obj_size)
    return Response(out.to_bytes(encoding), CONTENT_TYPES[encoding], None, 200, summary)


def unreadable(reason: str) -> Response:
    """HTTP 400 with a one-line reason: the body is not a SyncML message."""
    return Response(f"not a SyncML message: {reason}\n".encode(), "text/plain; charset=utf-8", None, 400,
                    {"error": reason})
