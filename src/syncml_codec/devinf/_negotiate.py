"""Which content type a server and a client use for one datastore, and what
the client will not keep.

Pure function over two :class:`DataStore` declarations.  The client's order
decides: towards the client, the first entry of the client's ``Rx-Pref``
then ``Rx`` that the server can send (its ``Tx-Pref``/``Tx``); towards the
server, the first of the client's ``Tx-Pref`` then ``Tx`` that the server
can receive.  A type matches case-insensitively and only with the same
version (``text/x-vcard`` 2.1 is not ``text/vcard`` 3.0); an entry without
a version matches any.

The dropped properties are those of the server's CTCap for the type sent to
the client that the client's CTCap for that type does not list (a client
wildcard such as ``X-*`` keeps what it covers).  Without a CTCap on either
side there is nothing to compare, and nothing is reported dropped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ._caps import Capabilities
from ._ctcap import CTCap
from ._datastore import ContentType, DataStore

__all__ = ["Negotiation", "negotiate"]


@dataclass(frozen=True, slots=True)
class Negotiation:
    """The outcome: the type and version each way (None: nothing in
    common), and the server properties the client will drop."""

    to_client: ContentType | None
    to_server: ContentType | None
    dropped: tuple[str, ...] = ()


def _choose(wanted: Iterable[ContentType], offered: tuple[ContentType, ...]) -> ContentType | None:
    for want in wanted:
        for offer in offered:
            if want.matches(offer):
                version = (want.ver_ct or "").strip() or (offer.ver_ct or "").strip()
                return ContentType(want.ct_type.strip(), version or None)
    return None


def negotiate(server: DataStore, client: DataStore, *, server_ctcaps: Iterable[CTCap] | None = None,
              client_ctcaps: Iterable[CTCap] | None = None) -> Negotiation:
    """Negotiate one datastore pair.  ``server_ctcaps`` / ``client_ctcaps``
    replace the datastores' own CTCaps when given (for a 1.0/1.1 device:
    ``devinf.ctcaps_for(datastore)``)."""
    to_client = _choose(client.receives, server.transmits)
    to_server = _choose(client.transmits, server.receives)
    dropped: tuple[str, ...] = ()
    if to_client is not None:
        ours = Capabilities.of(server, server_ctcaps)
        theirs = Capabilities.of(client, client_ctcaps)
        sent = ours.properties(to_client.ct_type, to_client.ver_ct)
        kept = theirs.properties(to_client.ct_type, to_client.ver_ct)
        if sent is not None and kept is not None:
            dropped = tuple(p.name for p in sent.values()
                            if theirs.property(to_client.ct_type, to_client.ver_ct, p.name) is None)
    return Negotiation(to_client, to_server, dropped)
