"""IceWarp's nine sync modes and its decision table (issue 13).

A sync URL may ask for a mode (``sync=N``, :mod:`._params`); the client asks
for one in its Alert (200-205); whether the anchors are equal tells whether
the device holds what the server thinks it holds.  :func:`decide` is the
guide's table, a pure function of those three:

============================  =====================  =========================
client asks                   URL ``sync=``          mode performed
============================  =====================  =========================
1 two-way                     none or 1              anchors equal: 1, else 2
1 two-way                     3                      anchors equal: 3, else 7
1 two-way                     5                      anchors equal: 5, else 8
1 two-way                     2, 4, 6, 7, 8 or 9     the URL's (no anchor check)
3 one-way from client         (not checked)          anchors equal: 3, else 7
5 one-way from server         (not checked)          anchors equal: 5, else 8
2, 4, 6, 7, 8 or 9            (not checked)          the client's (no check)
============================  =====================  =========================

``reset`` in the URL is mode 9 whatever the table says (the engine's, not
the table's: :func:`performed_mode`).

The modes (IceWarp numbers them 1-9; OMA DS alerts 200-205 are 1-6):
1 two-way, 2 slow two-way, 3 one-way from client, 4 refresh from client
(the server becomes identical to the client), 5 one-way from server,
6 refresh from server (the client becomes identical to the server), and
IceWarp's own 7 slow to server (the server's data erased, the client's
copied to it), 8 slow to client (the client's data erased, the server's
copied to it), 9 client reset (the client's data erased).

How 7, 8 and 9 reach a standard client (:data:`WIRE`): no alert code names
them, so each goes out as the OMA DS alert whose effect on the client is the
one wanted, and the server does its own part itself:

* 7 goes out as 203 (refresh from client: the client sends everything and
  takes nothing back); the server keeps none of its items: each client item
  is added as a new one, and the server item it replaces (the one under its
  LUID before, else one of equal content) is erased as it comes; once the
  client's package is complete, every item the client did not send is
  deleted too, so what the server holds is exactly the client's data.  A
  session that breaks off thus erases nothing the client did not send again,
  and leaves no item twice (a copy beside its original would come back to
  the client in the next slow sync as a duplicate);
* 8 goes out as 205 (refresh from server: the client erases its data and
  takes the server's), the server sends all its items;
* 9 goes out as 205 too, but the server sends nothing: the client ends up
  empty in one step (no Delete per item), and the server's data is left
  alone (the device's map is empty, so a later two-way sync sends them
  again, as to a new device).

What a real client accepts was found with SyncEvolution 2.0 (the
Synthesis engine; ``tests/interop/test_issue_13_modes.py``):

* asking for a two-way sync (Alert 200), it takes each of 201, 202, 203,
  204 and 205 in the server's Alert, answered with Status 200, and runs that
  mode ("Alerted (code=205) ..." in its log): so every mode goes out with
  Status 200 when the anchors are equal;
* asking for one-way-from-client (202) with stale anchors, it takes Status
  508 with Alert 203 and runs refresh-from-client: so a request the anchors
  no longer support gets 508 (refresh required) with the mode's alert;
* its own "one-way-from-server" goes out as Alert 200 (a local "from server
  only" flag): to the server that is mode 1, and 2 with stale anchors;
* it never refused an alert, and its DevInf lists SyncCaps 1-7 for every
  datastore, so it always gets the alerts above.  Our own client session
  (:class:`~syncml_codec.engine.client.ClientSession`) follows the server's
  alert too.

The fallback (:func:`delivery`).  Many phones list only SyncCaps 1 and 2
(two-way and slow sync: the ones OMA DS makes mandatory) in their DevInf and
do not understand 203 or 205.  The alert each mode goes out as is therefore
chosen by the client's SyncCaps for that datastore (its DevInf of this
session, else the one the server keeps); a mode whose alert the client does
not list goes out as a slow sync (201; Status 508 when the client asked for
something else) and the server does the rest itself (:class:`Fallback`):

* 6 and 8 (alert 205) without SyncCap 6: the client sends all its items; the
  server stores none of them and answers with a Delete of each LUID it sent
  and an Add of each of its own items;
* 9 (alert 205) without SyncCap 6: the same Deletes, nothing else;
* 4 and 7 (alert 203) without SyncCap 4: the server takes the client's items
  as in 203 (matched by content in 4, all new in 7; the server's items the
  client did not send deleted once its package is complete) and sends
  nothing back;
* 3 (alert 202) without SyncCap 3: a two-way sync (200) in which the server
  sends nothing (its changes wait for a later sync).

5 (alert 204) has no such fallback (in a two-way sync the client sends its
changes, which a one-way-from-server sync must not take): it goes out as
204 whatever the DevInf says.  A client without DevInf (none in this
session, none stored), or whose DevInf does not describe the datastore or
lists no SyncCap for it, gets the alerts above, as before; so does a client
that asked for the alert itself (its own 203 or 205).  The table is a pure
function, tested cell by cell (``tests/engine/test_issue_13_fallback.py``).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import Enum, IntEnum

from ..model import AlertCode

__all__ = ["ICEWARP_NAMES", "WIRE", "Delivery", "Fallback", "SyncMode", "alert_for", "decide", "delivery",
           "mode_of_alert", "performed_mode", "sync_cap"]


class SyncMode(IntEnum):
    """IceWarp's sync modes (the ``sync=`` URL parameter)."""

    TWO_WAY = 1
    SLOW = 2
    ONE_WAY_FROM_CLIENT = 3  # "server update"
    REFRESH_FROM_CLIENT = 4  # "server refresh"
    ONE_WAY_FROM_SERVER = 5  # "client update"
    REFRESH_FROM_SERVER = 6  # "client refresh"
    SLOW_TO_SERVER = 7
    SLOW_TO_CLIENT = 8
    CLIENT_RESET = 9


