"""What a replay returns: each message sent and the server's answer
(:class:`Exchange`), a session's exchanges (:class:`SessionReplay`), and the
check of one exchange on its own (:func:`check_exchange`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ...model import (
    Command,
    Message,
    Status,
    StatusCode,
    Sync,
)
from .._reply import Response

__all__ = ["Exchange", "SessionReplay", "check_exchange"]


@dataclass(frozen=True, slots=True)
class Exchange:
    """One message sent to the server: ``recorded`` (None when it could
    not be read; it was then sent as recorded), the bytes ``sent``, the
    server's ``response`` and its ``reply`` read (None when not SyncML),
    ``sent_message`` (what was sent, read), and the rewrites made."""

    recorded: Message | None
    sent: bytes
    sent_message: Message | None
    response: Response
    reply: Message | None
    notes: tuple[str, ...] = ()
    #: which of the recorded messages this sends (0 for the first; a message
    #: sent again to answer a challenge has its exchanges one after the other)
    position: int = 0


@dataclass(slots=True)
class SessionReplay:
    """The exchanges of one replayed session.  ``session_id``: ours;
    ``refused``: why the session could not log in (empty when it did);
    ``stopped``: why the replay ended before the last message (no answer
    from the transport, or with ``stop_on_error`` an answer that is not
    SyncML), empty when it did not."""

    exchanges: list[Exchange] = field(default_factory=list)
    session_id: str | None = None
    refused: str = ""
    stopped: str = ""

    def problems(self) -> list[str]:
        """Every exchange checked with :func:`check_exchange`, plus a
        refused login."""
        found = [f"message {n}: {p}" for n, ex in enumerate(self.exchanges, 1) for p in check_exchange(ex)]
        return [*([f"not logged in: {self.refused}"] if self.refused else []),
                *([f"stopped: {self.stopped}"] if self.stopped else []), *found]


def check_exchange(ex: Exchange) -> list[str]:
    """What is wrong with one exchange: HTTP status other than 200, a
    command of the sent message without a Status, a Status 400 or 5xx (but
    508 Refresh required: a request for a slow sync, not a failure)."""
    problems: list[str] = []
    if ex.response.http_status != 200 or ex.reply is None:
        return [f"HTTP {ex.response.http_status}"]
    statuses = [c for c in ex.reply.commands if isinstance(c, Status)]
    for status in statuses:
        code = status.code
        if code is not None and (int(code) == StatusCode.BAD_REQUEST
                                 or (int(code) >= 500 and int(code) != StatusCode.REFRESH_REQUIRED)):
            problems.append(f"Status {int(code)} for {status.cmd} {status.cmd_ref}")
    sent = ex.sent_message
    if sent is None:
        return problems
    answered = {(s.cmd_ref, s.cmd) for s in statuses if s.msg_ref == sent.header.msg_id}
    refused = any(s.cmd_ref == "0" and s.code is not None and int(s.code) in (401, 407) for s in statuses)
    if refused:
        return problems  # a refused login: only the SyncHdr is answered
    for cmd in _commands_needing_status(sent.commands):
        if (cmd.cmd_id, cmd.TAG) not in answered:
            problems.append(f"no Status for {cmd.TAG} {cmd.cmd_id}")
    return problems


def _commands_needing_status(commands: Sequence[Command]) -> list[Command]:
    out: list[Command] = []
    for cmd in commands:
        if isinstance(cmd, Status) or getattr(cmd, "no_resp", False):
            continue
        out.append(cmd)
        if isinstance(cmd, Sync):
            out += _commands_needing_status(cmd.commands)
    return out
