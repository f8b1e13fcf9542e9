"""Server-alerted sync on the engine's side (issue 13): what the ``push``
URL parameter does, and what a notification is made of.

A device whose sync URL carries ``push`` (``http://host/sync?push``) asks
for server-alerted sync.  When one of its sessions completes, the server
registers, per datastore of the session, the server identifier the device
knows the server by (the URL of its first message, without parameters) and
the datastore's name as the device addresses it
(:class:`~syncml_codec.store.base.PushTarget`, kept in the store).  The
engine does nothing else with it: no notification goes out by itself (there
is no SMS or WAP-push gateway here).  ``syncml push USER DEVICE`` makes the
notification from the registration (:func:`notification_for`), for an
operator or a gateway to deliver.  When the device answers, its Alerts carry
206-210, which the engine carries out as 200-205 (:data:`._sync.BY_SERVER`).

A notification holds the server identifier and each datastore URI in 255
bytes at most: longer ones are not registered (a WARNING says so).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from ..codec.san import Notification, SyncAlert, UIMode
from ..store.base import Device, PushTarget, Store
from ._sync import DatastoreSync
from ._util import log_quoted

__all__ = ["MAX_NAME", "notification_for", "register_push", "sync_url"]

log = logging.getLogger("syncml_codec.engine")

#: bytes a notification gives the server identifier and each datastore URI
MAX_NAME = 255


def sync_url(loc_uri: str) -> str:
    """A sync URL without its parameters (what comes from the first ``?`` or ``#``).

    >>> sync_url("http://host/sync?push&sync=2"), sync_url("http://host/sync#push")
    ('http://host/sync', 'http://host/sync')
    """
    text = loc_uri.strip()
    cut = min((i for i in (text.find("?"), text.find("#")) if i >= 0), default=len(text))
    return text[:cut]


def register_push(store: Store, device: Device, datastores: Iterable[DatastoreSync], server_id: str,
                  now: float, session_id: str) -> list[str]:
    """Register the session's datastores for server-alerted sync (see the
    module doc); the canonical names registered."""
    if not server_id or len(server_id.encode("utf-8")) > MAX_NAME:
        log.warning("session %s: push not registered: the sync URL %s is no notification's server identifier "
                    "(1 to %d bytes)", session_id, log_quoted(server_id[:300]), MAX_NAME)
        return []
    done = []
    for ds in datastores:
        uri = ds.server_uri.strip() or ds.canonical
        if len(uri.encode("utf-8")) > MAX_NAME:
            log.warning("session %s: push not registered for %s: its URI %s is longer than %d bytes", session_id,
                        ds.canonical, log_quoted(uri[:300]), MAX_NAME)
            continue
        store.set_push_target(device, PushTarget(ds.canonical, server_id, uri, now))
        done.append(ds.canonical)
    if done:
        log.info("session %s: device %s registered for server-alerted sync (%s) of %s", session_id,
                 log_quoted(device.device_id), log_quoted(server_id), ", ".join(done))
    return done


def notification_for(targets: Sequence[PushTarget], sync_type: int = 206, *, server_id: str | None = None,
                     content_types: dict[str, str] | None = None, session_id: int = 0,
                     ui_mode: UIMode = UIMode.BACKGROUND) -> Notification:
    """The notification asking a device to sync ``targets`` (one server
    identifier for all: ``server_id``, else the first target's) in
    ``sync_type`` (206-210); ``content_types``: per canonical datastore the
    MIME type the device syncs it in, when known."""
    if not targets:
        raise ValueError("no datastore to alert")
    types = content_types or {}
    return Notification(server_id=server_id or targets[0].server_id, session_id=session_id, ui_mode=ui_mode,
                        alerts=tuple(SyncAlert(sync_type, t.server_uri, types.get(t.datastore)) for t in targets))