_BY_ALERT = {
    AlertCode.TWO_WAY: SyncMode.TWO_WAY,
    AlertCode.SLOW_SYNC: SyncMode.SLOW,
    AlertCode.ONE_WAY_FROM_CLIENT: SyncMode.ONE_WAY_FROM_CLIENT,
    AlertCode.REFRESH_FROM_CLIENT: SyncMode.REFRESH_FROM_CLIENT,
    AlertCode.ONE_WAY_FROM_SERVER: SyncMode.ONE_WAY_FROM_SERVER,
    AlertCode.REFRESH_FROM_SERVER: SyncMode.REFRESH_FROM_SERVER,
}

#: the mode performed -> the alert code it goes out as (see the module doc)
WIRE: dict[SyncMode, AlertCode] = {
    SyncMode.TWO_WAY: AlertCode.TWO_WAY,
    SyncMode.SLOW: AlertCode.SLOW_SYNC,
    SyncMode.ONE_WAY_FROM_CLIENT: AlertCode.ONE_WAY_FROM_CLIENT,
    SyncMode.REFRESH_FROM_CLIENT: AlertCode.REFRESH_FROM_CLIENT,
    SyncMode.ONE_WAY_FROM_SERVER: AlertCode.ONE_WAY_FROM_SERVER,
    SyncMode.REFRESH_FROM_SERVER: AlertCode.REFRESH_FROM_SERVER,
    SyncMode.SLOW_TO_SERVER: AlertCode.REFRESH_FROM_CLIENT,
    SyncMode.SLOW_TO_CLIENT: AlertCode.REFRESH_FROM_SERVER,
    SyncMode.CLIENT_RESET: AlertCode.REFRESH_FROM_SERVER,
}

#: IceWarp's own modes by the name the end-of-session log line gives them (:mod:`._report`)
ICEWARP_NAMES: dict[int, str] = {SyncMode.SLOW_TO_SERVER: "slow-to-server", SyncMode.SLOW_TO_CLIENT: "slow-to-client",
                 SyncMode.CLIENT_RESET: "client-reset"}

_CHECKED = {  # (client 1's) URL mode -> (anchors equal, not equal)
    None: (SyncMode.TWO_WAY, SyncMode.SLOW),
    SyncMode.TWO_WAY: (SyncMode.TWO_WAY, SyncMode.SLOW),
    SyncMode.ONE_WAY_FROM_CLIENT: (SyncMode.ONE_WAY_FROM_CLIENT, SyncMode.SLOW_TO_SERVER),
    SyncMode.ONE_WAY_FROM_SERVER: (SyncMode.ONE_WAY_FROM_SERVER, SyncMode.SLOW_TO_CLIENT),
}


def mode_of_alert(code: int) -> SyncMode | None:
    """The mode a client's Alert code asks for (None for a code that is not 200-205).

    >>> mode_of_alert(202), mode_of_alert(206)
    (<SyncMode.ONE_WAY_FROM_CLIENT: 3>, None)
    """
    return _BY_ALERT.get(code)  # type: ignore[call-overload, no-any-return]


