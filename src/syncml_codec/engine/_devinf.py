"""The server's own DevInf: one DataStore per canonical datastore with the
types the converters can produce, and format negotiation with a client."""

from __future__ import annotations

from ..devinf import ContentType, DataStore, DevInf, negotiate
from ..store.base import DATASTORES

__all__ = ["SERVER_FORMATS", "server_datastore", "server_devinf", "type_for_client"]

_VCARD = (ContentType("text/vcard", "3.0"), ContentType("text/x-vcard", "2.1"),
          ContentType("text/x-s4j-sifc", "1.0"))
_CAL = (ContentType("text/calendar", "2.0"), ContentType("text/x-vcalendar", "1.0"))
_NOTE = (ContentType("text/plain", "1.0"), ContentType("text/x-vnote", "1.1"),
         ContentType("text/x-s4j-sifn", "1.0"))

#: canonical datastore -> (preferred type, other types), the server's Rx and Tx alike;
#: Funambol's SIF types are offered to the clients that ask for them
SERVER_FORMATS: dict[str, tuple[ContentType, ...]] = {
    "Contacts": _VCARD, "Events": (*_CAL, ContentType("text/x-s4j-sife", "1.0")),
    "Tasks": (*_CAL, ContentType("text/x-s4j-sift", "1.0")), "Notes": _NOTE,
    "Journal": (ContentType("text/calendar", "2.0"), ContentType("text/plain", "1.0")),
}
_SYNC_TYPES = (1, 2, 3, 4, 5, 6, 7)


def server_datastore(canonical: str, source_ref: str | None = None) -> DataStore:
    pref, *others = SERVER_FORMATS[canonical]
    return DataStore(source_ref or canonical, display_name=canonical, max_guid_size=32,
                     rx_pref=(pref,), rx=tuple(others), tx_pref=(pref,), tx=tuple(others),
                     sync_types=_SYNC_TYPES)


def server_devinf(dev_id: str, names: dict[str, str] | None = None) -> DevInf:
    """Our DevInf.  ``names`` maps canonical datastores to the URI a client
    used for them (listed under that name, as some phones want their own
    path echoed); the others are listed under their canonical names."""
    names = names or {}
    return DevInf(dev_id=dev_id, dev_typ="server", ver_dtd="1.2", man="syncml-codec",
                  mod="syncml-codec reference server", swv="0.1", utc=True, support_large_objs=True,
                  support_number_of_changes=True,
                  datastores=tuple(server_datastore(c, names.get(c)) for c in DATASTORES))


def type_for_client(canonical: str, client: DevInf | None, client_uri: str) -> str | None:
    """The content type to send to the client for ``canonical`` (its
    preferred one we can produce); None when its DevInf does not tell."""
    if client is None:
        return None
    theirs = client.datastore(client_uri)
    if theirs is None:
        return None
    chosen = negotiate(server_datastore(canonical), theirs).to_client
    return chosen.ct_type.strip().lower() if chosen is not None else None
