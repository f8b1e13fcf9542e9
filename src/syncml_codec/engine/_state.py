"""The OMA DS package flow as tables: every phase change of a server or
client session goes through :func:`advance`.

Packages (OMA DS 1.2 protocol, section 6): 1 client init (DevInf Put/Get,
Alerts), 2 server init (statuses, Results, Alerts with anchors), 3 client
modifications (Sync), 4 server modifications (Sync), 5 data update statuses
and Map, 6 map acknowledgement.  A package can span several messages (the
last one carries ``<Final/>``; the peer asks for the next with Alert 222).
Packages 1 and 3 may come combined in one message (``INIT`` + ``FINAL_SYNC``).

Alert 222 never ends a package (issue 10).  A message of the peer that
carries only Alert 222 (statuses aside) while we still wait for part of its
package (the Alerts of package 1, a Sync of package 3, a Map of package 5)
is ``NEXT``, with or without ``<Final/>``: the phase stays, and the answer
asks for the rest (our statuses and Alert 222); during package 4 it gets
our next message.  Some phones send the statuses of package 4 with Alert 222
and Final, and their Map only in the next message: closing the session
there lost the Map.

What the server answers a message with is a table too
(:data:`SERVER_ANSWERS`, by the phase the message came in and its event):
the session has one handler per :class:`Answer`.  ``Event.FAIL`` (an
unexpected error, the store rolled back) ends a session of either side from
any phase, through the same tables.
"""

from __future__ import annotations

from enum import Enum
from typing import TypeVar

from ..errors import ProtocolError

__all__ = ["CLIENT_TABLE", "SERVER_ANSWERS", "SERVER_RECEIVING", "SERVER_TABLE", "Answer", "ClientPhase", "Event",
           "ServerPhase", "advance"]


class ServerPhase(Enum):
    """Where a server session is in the sync packages (the server's state machine)."""

    INIT = "init"  # receiving package 1
    CLIENT_MODS = "client-mods"  # package 2 sent, receiving package 3
    SERVER_MODS = "server-mods"  # sending package 4 (several messages)
    MAP = "map"  # package 4 sent, receiving package 5
    DONE = "done"  # package 6 sent: anchors committed


class ClientPhase(Enum):
    """Where a client session is in the sync packages (the client's state machine)."""

    START = "start"  # nothing sent
    INIT = "init"  # package 1 sent
    MODS = "mods"  # package 3 sent
    SENDING = "sending"  # package 3 goes on in more messages
    SERVER_MODS = "server-mods"  # receiving package 4
    MAP = "map"  # package 5 sent
    SUSPENDED = "suspended"  # Alert 224 sent (issue 15): the server's answer ends the session
    DONE = "done"
    FAILED = "failed"


class Event(Enum):
    MESSAGE = "message"  # a message that does not end the peer's package
    FINAL = "final"  # the message that ends the peer's package
    FINAL_SYNC = "final-sync"  # package 1 and 3 combined
    NEXT = "next"  # only Alert 222, while part of the peer's package is still to come
    MORE_OUT = "more-out"  # our package goes on in another message
    ALL_OUT = "all-out"  # the last message of our package was sent
    SENT = "sent"  # (client) a package was sent
    SUSPEND = "suspend"  # (client) Alert 224 sent: the session is suspended
    FAIL = "fail"  # processing failed (server: the store rolled back and a Status 500 goes back)


class Answer(Enum):
    """What the server sends back for a client's message (one handler each)."""

    ASK_NEXT = "ask-next"  # our statuses and Alert 222: the rest of the client's package, please
    INIT = "init"  # package 2: statuses, Results, our Alerts (and our Get of its DevInf)
    INIT_AND_CHANGES = "init-and-changes"  # package 2 and the first message of package 4 (1 and 3 came together)
    CHANGES = "changes"  # the next message of package 4
    COMPLETE = "complete"  # package 6: the anchors are committed, the session is done
    FAILED = "failed"  # only the SyncHdr status (500, or the ProtocolError's): the session is over


SERVER_TABLE: dict[tuple[ServerPhase, Event], ServerPhase] = {
    (ServerPhase.INIT, Event.MESSAGE): ServerPhase.INIT,
    (ServerPhase.INIT, Event.FINAL): ServerPhase.CLIENT_MODS,
    (ServerPhase.INIT, Event.FINAL_SYNC): ServerPhase.SERVER_MODS,
    (ServerPhase.INIT, Event.NEXT): ServerPhase.INIT,
    (ServerPhase.CLIENT_MODS, Event.MESSAGE): ServerPhase.CLIENT_MODS,
    (ServerPhase.CLIENT_MODS, Event.FINAL): ServerPhase.SERVER_MODS,
    (ServerPhase.CLIENT_MODS, Event.FINAL_SYNC): ServerPhase.SERVER_MODS,
    (ServerPhase.CLIENT_MODS, Event.NEXT): ServerPhase.CLIENT_MODS,
    (ServerPhase.SERVER_MODS, Event.MESSAGE): ServerPhase.SERVER_MODS,
    (ServerPhase.SERVER_MODS, Event.FINAL): ServerPhase.SERVER_MODS,
    (ServerPhase.SERVER_MODS, Event.NEXT): ServerPhase.SERVER_MODS,
    (ServerPhase.SERVER_MODS, Event.MORE_OUT): ServerPhase.SERVER_MODS,
    (ServerPhase.SERVER_MODS, Event.ALL_OUT): ServerPhase.MAP,
    (ServerPhase.MAP, Event.MESSAGE): ServerPhase.MAP,
    (ServerPhase.MAP, Event.FINAL): ServerPhase.DONE,
    (ServerPhase.MAP, Event.NEXT): ServerPhase.MAP,
    **{(phase, Event.FAIL): ServerPhase.DONE for phase in ServerPhase},
}

