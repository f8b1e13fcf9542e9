"""The device at the other end of a server session: its record in the store,
its DevInf (sent in this session, else the one stored from an earlier
session, parsed at most once) and the quirk behaviours that follow from it
(:mod:`.quirks`, worked out again only when another DevInf comes)."""

from __future__ import annotations

from collections.abc import Iterable

from ..devinf import DevInf
from ..errors import SyncMLError
from ..model import Item, StatusCode
from ..store.base import Device, Store
from ._capmerge import device_caps
from ._devinf import devinf_bytes, devinf_from_item, type_for_client
from ._format import apply_format
from ._sync import DatastoreSync
from .quirks import Quirks, quirks_for

__all__ = ["Peer"]


class Peer:
    """The authenticated device of a session (``loc_name``: the LocName it
    came with)."""

    def __init__(self, store: Store, device: Device, loc_name: str | None) -> None:
        self.store = store
        self.device = device  # replaced when its DevInf is stored
        self.user = device.user
        self.device_id = device.device_id
        self.loc_name = loc_name
        self.asked_devinf = False  # our Get of its DevInf went out
        self.received = False  # it sent its DevInf in this session (Put, or Results of our Get)
        self._devinf: DevInf | None = None
        self._stored_devinf_read = False  # the stored DevInf was parsed (see known_devinf)
        self._quirks: tuple[DevInf | None, Quirks] | None = None  # (for which DevInf, the behaviours)

    def __getstate__(self) -> dict[str, object]:
        """What a stored session keeps (:mod:`._persist`): not the quirk behaviours, a cache."""
        state = dict(self.__dict__)
        state["_quirks"] = None
        return state

    @property
    def devinf(self) -> DevInf | None:
        """The DevInf the device sent in this session, else the stored one once
        :meth:`known_devinf` read it (None: neither yet; :attr:`received`
        tells which)."""
        return self._devinf

    def known_devinf(self) -> DevInf | None:
        """Its DevInf of this session, else the one the store keeps."""
        if self._devinf is None and not self._stored_devinf_read and self.device.devinf:
            self._stored_devinf_read = True  # once per session, also when it does not read
            try:
                self._devinf = DevInf.from_bytes(self.device.devinf)
            except (SyncMLError, ValueError):
                return None
        return self._devinf

    @property
    def quirks(self) -> Quirks:
        """The device's quirk behaviours, by its DevInf, else its device id
        (asked for each item: worked out once per DevInf)."""
        devinf = self.known_devinf()
        if self._quirks is None or self._quirks[0] is not devinf:
            self._quirks = (devinf, quirks_for(devinf, self.device_id))
        return self._quirks[1]

    def take_devinf(self, items: tuple[Item, ...], datastores: Iterable[DatastoreSync], session_id: str = "") -> int:
        """The DevInf of a Put or Results: kept, stored, and the types of
        ``datastores`` (alerted before it came) negotiated again (a forced
        format checked against it, :mod:`._format`); the status."""
        for item in items:
            devinf = devinf_from_item(item)
            if devinf is None:
                return StatusCode.BAD_REQUEST
            self._devinf = devinf
            self.received = True
            for ds in datastores:  # a DevInf that comes after the Alerts (Results of our Get)
                ds.wanted_type = type_for_client(ds.canonical, devinf, ds.client_uri) or ds.wanted_type
                apply_format(ds, None, devinf, session_id)  # a forced format checked against it
                ds.caps = device_caps(devinf, ds.client_uri, ds.forced_type or ds.wanted_type or ds.client_type,
                                      self.quirks)
            self.device = self.store.set_device_devinf(self.device, devinf_bytes(devinf))
        return StatusCode.OK
