"""Backup to file and restore (issue 13, IceWarp's ``backup[=PREFIX]`` sync
URL parameter; ``syncml backup restore`` goes beyond the guide).

A backup session.  When the sync URL carries ``backup``, every datastore
the client alerts is backed up instead of synced: the server answers its
Alert with a slow sync (Status 508 and Alert 201 unless the client asked
for 201 itself), so the client sends all its items; each goes, byte for
byte as it came (transfer encoding undone, chunks put together, no quirk
or format conversion), to the session's partial file in the backup area
(:class:`~syncml_codec.store.backups.BackupArea`) and is answered 200.
Nothing reaches the store, nothing is sent back, and the server's items,
the device's map and format stay as they were.  When the session
completes, the partial file becomes the backup file (``nokia200812310001.vcf``,
see :mod:`syncml_codec.store.backups`); a session that breaks off leaves no
backup file.  The device's anchors are cleared (the client, having done a
slow sync, forgot its changes since the last sync: they are in the backup,
not in the store), so its next normal sync is a slow sync that compares
everything: nothing it changed before the backup is lost.

No backup area configured (an in-memory or PostgreSQL database without
``--backup-dir``): the Alert is answered 406 and nothing happens (never a
plain sync in place of the backup the user asked for).  A backup past the
area's size limit (or past what was left of the account's share when it
started) gets Status 420 on the items past it, a WARNING, and no file (an
incomplete backup is not written as if it were whole); an account whose
backup files and partial files fill its share (``max_account_size``) gets
420 on the Alert and a WARNING.

Restore (:func:`restore_backup`): the server datastore gets exactly the
backup's items, in one store transaction: a live item equal to one of the
backup (as the store keeps it) stays as it is, the others are deleted and
the backup's missing items added, so other devices receive only what
changed, in their next sync as usual; and the named
device gets a *pending mode* (:meth:`Store.set_pending_mode`): its next
sync of the datastore is a refresh from the server (Alert 205: the device
drops what it holds and takes the server's), cleared when that session
completes.

Mail folders (:mod:`._mailds`) are neither backed up (``?backup`` of one is
406) nor restored: the store holds only references to the messages, which
live in the mail storage (a Maildir, an IMAP server) with backups of its
own; items restored into the store would have no message behind them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from ..model import AlertCode, StatusCode
from ..store.backups import BackupArea, BackupFile, BackupItem, content_type_of
from ..store.base import Store
from ._items import canonical_data
from ._mailds import is_mail
from ._util import log_quoted

__all__ = ["RestoreReport", "SessionBackup", "restore_backup"]

log = logging.getLogger("syncml_codec.engine")


@dataclass(kw_only=True)
class SessionBackup:
    """One datastore's backup in one session: where its items go, and how
    many bytes (of the partial file) and items the committed messages wrote."""

    area: BackupArea
    user: str
    session_id: str
    datastore: str
    prefix: str
    size: int = 0
    count: int = 0
    budget: int = -1  # bytes left of the account's share when the backup started (-1: not limited by it)
    overflow: bool = False  # items were refused past the area's limit: no file is made
    done: list[str] = field(default_factory=list)  # the file made (for the session log)

    def add(self, data: bytes, content_type: str | None) -> int:
        """An item the client sent: appended to the partial file; its status."""
        limit = self.area.max_size if self.budget < 0 else min(self.area.max_size, self.budget)
        if self.size + len(data) > limit:
            if not self.overflow:
                log.warning("session %s: backup of %s past %d bytes%s: items refused (420), no backup file",
                            self.session_id, self.datastore, limit,
                            " (what was left of the account's share)" if limit < self.area.max_size else "")
            self.overflow = True
            return StatusCode.DEVICE_FULL
        self.size = self.area.append(self.user, self.session_id, self.datastore, self.size,
                                     BackupItem(data, content_type or content_type_of(data)))
        self.count += 1
        return StatusCode.OK

    def finish(self, when: float) -> BackupFile | None:
        """The session completed: the backup file (None when it overflowed)."""
        if self.overflow:
            self.area.discard(self.user, self.session_id, self.datastore)
            return None
        backup, count = self.area.finish(self.user, self.session_id, self.datastore, self.size, self.prefix, when)
        log.info("session %s: backup of %s for user=%s: %s (%d items, %d bytes)", self.session_id, self.datastore,
                 log_quoted(self.user), backup.path.name, count, backup.size)
        self.done.append(backup.name)
        return backup


@dataclass(frozen=True, slots=True)
class RestoreReport:
    """What :func:`restore_backup` did: the backup, its number of items
    (``restored``), the live items it deleted and those it added (the rest
    were there already), and the device whose next sync is a refresh from
    the server."""

    backup: BackupFile
    restored: int
    deleted: int
    added: int
    device_id: str


def restore_backup(store: Store, area: BackupArea, user: str, backup: BackupFile, device_id: str,
                   clock: float) -> RestoreReport:
    """Make the account's datastore hold exactly ``backup``'s items, and the
    next sync of ``device_id`` (created if the server has not seen it yet)
    a refresh from the server (see the module doc).  ``clock``: the time
    written on the changes.  :class:`ValueError` if the file does not read."""
    datastore = backup.datastore
    if is_mail(datastore):
        raise ValueError(f"{datastore}: mail folders are not restored from backups (their messages live in the "
                         "mail storage, Maildir or IMAP, which has backups of its own)")
    items = area.items(backup)
    wanted: dict[tuple[bytes, str], int] = {}  # the backup's items as the store keeps them, counted
    for n, item in enumerate(items, 1):
        key = canonical_data(datastore, item.data, item.content_type or None,
                             what=f"{datastore} restore {backup.name} #{n}")
        wanted[key] = wanted.get(key, 0) + 1
    deleted = 0
    with store.transaction():
        for old in store.items(user, datastore):
            key = (old.data, old.content_type)
            if wanted.get(key, 0) > 0:  # there already: kept (other devices see no change)
                wanted[key] -= 1
            else:
                store.delete_item(user, datastore, old.guid, clock)
                deleted += 1
        added = 0
        for (data, ctype), count in wanted.items():
            for _ in range(count):
                store.add_item(user, datastore, data, ctype, clock)
                added += 1
        device = store.device(user, device_id)
        store.set_pending_mode(device, datastore, AlertCode.REFRESH_FROM_SERVER, clock)
    log.info("backup %s restored to %s of user=%s (%d items: %d added, %d deleted); next sync of device=%s: "
             "refresh from server", backup.name, datastore, log_quoted(user), len(items), added, deleted,
             log_quoted(device_id))
    return RestoreReport(backup, len(items), deleted, added, device_id)