#: (phase the client's message came in, its event) -> what the server answers
SERVER_ANSWERS: dict[tuple[ServerPhase, Event], Answer] = {
    (ServerPhase.INIT, Event.MESSAGE): Answer.ASK_NEXT,
    (ServerPhase.INIT, Event.NEXT): Answer.ASK_NEXT,
    (ServerPhase.INIT, Event.FINAL): Answer.INIT,
    (ServerPhase.INIT, Event.FINAL_SYNC): Answer.INIT_AND_CHANGES,
    (ServerPhase.CLIENT_MODS, Event.MESSAGE): Answer.ASK_NEXT,
    (ServerPhase.CLIENT_MODS, Event.NEXT): Answer.ASK_NEXT,
    (ServerPhase.CLIENT_MODS, Event.FINAL): Answer.CHANGES,
    (ServerPhase.CLIENT_MODS, Event.FINAL_SYNC): Answer.CHANGES,
    (ServerPhase.SERVER_MODS, Event.MESSAGE): Answer.CHANGES,  # its statuses (and Alert 222): our next message
    (ServerPhase.SERVER_MODS, Event.NEXT): Answer.CHANGES,
    (ServerPhase.SERVER_MODS, Event.FINAL): Answer.CHANGES,
    (ServerPhase.MAP, Event.MESSAGE): Answer.ASK_NEXT,
    (ServerPhase.MAP, Event.NEXT): Answer.ASK_NEXT,
    (ServerPhase.MAP, Event.FINAL): Answer.COMPLETE,
    **{(phase, Event.FAIL): Answer.FAILED for phase in ServerPhase},
}

#: the phases in which we receive the peer's package: a message that is not
#: Final, or that only asks for more (``NEXT``), is answered with Alert 222
SERVER_RECEIVING = frozenset({ServerPhase.INIT, ServerPhase.CLIENT_MODS, ServerPhase.MAP})

CLIENT_TABLE: dict[tuple[ClientPhase, Event], ClientPhase] = {
    (ClientPhase.START, Event.SENT): ClientPhase.INIT,
    (ClientPhase.INIT, Event.MESSAGE): ClientPhase.INIT,
    (ClientPhase.INIT, Event.FINAL): ClientPhase.MODS,
    (ClientPhase.INIT, Event.SENT): ClientPhase.INIT,  # credentials sent again after a challenge
    (ClientPhase.MODS, Event.MORE_OUT): ClientPhase.SENDING,
    (ClientPhase.SENDING, Event.MORE_OUT): ClientPhase.SENDING,
    (ClientPhase.SENDING, Event.ALL_OUT): ClientPhase.MODS,
    (ClientPhase.MODS, Event.MESSAGE): ClientPhase.SERVER_MODS,
    (ClientPhase.MODS, Event.FINAL): ClientPhase.MAP,
    (ClientPhase.SERVER_MODS, Event.MESSAGE): ClientPhase.SERVER_MODS,
    (ClientPhase.SERVER_MODS, Event.FINAL): ClientPhase.MAP,
    (ClientPhase.MAP, Event.MESSAGE): ClientPhase.MAP,
    (ClientPhase.MAP, Event.FINAL): ClientPhase.DONE,
    **{(phase, Event.SUSPEND): ClientPhase.SUSPENDED
       for phase in (ClientPhase.MODS, ClientPhase.SENDING, ClientPhase.SERVER_MODS, ClientPhase.MAP)},
    (ClientPhase.SUSPENDED, Event.FINAL): ClientPhase.DONE,
    (ClientPhase.SUSPENDED, Event.MESSAGE): ClientPhase.DONE,
    **{(phase, Event.FAIL): ClientPhase.FAILED for phase in ClientPhase},
}


P = TypeVar("P", ServerPhase, ClientPhase)


def advance(table: dict[tuple[P, Event], P], phase: P, event: Event) -> P:
    """The next phase; a :class:`ProtocolError` (400) for a message that
    does not fit the phase.  ``Event.FAIL`` ends a session from any phase."""
    try:
        return table[(phase, event)]
    except KeyError:
        raise ProtocolError(f"unexpected {event.value} in phase {phase.value}", 400) from None
