"""What the SQLite and PostgreSQL stores share: the methods whose SQL is
the same on both, written once.

Why a base class and a table of statements: the two stores keep the same
tables and ask them the same questions; the dialects differ in a few words
(``?`` or ``%s`` for a parameter; ``user`` or ``account`` for the column of
the account name, ``user`` being reserved in PostgreSQL; ``rowid`` or a
``seq`` column for the order map rows were added in) and in how a read
reaches a connection.  So each statement is written here once in
:class:`Statements`, with ``?``, ``{user}`` and ``{map_order}``, and
translated once per store class when the class is made
(:meth:`SQLStore.__init_subclass__`): the SQLite store, the default and the
hot one, runs constant strings, with no rewriting per call.  Where the two
had said one thing in two ways, the form both dialects take is the one kept
(``NOT deleted``; the newest sessions in a subquery; a device's state in
three grouped reads).

What each store keeps as its own: the schema and its migrations, how
transactions and connections work (:meth:`transaction`, :meth:`_exec`),
how a read runs (:meth:`_one`, :meth:`_all`, :meth:`_reading`: on SQLite
straight on the one connection; on PostgreSQL in a transaction of a pooled
connection, taking the account's advisory lock for item reads), and the
statements that differ in more than words: GUIDs and revisions (a counters
table or sequences), item writes, the live-session row lock, the cleanup
that skips locked rows, the server secret's table.

Imports point one way: ``base`` (and ``model.auth``) <- ``_sql`` <- ``sqlite``, ``postgres``.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, ClassVar, Protocol

from ..model.auth import scrypt_hash, user_password_hash
from ._seal import MAIL_IMAP, seal, unseal
from .base import (
    KEPT_REVISIONS,
    Account,
    Anchors,
    Conflict,
    DatastoreState,
    Device,
    DeviceFormat,
    LiveSession,
    MapEntry,
    PushTarget,
    ResumePoint,
    SessionRecord,
    StoredItem,
    normal_domain,
)

__all__ = ["Cursor", "SQLStore", "Statements", "conflict_of", "device_of", "item_of"]


class Cursor(Protocol):
    """What the stores use of a DB-API cursor (:mod:`sqlite3`'s and psycopg's both are one)."""

    @property
    def rowcount(self) -> int: ...
    def fetchone(self) -> Any: ...
    def __iter__(self) -> Iterator[Any]: ...


#: items a page of :meth:`SQLStore.iter_items` holds
ITEMS_PAGE = 200


class Statements:
    """The statements both stores run: ``?`` for a parameter, ``{user}`` for
    the column that holds the account name, ``{map_order}`` for the column
    that orders a device's map rows as they were added.  An instance holds
    them translated for one dialect (the class attributes stay as written).

    >>> Statements("%s", user="account", map_order="seq").set_disabled
    'UPDATE users SET disabled = %s WHERE name = %s'
    """

    # accounts
    add_user = ("INSERT INTO users (name, hash, basic_only) VALUES (?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET hash = excluded.hash, basic_only = excluded.basic_only")
    account = "SELECT name, hash, basic_only, disabled, auth_policy, data_key FROM users WHERE name = ?"
    set_disabled = "UPDATE users SET disabled = ? WHERE name = ?"
    set_auth_policy = "UPDATE users SET auth_policy = ? WHERE name = ?"
    set_data_key = "UPDATE users SET data_key = ? WHERE name = ?"
    set_mail_imap = "UPDATE users SET mail_imap = ? WHERE name = ?"  # (schema 11)
    mail_imap = "SELECT mail_imap FROM users WHERE name = ?"
    # domains (schema 8)
    domain_disabled = "SELECT disabled FROM domains WHERE name = ?"
    set_domain = ("INSERT INTO domains (name, disabled) VALUES (?, ?) "
                  "ON CONFLICT (name) DO UPDATE SET disabled = excluded.disabled")
    domains = "SELECT name, disabled FROM domains ORDER BY name"
    delete_user = "DELETE FROM users WHERE name = ?"
    delete_user_rows = (  # the account's devices' rows, its devices, its running sessions (they end), its items
        *(f"DELETE FROM {table} WHERE device IN (SELECT id FROM devices WHERE {{user}} = ?)"
          for table in ("anchors", "maps", "device_formats", "sessions", "conflicts", "push_targets",
                        "pending_modes", "device_filters", "soft_deletes", "resume_points", "resume_acks")),
        "DELETE FROM devices WHERE {user} = ?",
        "DELETE FROM session_chunks WHERE session_id IN (SELECT session_id FROM live_sessions WHERE {user} = ?)",
        "DELETE FROM live_sessions WHERE {user} = ?",
        "DELETE FROM item_revisions WHERE {user} = ?",
        "DELETE FROM items WHERE {user} = ?")
    users = "SELECT name FROM users ORDER BY name"
    # devices
    find_device = "SELECT id, {user}, device_id, nonce, devinf FROM devices WHERE {user} = ? AND device_id = ?"
    set_device_nonce = "UPDATE devices SET nonce = ? WHERE id = ?"
    set_device_devinf = "UPDATE devices SET devinf = ? WHERE id = ?"
    devices_all = "SELECT id, {user}, device_id, nonce, devinf FROM devices ORDER BY {user}, device_id"
    devices_of = ("SELECT id, {user}, device_id, nonce, devinf FROM devices WHERE {user} = ? "
                  "ORDER BY {user}, device_id")
    # items
    get_item = ("SELECT guid, data, content_type, rev, deleted, modified, parent FROM items "
                "WHERE {user} = ? AND datastore = ? AND guid = ?")
    items_all = ("SELECT guid, data, content_type, rev, deleted, modified, parent FROM items "
                 "WHERE {user} = ? AND datastore = ? ORDER BY id")
    items_live = ("SELECT guid, data, content_type, rev, deleted, modified, parent FROM items "
                  "WHERE {user} = ? AND datastore = ? AND NOT deleted ORDER BY id")
    # the items without their data (what package 4 lists), and the items a page at a time (by id)
    heads_all = ("SELECT guid, content_type, rev, deleted, modified, parent FROM items "
                 "WHERE {user} = ? AND datastore = ? ORDER BY id")
    heads_live = ("SELECT guid, content_type, rev, deleted, modified, parent FROM items "
                  "WHERE {user} = ? AND datastore = ? AND NOT deleted ORDER BY id")
    head = ("SELECT guid, content_type, rev, deleted, modified, parent FROM items "
            "WHERE {user} = ? AND datastore = ? AND guid = ?")
    page_all = ("SELECT guid, data, content_type, rev, deleted, modified, parent, id FROM items "
                "WHERE {user} = ? AND datastore = ? AND id > ? ORDER BY id LIMIT ?")
    page_live = ("SELECT guid, data, content_type, rev, deleted, modified, parent, id FROM items "
                 "WHERE {user} = ? AND datastore = ? AND id > ? AND NOT deleted ORDER BY id LIMIT ?")
    # the parents of a datastore's live items, and the live items a folder item contains (schema 10)
    item_parents = "SELECT guid, parent FROM items WHERE {user} = ? AND datastore = ? AND NOT deleted"
    # the revision that last changed each live item's content (schema 12)
    content_revs = "SELECT guid, content_rev FROM items WHERE {user} = ? AND datastore = ? AND NOT deleted"
    children = "SELECT guid FROM items WHERE {user} = ? AND datastore = ? AND parent = ? AND NOT deleted ORDER BY id"
    # anchors and maps
    anchors = "SELECT client_last, server_last FROM anchors WHERE device = ? AND datastore = ?"
    set_anchors = ("INSERT INTO anchors (device, datastore, client_last, server_last) VALUES (?, ?, ?, ?) "
                   "ON CONFLICT (device, datastore) DO UPDATE SET client_last = excluded.client_last, "
                   "server_last = excluded.server_last")
    clear_anchors = "DELETE FROM anchors WHERE device = ? AND datastore = ?"
    map_entries = "SELECT luid, guid, known_rev FROM maps WHERE device = ? AND datastore = ? ORDER BY {map_order}"
    unmap_luid = "DELETE FROM maps WHERE device = ? AND datastore = ? AND luid = ? AND guid != ?"
    set_map = ("INSERT INTO maps (device, datastore, guid, luid, known_rev) VALUES (?, ?, ?, ?, ?) "
               "ON CONFLICT (device, datastore, guid) DO UPDATE SET luid = excluded.luid, "
               "known_rev = excluded.known_rev")
    unmap = "DELETE FROM maps WHERE device = ? AND datastore = ? AND guid = ?"
    forget_map = "DELETE FROM maps WHERE device = ? AND datastore = ?"
    # soft deletes (schema 13, issue 15)
    soft_deleted = "SELECT guid, rev FROM soft_deletes WHERE device = ? AND datastore = ?"
    set_soft_deleted = ("INSERT INTO soft_deletes (device, datastore, guid, rev) VALUES (?, ?, ?, ?) "
                        "ON CONFLICT (device, datastore, guid) DO UPDATE SET rev = excluded.rev")
    clear_soft_deleted = "DELETE FROM soft_deletes WHERE device = ? AND datastore = ? AND guid = ?"
    forget_soft_deleted = "DELETE FROM soft_deletes WHERE device = ? AND datastore = ?"
    # formats per device
    device_format = ("SELECT content_type, declared, version, encoding, accepts FROM device_formats "
                     "WHERE device = ? AND datastore = ?")
    set_device_format = ("INSERT INTO device_formats (device, datastore, content_type, declared, version, "
                         "encoding, accepts) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (device, datastore) DO UPDATE "
                         "SET content_type = excluded.content_type, declared = excluded.declared, "
                         "version = excluded.version, encoding = excluded.encoding, accepts = excluded.accepts")
    # server-alerted sync
    set_push_target = ("INSERT INTO push_targets (device, datastore, server_id, server_uri, registered) "
                       "VALUES (?, ?, ?, ?, ?) ON CONFLICT (device, datastore) DO UPDATE SET "
                       "server_id = excluded.server_id, server_uri = excluded.server_uri, "
                       "registered = excluded.registered")
    push_targets = ("SELECT datastore, server_id, server_uri, registered FROM push_targets WHERE device = ? "
                    "ORDER BY datastore")
    # pending modes (schema 7)
    pending_mode = "SELECT mode FROM pending_modes WHERE device = ? AND datastore = ?"
    set_pending_mode = ("INSERT INTO pending_modes (device, datastore, mode, since) VALUES (?, ?, ?, ?) "
                        "ON CONFLICT (device, datastore) DO UPDATE SET mode = excluded.mode, since = excluded.since")
    clear_pending_mode = "DELETE FROM pending_modes WHERE device = ? AND datastore = ?"
    # filters per device (schema 9)
    device_filter = "SELECT filter FROM device_filters WHERE device = ? AND datastore = ?"
    set_device_filter = ("INSERT INTO device_filters (device, datastore, filter) VALUES (?, ?, ?) "
                         "ON CONFLICT (device, datastore) DO UPDATE SET filter = excluded.filter")
    clear_device_filter = "DELETE FROM device_filters WHERE device = ? AND datastore = ?"
    # suspend and resume (schema 16)
    resume_point = ("SELECT session_id, mode, client_next, server_next, suspended FROM resume_points "
                    "WHERE device = ? AND datastore = ?")
    set_resume_point = ("INSERT INTO resume_points (device, datastore, session_id, mode, client_next, server_next, "
                        "suspended) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (device, datastore) DO UPDATE SET "
                        "session_id = excluded.session_id, mode = excluded.mode, client_next = excluded.client_next, "
                        "server_next = excluded.server_next, suspended = excluded.suspended")
    clear_resume_point = "DELETE FROM resume_points WHERE device = ? AND datastore = ?"
    clear_resume_acks = "DELETE FROM resume_acks WHERE device = ? AND datastore = ?"
    set_resume_ack = ("INSERT INTO resume_acks (device, datastore, guid, rev) VALUES (?, ?, ?, ?) "
                      "ON CONFLICT (device, datastore, guid) DO UPDATE SET rev = excluded.rev")
    resume_acks = "SELECT guid, rev FROM resume_acks WHERE device = ? AND datastore = ?"
    # live sessions
    save_live_session = ("INSERT INTO live_sessions (session_id, {user}, device_id, last_seen, done, state) "
                         "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (session_id) DO UPDATE SET "
                         "{user} = excluded.{user}, device_id = excluded.device_id, last_seen = excluded.last_seen, "
                         "done = excluded.done, state = excluded.state")
    live_sessions = "SELECT session_id, {user}, device_id, last_seen, done FROM live_sessions"
    live_sessions_order = " ORDER BY last_seen, session_id"
    count_live_sessions = "SELECT count(*) FROM live_sessions"
    # the large objects of a live session, piece by piece (schema 12)
    put_chunk = "INSERT INTO session_chunks (session_id, obj, seq, data) VALUES (?, ?, ?, ?)"
    chunk_data = "SELECT data FROM session_chunks WHERE session_id = ? AND obj = ? ORDER BY seq"
    drop_chunks = "DELETE FROM session_chunks WHERE session_id = ? AND obj = ?"
    drop_session_chunks = "DELETE FROM session_chunks WHERE session_id = ?"
    where_user = "{user} = ?"
    where_device_id = "device_id = ?"
    nonce_used = "SELECT 1 FROM used_nonces WHERE nonce = ? AND expires >= ?"
    # operator views
    log_conflict = ("INSERT INTO conflicts (device, datastore, guid, data, content_type, reason, at, second_data, "
                    "second_type) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
    conflict_select = ("SELECT d.device_id, c.datastore, c.guid, c.data, c.content_type, c.reason, c.at, c.id, "
                       "d.{user}, c.second_data, c.second_type FROM conflicts c JOIN devices d ON d.id = c.device")
    # item revisions (schema 13): the base of a merge
    keep_revision = ("INSERT INTO item_revisions ({user}, datastore, guid, rev, data, content_type) "
                     "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT ({user}, datastore, guid, rev) DO NOTHING")
    prune_revisions = ("DELETE FROM item_revisions WHERE {user} = ? AND datastore = ? AND guid = ? AND rev NOT IN "
                       "(SELECT rev FROM item_revisions WHERE {user} = ? AND datastore = ? AND guid = ? "
                       "ORDER BY rev DESC LIMIT ?)")
    item_revision = ("SELECT data, content_type FROM item_revisions "
                     "WHERE {user} = ? AND datastore = ? AND guid = ? AND rev = ?")
    conflicts_all = conflict_select + " ORDER BY c.id"
    conflicts_of = conflict_select + " WHERE d.{user} = ? ORDER BY c.id"
    conflict = conflict_select + " WHERE c.id = ?"
    log_session = ("INSERT INTO sessions (device, session_id, started, ended, outcome, detail) "
                   "VALUES (?, ?, ?, ?, ?, ?)")
    sessions_select = ("SELECT * FROM (SELECT d.device_id, s.session_id, s.started, s.ended, s.outcome, s.detail, "
                       "d.{user}, s.id FROM sessions s JOIN devices d ON d.id = s.device")
    sessions_of = " WHERE d.{user} = ?"
    sessions_newest = " ORDER BY s.id DESC"
    sessions_order = ") newest ORDER BY id"
    state_anchors = "SELECT datastore, client_last, server_last FROM anchors WHERE device = ?"
    state_maps = ("SELECT datastore, count(luid), count(*) - count(luid) FROM maps WHERE device = ? "
                  "GROUP BY datastore")
    state_formats = ("SELECT datastore, content_type, declared, version, encoding, accepts FROM device_formats "
                     "WHERE device = ?")

    def __init__(self, param: str, *, user: str, map_order: str) -> None:
        for name, text in vars(Statements).items():
            if isinstance(text, str | tuple) and not name.startswith("_"):
                setattr(self, name, _translate(text, param, user, map_order))


def _translate(text: Any, param: str, user: str, map_order: str) -> Any:
    if isinstance(text, tuple):
        return tuple(_translate(t, param, user, map_order) for t in text)
    return text.replace("{user}", user).replace("{map_order}", map_order).replace("?", param)


class SQLStore:
    """The :class:`~syncml_codec.store.base.Store` methods the SQLite and
    PostgreSQL stores share.  A subclass names its dialect
    (``class S(SQLStore, param="?", user="user", map_order="rowid")``) and
    gives :meth:`transaction`, :meth:`_exec`, :meth:`_one`, :meth:`_all`,
    :meth:`_reading` and :meth:`_lock_account`."""

    _sql: ClassVar[Statements]

    def __init_subclass__(cls, *, param: str, user: str, map_order: str, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._sql = Statements(param, user=user, map_order=map_order)

    # -- what each store gives ------------------------------------------------
    def transaction(self) -> AbstractContextManager[None]:
        raise NotImplementedError

    def savepoint(self) -> AbstractContextManager[None]:
        """Inside :meth:`transaction`: the block's writes are undone if it raises."""
        raise NotImplementedError

    def _exec(self, sql: str, args: Sequence[object] = ()) -> Cursor:
        """Run ``sql`` (in a transaction the caller opened)."""
        raise NotImplementedError

    def _one(self, sql: str, args: Sequence[object] = (), lock: str | None = None) -> Any:
        """The first row a read finds, or None; ``lock``: the account whose
        items it reads (PostgreSQL takes the account's lock first)."""
        raise NotImplementedError

    def _all(self, sql: str, args: Sequence[object] = (), lock: str | None = None) -> list[Any]:
        """Every row a read finds (``lock`` as for :meth:`_one`)."""
        raise NotImplementedError

    def _reading(self) -> AbstractContextManager[object]:
        """A block of reads that belong together."""
        raise NotImplementedError

    def _lock_account(self, user: str) -> None:
        """Take the account's lock for the rest of the transaction, if the store has one."""
        raise NotImplementedError

    # -- accounts ------------------------------------------------------------
    def add_user(self, name: str, password: str, *, basic_only: bool = False) -> None:
        """Add an account, or change its password (and whether it is
        restricted to basic auth, with an scrypt hash); a disabled account
        stays disabled."""
        secret = scrypt_hash(password, secrets.token_bytes(16)) if basic_only else user_password_hash(name, password)
        with self.transaction():
            self._exec(self._sql.add_user, (name, secret, basic_only))

    def account(self, name: str) -> Account | None:
        row = self._one(self._sql.account, (name,))
        return None if row is None else Account(row[0], row[1], bool(row[2]), bool(row[3]), row[4] or None,
                                                None if row[5] is None else bytes(row[5]))

    def set_auth_policy(self, name: str, policy: str | None) -> bool:
        """The account's authentication policy (one of
        :data:`~.base.AUTH_POLICIES`; None: the server's); False if there is no such account."""
        with self.transaction():
            return self._exec(self._sql.set_auth_policy, (policy, name)).rowcount > 0

    def set_data_key(self, name: str, key: str | None) -> bool:
        """The account's data-encryption secret (``des;b64`` / ``3des;b64``
        items), kept sealed (:mod:`._seal`); None or "" removes it.  False
        if there is no such account."""
        sealed = seal(self.server_secret(), name, key) if key else None
        with self.transaction():
            return self._exec(self._sql.set_data_key, (sealed, name)).rowcount > 0

    def data_key(self, name: str) -> str | None:
        """The account's data-encryption secret in clear, or None when it
        has none; :class:`~._seal.SealError` when the sealed value does not
        open (the database's server secret changed)."""
        account = self.account(name)
        if account is None or account.data_key is None:
            return None
        return unseal(self.server_secret(), name, account.data_key)

    def set_mail_imap(self, name: str, url: str | None) -> bool:
        """The account's IMAP mail settings (``imap[s]://user:password@host:port``,
        what ``syncml serve --imap`` connects with), kept sealed (:mod:`._seal`,
        a label of their own); None or "" removes them.  False if there is no
        such account."""
        sealed = seal(self.server_secret(), name, url, MAIL_IMAP) if url else None
        with self.transaction():
            return self._exec(self._sql.set_mail_imap, (sealed, name)).rowcount > 0

    def mail_imap(self, name: str) -> str | None:
        """The account's IMAP settings in clear (None: it has none);
        :class:`~._seal.SealError` when the sealed value does not open."""
        row = self._one(self._sql.mail_imap, (name,))
        if row is None or row[0] is None:
            return None
        return unseal(self.server_secret(), name, bytes(row[0]), MAIL_IMAP)

    # -- domains ---------------------------------------------------------------
    def set_domain_disabled(self, domain: str, disabled: bool) -> None:
        """Disable (or enable) every account named ``user@domain`` (domains
        compare as :func:`~syncml_codec.store.base.normal_domain` makes them)."""
        with self.transaction():
            self._exec(self._sql.set_domain, (normal_domain(domain), disabled))

    def domain_disabled(self, domain: str) -> bool:
        row = self._one(self._sql.domain_disabled, (normal_domain(domain),))
        return row is not None and bool(row[0])

    def domains(self) -> list[tuple[str, bool]]:
        """The domains the operator enabled or disabled, by name, with whether each is disabled."""
        return [(r[0], bool(r[1])) for r in self._all(self._sql.domains)]

    def server_secret(self) -> bytes:
        raise NotImplementedError

    def set_disabled(self, name: str, disabled: bool) -> bool:
        """Disable (or enable again) the account; False if there is none."""
        with self.transaction():
            return self._exec(self._sql.set_disabled, (disabled, name)).rowcount > 0

    def delete_user(self, name: str) -> bool:
        """Remove the account and everything of it, in one transaction: its
        items (tombstones too), its devices and their anchors, maps, formats,
        sessions and conflicts.  False if there is no such account.

        Nothing is kept because items and devices are keyed by the user's
        *name*, not by a reference to the account: kept, they would belong to
        whoever is added later under the same name (the old data, and device
        anchors that make a device with the same id skip its slow sync).  The
        GUID and revision counters are not touched, so nothing is reused."""
        with self.transaction():
            if self._exec(self._sql.delete_user, (name,)).rowcount == 0:
                return False
            self._lock_account(name)
            for statement in self._sql.delete_user_rows:
                self._exec(statement, (name,))
        return True

    def user_hash(self, name: str) -> str | None:
        """``b64(md5(user:password))``; None for no account or a basic-only one."""
        account = self.account(name)
        return None if account is None or account.basic_only else account.secret

    def users(self) -> list[str]:
        return [r[0] for r in self._all(self._sql.users)]

    # -- devices -------------------------------------------------------------
    def find_device(self, user: str, device_id: str) -> Device | None:
        """The device, or None if it never authenticated (nothing is written)."""
        row = self._one(self._sql.find_device, (user, device_id))
        return None if row is None else device_of(row)

    def set_device_nonce(self, device: Device, nonce: bytes) -> Device:
        with self.transaction():
            self._exec(self._sql.set_device_nonce, (nonce, device.id))
        return Device(device.id, device.user, device.device_id, nonce, device.devinf)

    def set_device_devinf(self, device: Device, devinf: bytes) -> Device:
        with self.transaction():
            self._exec(self._sql.set_device_devinf, (devinf, device.id))
        return Device(device.id, device.user, device.device_id, device.nonce, devinf)

    # -- items ---------------------------------------------------------------
    def get_item(self, user: str, datastore: str, guid: str) -> StoredItem | None:
        """The item (a tombstone too); None if it never existed."""
        row = self._one(self._sql.get_item, (user, datastore, guid), user)
        return None if row is None else item_of(row)

    def items(self, user: str, datastore: str, include_deleted: bool = False) -> list[StoredItem]:
        """The items in the order they were added."""
        sql = self._sql.items_all if include_deleted else self._sql.items_live
        return [item_of(r) for r in self._all(sql, (user, datastore), user)]

    def item_heads(self, user: str, datastore: str, include_deleted: bool = False) -> list[StoredItem]:
        """The items as :meth:`items` lists them but without their data
        (``b""``): what a session keeps of the items it sends (their GUIDs,
        revisions, tombstones, parents and types), reading each item's data
        only when it goes out."""
        sql = self._sql.heads_all if include_deleted else self._sql.heads_live
        return [StoredItem(r[0], b"", r[1], int(r[2]), bool(r[3]), float(r[4]), r[5] or "")
                for r in self._all(sql, (user, datastore), user)]

    def item_head(self, user: str, datastore: str, guid: str) -> StoredItem | None:
        """:meth:`get_item` without the data (``b""``)."""
        r = self._one(self._sql.head, (user, datastore, guid), user)
        return None if r is None else StoredItem(r[0], b"", r[1], int(r[2]), bool(r[3]), float(r[4]), r[5] or "")

    def iter_items(self, user: str, datastore: str, include_deleted: bool = False,
                   page: int = ITEMS_PAGE) -> Iterator[StoredItem]:
        """The items of :meth:`items`, read ``page`` at a time: memory for one
        page, not for the whole datastore."""
        sql = self._sql.page_all if include_deleted else self._sql.page_live
        last = 0
        while True:
            rows = self._all(sql, (user, datastore, last, page), user)
            for row in rows:
                yield item_of(row)
            if len(rows) < page:
                return
            last = int(rows[-1][7])

    def item_parents(self, user: str, datastore: str) -> dict[str, str]:
        """GUID -> parent GUID (``""``: the root) of the datastore's live
        items, without their data (what hierarchical sync walks, issue 14)."""
        return {r[0]: r[1] or "" for r in self._all(self._sql.item_parents, (user, datastore), user)}

    def content_revs(self, user: str, datastore: str) -> dict[str, int]:
        """GUID -> the revision whose change last changed the content of each
        of the datastore's live items (0: none since it was added; a pure move
        keeps it): a device holding that revision or a later one needs a
        Move, not the whole item (issue 14)."""
        return {r[0]: int(r[1]) for r in self._all(self._sql.content_revs, (user, datastore), user)}

    def _descendants(self, user: str, datastore: str, guid: str) -> list[str]:
        """The live items ``guid`` contains, at any depth, parents before their
        children (inside the caller's transaction; a loop the data might hold
        is walked once)."""
        found: list[str] = []
        seen = {guid}
        level = [guid]
        while level:
            nxt = []
            for parent in level:
                for row in self._exec(self._sql.children, (user, datastore, parent)):
                    if row[0] not in seen:
                        seen.add(row[0])
                        nxt.append(row[0])
            found += nxt
            level = nxt
        return found

    # -- anchors and maps ----------------------------------------------------
    def anchors(self, device: Device, datastore: str) -> Anchors:
        row = self._one(self._sql.anchors, (device.id, datastore))
        return Anchors() if row is None else Anchors(row[0], row[1])

    def set_anchors(self, device: Device, datastore: str, client_last: str, server_last: str) -> None:
        with self.transaction():
            self._exec(self._sql.set_anchors, (device.id, datastore, client_last, server_last))

    def clear_anchors(self, device: Device, datastore: str) -> None:
        """Forget the anchors: the device's next sync of ``datastore`` is slow."""
        with self.transaction():
            self._exec(self._sql.clear_anchors, (device.id, datastore))

    def map_entries(self, device: Device, datastore: str) -> list[MapEntry]:
        return [MapEntry(r[0], r[1], int(r[2])) for r in self._all(self._sql.map_entries, (device.id, datastore))]

    def set_map(self, device: Device, datastore: str, luid: str | None, guid: str, known_rev: int) -> None:
        """Map ``guid`` for the device; a LUID mapped to another GUID before is
        unmapped there (a LUID names one item)."""
        with self.transaction():
            if luid is not None:
                self._exec(self._sql.unmap_luid, (device.id, datastore, luid, guid))
            self._exec(self._sql.set_map, (device.id, datastore, guid, luid, known_rev))

    def unmap(self, device: Device, datastore: str, guid: str) -> None:
        with self.transaction():
            self._exec(self._sql.unmap, (device.id, datastore, guid))

    def forget_map(self, device: Device, datastore: str) -> None:
        """Forget the device's map of ``datastore``, and its soft deletes there."""
        with self.transaction():
            self._exec(self._sql.forget_map, (device.id, datastore))
            self._exec(self._sql.forget_soft_deleted, (device.id, datastore))

    # -- soft deletes (schema 13, issue 15) -------------------------------------
    def soft_deleted(self, device: Device, datastore: str) -> dict[str, int]:
        """GUID -> revision of the items the device dropped with ``SftDel``."""
        return {str(r[0]): int(r[1]) for r in self._all(self._sql.soft_deleted, (device.id, datastore))}

    def set_soft_deleted(self, device: Device, datastore: str, guid: str, rev: int | None) -> None:
        """Record that the device dropped revision ``rev`` of ``guid`` (None: it holds it again, or it went)."""
        with self.transaction():
            if rev is None:
                self._exec(self._sql.clear_soft_deleted, (device.id, datastore, guid))
            else:
                self._exec(self._sql.set_soft_deleted, (device.id, datastore, guid, rev))

    # -- formats per device --------------------------------------------------
    def device_format(self, device: Device, datastore: str) -> DeviceFormat | None:
        """What the device sends (and accepts) for ``datastore``; None until it sent an item."""
        row = self._one(self._sql.device_format, (device.id, datastore))
        return None if row is None else DeviceFormat(row[0], row[1], row[2], row[3], row[4])

    def set_device_format(self, device: Device, datastore: str, fmt: DeviceFormat) -> None:
        with self.transaction():
            self._exec(self._sql.set_device_format, (device.id, datastore, fmt.content_type, fmt.declared,
                                                     fmt.version, fmt.encoding, fmt.accepts))

    # -- server-alerted sync ---------------------------------------------------
    def set_push_target(self, device: Device, target: PushTarget) -> None:
        """Register (or register again) the device's datastore for server-alerted sync."""
        with self.transaction():
            self._exec(self._sql.set_push_target, (device.id, target.datastore, target.server_id,
                                                   target.server_uri, target.registered))

    def push_targets(self, device: Device) -> list[PushTarget]:
        """The device's datastores registered for server-alerted sync, by name."""
        return [PushTarget(r[0], r[1], r[2], float(r[3])) for r in self._all(self._sql.push_targets, (device.id,))]

    # -- pending modes (schema 7) ---------------------------------------------
    def pending_mode(self, device: Device, datastore: str) -> int | None:
        """The sync mode the device's next sync of ``datastore`` must be (None: the usual)."""
        row = self._one(self._sql.pending_mode, (device.id, datastore))
        return None if row is None else int(row[0])

    def set_pending_mode(self, device: Device, datastore: str, mode: int | None, since: float = 0.0) -> None:
        """Make the device's next sync of ``datastore`` one in ``mode`` (None: clear it)."""
        with self.transaction():
            if mode is None:
                self._exec(self._sql.clear_pending_mode, (device.id, datastore))
            else:
                self._exec(self._sql.set_pending_mode, (device.id, datastore, mode, since))

    # -- filters per device (schema 9) ----------------------------------------
    def device_filter(self, device: Device, datastore: str) -> bytes | None:
        """The ``<Filter>`` (XML) whose window the device holds of ``datastore`` (None: unfiltered)."""
        row = self._one(self._sql.device_filter, (device.id, datastore))
        return None if row is None else bytes(row[0])

    def set_device_filter(self, device: Device, datastore: str, data: bytes | None) -> None:
        """Keep ``data`` as the device's filter of ``datastore`` (None: forget it, unfiltered)."""
        with self.transaction():
            if data is None:
                self._exec(self._sql.clear_device_filter, (device.id, datastore))
            else:
                self._exec(self._sql.set_device_filter, (device.id, datastore, data))

    # -- suspend and resume (schema 16) -----------------------------------------
    def resume_point(self, device: Device, datastore: str) -> ResumePoint | None:
        """The device's resumable session of ``datastore`` (None: nothing to resume)."""
        row = self._one(self._sql.resume_point, (device.id, datastore))
        if row is None:
            return None
        return ResumePoint(str(row[0]), int(row[1]), str(row[2]), str(row[3]), bool(row[4]))

    def set_resume_point(self, device: Device, datastore: str, point: ResumePoint | None, *,
                         keep_acks: bool = False) -> None:
        """Keep ``point`` as the resumable session of ``datastore`` (None: none);
        the acknowledgements go with the old one unless ``keep_acks``."""
        with self.transaction():
            if not keep_acks:
                self._exec(self._sql.clear_resume_acks, (device.id, datastore))
            if point is None:
                self._exec(self._sql.clear_resume_point, (device.id, datastore))
            else:
                self._exec(self._sql.set_resume_point, (device.id, datastore, point.session_id, point.mode,
                                                        point.client_next, point.server_next,
                                                        bool(point.suspended)))

    def set_resume_ack(self, device: Device, datastore: str, guid: str, rev: int) -> None:
        """The device acknowledged the change of ``guid`` the server sent (its
        revision ``rev``; -1: a Delete) in the resumable session."""
        with self.transaction():
            self._exec(self._sql.set_resume_ack, (device.id, datastore, guid, rev))

    def resume_acks(self, device: Device, datastore: str) -> dict[str, int]:
        """The changes the device acknowledged in the resumable session: GUID -> revision (-1: a Delete)."""
        return {str(r[0]): int(r[1]) for r in self._all(self._sql.resume_acks, (device.id, datastore))}

    # -- live sessions -------------------------------------------------------
    def save_live_session(self, session: LiveSession) -> None:
        """Insert the row, or replace the one of that ``session_id``."""
        with self.transaction():
            self._exec(self._sql.save_live_session, (session.session_id, session.user, session.device_id,
                                                     session.last_seen, session.done, session.state))

    def live_sessions(self, user: str | None = None, device_id: str | None = None) -> list[LiveSession]:
        """The live sessions (of ``user``, of its ``device_id``), oldest
        ``last_seen`` first, without their state."""
        q = self._sql
        conditions = [(sql, value) for sql, value in ((q.where_user, user), (q.where_device_id, device_id))
                      if value is not None]
        where = " WHERE " + " AND ".join(sql for sql, _ in conditions) if conditions else ""
        return [LiveSession(r[0], r[1], r[2], float(r[3]), bool(r[4])) for r in self._all(
            q.live_sessions + where + q.live_sessions_order, [v for _, v in conditions])]

    def count_live_sessions(self) -> int:
        """How many live sessions there are (finished ones kept for a resent message too)."""
        row = self._one(self._sql.count_live_sessions)
        return int(row[0]) if row is not None else 0

    # -- large objects of live sessions (schema 12) -----------------------------
    # A large object crossing in MoreData chunks is kept here, one row per
    # piece, instead of in the session's state, which is written with every
    # message (that made a 5 MB object cost O(size**2) bytes written).
    def put_chunk(self, session_id: str, obj: str, seq: int, data: bytes) -> None:
        """Keep piece ``seq`` of the object ``obj`` of the live session ``session_id``."""
        with self.transaction():
            self._exec(self._sql.put_chunk, (session_id, obj, seq, data))

    def chunk_data(self, session_id: str, obj: str) -> bytes:
        """The pieces of ``obj`` kept so far, joined in order (``b""``: none)."""
        return b"".join(bytes(r[0]) for r in self._all(self._sql.chunk_data, (session_id, obj)))

    def drop_chunks(self, session_id: str, obj: str | None = None) -> None:
        """Forget the pieces of ``obj`` (None: of all the session's objects)."""
        with self.transaction():
            if obj is None:
                self._exec(self._sql.drop_session_chunks, (session_id,))
            else:
                self._exec(self._sql.drop_chunks, (session_id, obj))

    def nonce_used(self, nonce: str, now: float) -> bool:
        """Whether :meth:`use_nonce` recorded ``nonce`` and it has not expired by ``now`` (writes nothing)."""
        return self._one(self._sql.nonce_used, (nonce, now)) is not None

    # -- operator views (syncml device|session|conflict) ----------------------
    # The conflict and session logs of one account or of all, and what the
    # store keeps per device.  Read-only but for reset_device.

    def log_conflict(self, device: Device, datastore: str, guid: str, losing_data: bytes, content_type: str,
                     reason: str, at: float = 0.0, *, other_data: bytes = b"", other_type: str = "") -> None:
        """Log a conflict: ``losing_data`` (the version that lost; the device's when both were
        kept or merged) and ``other_data`` (the winner's; the server's when both were kept or
        merged; schema 13)."""
        with self.transaction():
            self._exec(self._sql.log_conflict, (device.id, datastore, guid, losing_data, content_type, reason, at,
                                                other_data, other_type))

    # -- item revisions (schema 13) --------------------------------------------
    def keep_revision(self, user: str, datastore: str, guid: str, rev: int, data: bytes, content_type: str) -> None:
        """Keep revision ``rev`` of an item that is being replaced (the base a
        ``merge`` conflict is resolved against), and only the last
        :data:`~.base.KEPT_REVISIONS` of that item."""
        with self.transaction():
            self._exec(self._sql.keep_revision, (user, datastore, guid, rev, data, content_type))
            self._exec(self._sql.prune_revisions, (user, datastore, guid, user, datastore, guid, KEPT_REVISIONS))

    def item_revision(self, user: str, datastore: str, guid: str, rev: int) -> tuple[bytes, str] | None:
        """``(data, content type)`` of revision ``rev`` of an item, when it is still kept."""
        row = self._one(self._sql.item_revision, (user, datastore, guid, rev))
        return None if row is None else (bytes(row[0]), row[1])

    def conflicts(self, user: str | None = None) -> list[Conflict]:
        """The conflicts logged (of ``user``; None: everyone's), in the order they happened."""
        rows = self._all(self._sql.conflicts_all) if user is None else self._all(self._sql.conflicts_of, (user,))
        return [conflict_of(r) for r in rows]

    def conflict(self, conflict_id: int) -> Conflict | None:
        """One conflict by its :attr:`~.base.Conflict.id`; None if there is none."""
        row = self._one(self._sql.conflict, (conflict_id,))
        return None if row is None else conflict_of(row)

    def log_session(self, device: Device, session_id: str, started: float, ended: float, outcome: str,
                    detail: str = "") -> None:
        """Record a finished (or failed) session: ``outcome`` "ok" or what went wrong."""
        with self.transaction():
            self._exec(self._sql.log_session, (device.id, session_id, started, ended, outcome, detail))

    def sessions(self, user: str | None = None, last: int | None = None) -> list[SessionRecord]:
        """The finished sessions (of ``user``; None: everyone's), oldest first;
        ``last``: only the ``last`` newest of them."""
        q = self._sql
        where, args = ("", ()) if user is None else (q.sessions_of, (user,))
        limit = "" if last is None else f" LIMIT {max(0, int(last))}"
        rows = self._all(q.sessions_select + where + q.sessions_newest + limit + q.sessions_order, args)
        return [SessionRecord(r[0], r[1], float(r[2]), float(r[3]), r[4], r[5], r[6]) for r in rows]

    def devices(self, user: str | None = None) -> list[Device]:
        """Every device (of ``user``), by user and device id."""
        rows = self._all(self._sql.devices_all) if user is None else self._all(self._sql.devices_of, (user,))
        return [device_of(r) for r in rows]

    def device_state(self, device: Device) -> list[DatastoreState]:
        """Per datastore the device has anchors, a map or a format for (by
        name): its anchors, map rows with a LUID (``mapped``) and without
        one (``pending``), and its format."""
        with self._reading():
            anchors = {r[0]: Anchors(r[1], r[2]) for r in self._all(self._sql.state_anchors, (device.id,))}
            counts = {r[0]: (int(r[1]), int(r[2])) for r in self._all(self._sql.state_maps, (device.id,))}
            formats = {r[0]: DeviceFormat(r[1], r[2], r[3], r[4], r[5])
                       for r in self._all(self._sql.state_formats, (device.id,))}
        return [DatastoreState(name, anchors.get(name, Anchors()), *counts.get(name, (0, 0)), formats.get(name))
                for name in sorted({*anchors, *counts, *formats})]


def item_of(row: Sequence[Any]) -> StoredItem:
    return StoredItem(row[0], bytes(row[1]), row[2], int(row[3]), bool(row[4]), float(row[5]),
                      row[6] or "" if len(row) > 6 else "")


def device_of(row: Sequence[Any]) -> Device:
    return Device(int(row[0]), row[1], row[2], None if row[3] is None else bytes(row[3]),
                  None if row[4] is None else bytes(row[4]))


def conflict_of(row: Sequence[Any]) -> Conflict:
    return Conflict(row[0], row[1], row[2], bytes(row[3]), row[4], row[5], float(row[6]), int(row[7]), row[8],
                    bytes(row[9] or b""), row[10] or "")