def decide(client: int, url: int | None, anchors_equal: bool) -> SyncMode:
    """The mode performed: IceWarp's decision table (see the module doc).

    >>> decide(1, None, False), decide(1, 3, False), decide(5, 1, False), decide(1, 9, True)
    (<SyncMode.SLOW: 2>, <SyncMode.SLOW_TO_SERVER: 7>, <SyncMode.SLOW_TO_CLIENT: 8>, <SyncMode.CLIENT_RESET: 9>)
    """
    asked = SyncMode(client)
    if asked is SyncMode.TWO_WAY:
        wanted = SyncMode(url) if url is not None else None
        if wanted in _CHECKED:
            equal, stale = _CHECKED[wanted]
            return equal if anchors_equal else stale
        assert wanted is not None
        return wanted
    if asked in (SyncMode.ONE_WAY_FROM_CLIENT, SyncMode.ONE_WAY_FROM_SERVER):
        equal, stale = _CHECKED[asked]
        return equal if anchors_equal else stale
    return asked


def performed_mode(client: int, url: int | None, anchors_equal: bool, *, reset: bool = False) -> SyncMode:
    """:func:`decide`, with ``reset`` (the URL's) making it 9 in every case."""
    return SyncMode.CLIENT_RESET if reset else decide(client, url, anchors_equal)


def alert_for(mode: SyncMode) -> AlertCode:
    """The alert code ``mode`` goes out as (:data:`WIRE`)."""
    return WIRE[mode]


def sync_cap(code: int) -> int:
    """The DevInf SyncCap (SyncType) of an alert code 200-205: 1-6.

    >>> sync_cap(AlertCode.REFRESH_FROM_SERVER)
    6
    """
    if not AlertCode.TWO_WAY <= code <= AlertCode.REFRESH_FROM_SERVER:
        raise ValueError(f"no SyncCap for alert {code}")
    return int(code) - AlertCode.TWO_WAY + 1


class Fallback(str, Enum):
    """What the server does itself when a mode goes out as another alert
    than its own (see the module doc)."""

    NONE = ""  #: the mode's own alert (:data:`WIRE`)
    ERASE_AND_SEND = "erase-and-send"  #: 201: a Delete of each LUID the client sent, then all the server's items
    ERASE = "erase"  #: 201: a Delete of each LUID the client sent, nothing else
    TAKE = "take"  #: 201: the client's items taken as in 203, the rest deleted, nothing sent back
    HOLD = "hold"  #: 200: the client's changes taken, the server sends none


@dataclass(frozen=True, slots=True)
class Delivery:
    """How a mode goes out: the alert the client gets, and the server's own part."""

    alert: AlertCode
    fallback: Fallback = Fallback.NONE


#: the mode -> how it goes out to a client that does not list its alert's SyncCap
_FALLBACKS: dict[SyncMode, Delivery] = {
    SyncMode.ONE_WAY_FROM_CLIENT: Delivery(AlertCode.TWO_WAY, Fallback.HOLD),
    SyncMode.REFRESH_FROM_CLIENT: Delivery(AlertCode.SLOW_SYNC, Fallback.TAKE),
    SyncMode.REFRESH_FROM_SERVER: Delivery(AlertCode.SLOW_SYNC, Fallback.ERASE_AND_SEND),
    SyncMode.SLOW_TO_SERVER: Delivery(AlertCode.SLOW_SYNC, Fallback.TAKE),
    SyncMode.SLOW_TO_CLIENT: Delivery(AlertCode.SLOW_SYNC, Fallback.ERASE_AND_SEND),
    SyncMode.CLIENT_RESET: Delivery(AlertCode.SLOW_SYNC, Fallback.ERASE),
}


def delivery(mode: SyncMode, caps: Collection[int] | None, asked: int | None = None) -> Delivery:
    """How ``mode`` goes out to a client whose DevInf lists the SyncCaps
    ``caps`` for the datastore (None or empty: not known) and that asked for
    the alert code ``asked``: its own alert (:data:`WIRE`) when the client
    lists that alert's SyncCap, asked for it itself, or its caps are not
    known, else the fallback of the module doc.

    >>> delivery(SyncMode.SLOW_TO_CLIENT, (1, 2))
    Delivery(alert=<AlertCode.SLOW_SYNC: 201>, fallback=<Fallback.ERASE_AND_SEND: 'erase-and-send'>)
    >>> delivery(SyncMode.SLOW_TO_CLIENT, (1, 2, 6)).alert, delivery(SyncMode.CLIENT_RESET, None).alert
    (<AlertCode.REFRESH_FROM_SERVER: 205>, <AlertCode.REFRESH_FROM_SERVER: 205>)
    """
    wire = WIRE[mode]
    if not caps or sync_cap(wire) in caps or asked == wire or mode not in _FALLBACKS:
        return Delivery(wire)
    return _FALLBACKS[mode]
