"""Pooled IMAP connections for a server (issue 14): the engine opens a store
view per SyncML message and asks it for the account's back end, so a
factory that logged in for every view would cost a TCP connection, a login
and a LIST per message, and would leak them (the engine has no close hook).

:class:`ImapPool` is that factory instead.  ``pool(account)`` returns a
light handle (:class:`PooledImap`, a :class:`~.base.MailBackend`) that holds
no connection: each operation borrows a logged-in :class:`~.imap.ImapBackend`
of the account for its duration and gives it back, so one connection serves
the messages of a worker one after the other and two threads never share
one.  Bounds and clean-up:

* at most ``size`` connections per account (in use or idle), at most
  ``max_total`` over all accounts (the oldest idle one of any account is
  logged out to make room); an operation that finds none free waits up to
  ``wait`` seconds, then fails as :class:`~syncml_codec.errors.MailUnavailableError`;
* an idle connection is logged out after ``idle`` seconds (checked whenever
  the pool is used) and one idle for more than ``check_after`` seconds gets
  a NOOP before it is lent again (a server may have dropped it);
* a connection that broke during an operation (``MailUnavailableError``) is
  closed, never lent again;
* when an account's server cannot be reached or refuses the login, the pool
  does not try again for ``retry_after`` seconds: the Alerts of a session
  answer 503 at once instead of each waiting for a timeout.

The account's settings are read when a handle is made (once per view, so
once per SyncML message): changed settings take effect at the next
message; the old connections idle out.  ``settings(account)`` returns the
``imap[s]://`` URL with the password (``Store.mail_imap``: sealed in the
database) or None, in which case ``fallback(account)`` (e.g. a
:class:`~.maildir.MaildirRoot`) serves it, or the account has no mail
(:class:`~syncml_codec.errors.MailNotConfiguredError`).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from ..errors import MailError, MailNotConfiguredError, MailUnavailableError
from .base import Changes, Limits, MailBackend, MailFolder, MessageInfo, Snapshot
from .imap import ImapBackend
from .maildir import MaildirRoot

__all__ = ["ImapPool", "PooledImap", "server_mail"]

_T = TypeVar("_T")
_Key = tuple[str, str]  # (account, URL)


@dataclass
class _Slot:
    idle: list[tuple[ImapBackend, float]] = field(default_factory=list)  # (connection, idle since), oldest first
    busy: int = 0
    down_until: float = 0.0
    down_reason: str = ""


def _quietly_close(backend: ImapBackend) -> None:
    with contextlib.suppress(MailError, OSError):
        backend.close()


class ImapPool:
    """Per-account pools of logged-in IMAP connections, and the
    ``account -> MailBackend`` factory of :class:`~syncml_codec.engine.SyncServer`'s
    ``mail=`` (see the module doc for the bounds).

    ``connect(url)`` makes a connection (default: :meth:`ImapBackend.from_url`
    with ``limits``); ``clock``: seconds, monotonic (for the idle times).
    """

    def __init__(self, settings: Callable[[str], str | None], *, fallback: Callable[[str], MailBackend] | None = None,
                 limits: Limits | None = None, size: int = 4, max_total: int = 64, idle: float = 300.0,
                 check_after: float = 30.0, retry_after: float = 15.0, wait: float | None = None,
                 connect: Callable[[str], ImapBackend] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if size < 1 or max_total < 1:
            raise ValueError("a pool needs room for one connection")
        self.settings, self.fallback = settings, fallback
        self.limits = limits or Limits()
        self.size, self.max_total = size, max_total
        self.idle, self.check_after, self.retry_after = idle, check_after, retry_after
        self.wait = self.limits.timeout if wait is None else wait
        self._connect = connect or (lambda url: ImapBackend.from_url(url, limits=self.limits))
        self._clock = clock
        self._cond = threading.Condition()
        self._slots: dict[_Key, _Slot] = {}
        #: connections made, connections lent again, connections closed (for tests and logs)
        self.counts = {"connected": 0, "reused": 0, "closed": 0}

    def __repr__(self) -> str:
        return f"ImapPool(size={self.size}, max_total={self.max_total})"

    def __call__(self, account: str) -> MailBackend:
        """The account's back end: a :class:`PooledImap` on its IMAP settings,
        else the fallback's, else :class:`~syncml_codec.errors.MailNotConfiguredError`."""
        try:
            url = self.settings(account)
        except ValueError as exc:  # (a sealed value that does not open: the server secret changed)
            raise MailError(f"the IMAP settings of {account!r} cannot be read: {exc}") from None
        if url:
            return PooledImap(self, account, url)
        if self.fallback is not None:
            return self.fallback(account)
        raise MailNotConfiguredError(f"account {account!r} has no IMAP settings")

    # -- lending ---------------------------------------------------------------
    def _total(self) -> int:
        return sum(s.busy + len(s.idle) for s in self._slots.values())

    def _sweep(self, now: float) -> list[ImapBackend]:
        """Take out the connections idle too long (closed by the caller, outside the lock)."""
        stale: list[ImapBackend] = []
        for key, slot in list(self._slots.items()):
            keep = [(b, since) for b, since in slot.idle if now - since < self.idle]
            stale.extend(b for b, since in slot.idle if now - since >= self.idle)
            slot.idle = keep
            if not slot.idle and not slot.busy and slot.down_until <= now:
                del self._slots[key]
        return stale

    def _evict_one(self) -> ImapBackend | None:
        """The oldest idle connection of any account, taken out (to make room under ``max_total``)."""
        oldest: tuple[float, _Slot] | None = None
        for slot in self._slots.values():
            if slot.idle and (oldest is None or slot.idle[0][1] < oldest[0]):
                oldest = (slot.idle[0][1], slot)
        if oldest is None:
            return None
        return oldest[1].idle.pop(0)[0]

    def _take(self, key: _Key) -> tuple[ImapBackend | None, bool]:
        """Reserve a connection of ``key``: (an idle one or None for a new one, whether to check it)."""
        closing: list[ImapBackend] = []
        try:
            with self._cond:
                deadline: float | None = None
                while True:
                    now = self._clock()
                    closing.extend(self._sweep(now))
                    slot = self._slots.setdefault(key, _Slot())
                    if slot.down_until > now:
                        raise MailUnavailableError(f"{slot.down_reason} (not tried again for "
                                                   f"{slot.down_until - now:.0f} s)")
                    if slot.idle:
                        backend, since = slot.idle.pop()
                        slot.busy += 1
                        self.counts["reused"] += 1
                        return backend, now - since >= self.check_after
                    if slot.busy < self.size:
                        if self._total() >= self.max_total and (old := self._evict_one()) is not None:
                            closing.append(old)
                        if self._total() < self.max_total:
                            slot.busy += 1
                            return None, False
                    remaining = self.wait if deadline is None else deadline - time.monotonic()
                    if deadline is None:
                        deadline = time.monotonic() + self.wait
                    if remaining <= 0:
                        raise MailUnavailableError(f"all IMAP connections of {key[0]!r} are busy")
                    self._cond.wait(remaining)
        finally:
            for backend in closing:
                _quietly_close(backend)
                self.counts["closed"] += 1

    def _give_back(self, key: _Key, backend: ImapBackend | None) -> None:
        """End a loan: ``backend`` idle again, or None (it broke or was never made)."""
        with self._cond:
            slot = self._slots.setdefault(key, _Slot())
            slot.busy -= 1
            if backend is not None:
                slot.idle.append((backend, self._clock()))
            self._cond.notify()

    def _down(self, key: _Key, reason: str) -> None:
        with self._cond:
            slot = self._slots.setdefault(key, _Slot())
            slot.down_until, slot.down_reason = self._clock() + self.retry_after, reason

    @contextlib.contextmanager
    def lend(self, account: str, url: str) -> Iterator[ImapBackend]:
        """A logged-in connection of ``account`` on ``url`` for the ``with`` block."""
        key = (account, url)
        backend, check = self._take(key)
        try:
            if backend is not None and check:
                try:
                    backend.noop()
                except MailError:  # dropped while idle: a new one
                    _quietly_close(backend)
                    self.counts["closed"] += 1
                    backend = None
            if backend is None:
                try:
                    backend = self._connect(url)
                except MailUnavailableError as exc:
                    self._down(key, str(exc))
                    raise
                self.counts["connected"] += 1
        except BaseException:
            self._give_back(key, None)
            raise
        try:
            yield backend
        except MailUnavailableError:  # broken: never lent again
            _quietly_close(backend)
            self.counts["closed"] += 1
            self._give_back(key, None)
            raise
        except BaseException:
            self._give_back(key, backend)
            raise
        self._give_back(key, backend)

    def open_connections(self, account: str | None = None) -> int:
        """Connections open now (of ``account``, or of all)."""
        with self._cond:
            return sum(s.busy + len(s.idle) for (a, _), s in self._slots.items() if account in (None, a))

    def close(self) -> None:
        """Log out every idle connection (those lent out close when they come back broken or idle out)."""
        with self._cond:
            idle = [b for slot in self._slots.values() for b, _ in slot.idle]
            for slot in self._slots.values():
                slot.idle = []
        for backend in idle:
            _quietly_close(backend)
            self.counts["closed"] += 1


class PooledImap:
    """One account's :class:`~.base.MailBackend` from an :class:`ImapPool`:
    every operation runs on a connection borrowed for it."""

    def __init__(self, pool: ImapPool, account: str, url: str) -> None:
        self._pool, self._account, self._url = pool, account, url
        self.limits = pool.limits
        self._delimiter: str | None = None

    def __repr__(self) -> str:
        return f"PooledImap({self._account!r})"

    def _run(self, fn: Callable[[ImapBackend], _T]) -> _T:
        with self._pool.lend(self._account, self._url) as backend:
            return fn(backend)

    @property
    def delimiter(self) -> str:
        """The server's hierarchy delimiter."""
        if self._delimiter is None:
            self._delimiter = self._run(lambda b: b.delimiter)
        return self._delimiter

    @delimiter.setter
    def delimiter(self, value: str) -> None:
        self._delimiter = value

    def folders(self) -> list[MailFolder]:
        """See :meth:`.MailBackend.folders`."""
        return self._run(lambda b: b.folders())

    def create_folder(self, name: str) -> None:
        """See :meth:`.MailBackend.create_folder`."""
        self._run(lambda b: b.create_folder(name))

    def rename_folder(self, name: str, new_name: str) -> None:
        """See :meth:`.MailBackend.rename_folder`."""
        self._run(lambda b: b.rename_folder(name, new_name))

    def move_folder(self, name: str, new_parent: str | None) -> str:
        """See :meth:`.MailBackend.move_folder`."""
        return self._run(lambda b: b.move_folder(name, new_parent))

    def delete_folder(self, name: str) -> None:
        """See :meth:`.MailBackend.delete_folder`."""
        self._run(lambda b: b.delete_folder(name))

    def messages(self, folder: str) -> list[MessageInfo]:
        """See :meth:`.MailBackend.messages`."""
        return self._run(lambda b: b.messages(folder))

    def fetch(self, folder: str, uid: str, *, headers_only: bool = False) -> bytes:
        """See :meth:`.MailBackend.fetch`."""
        return self._run(lambda b: b.fetch(folder, uid, headers_only=headers_only))

    def add(self, folder: str, data: bytes, flags: Iterable[str] = (), date: datetime | None = None) -> str:
        """See :meth:`.MailBackend.add`."""
        return self._run(lambda b: b.add(folder, data, flags, date))

    def set_flags(self, folder: str, uid: str, flags: Iterable[str]) -> None:
        """See :meth:`.MailBackend.set_flags`."""
        self._run(lambda b: b.set_flags(folder, uid, flags))

    def move(self, folder: str, uid: str, target: str) -> str:
        """See :meth:`.MailBackend.move`."""
        return self._run(lambda b: b.move(folder, uid, target))

    def delete(self, folder: str, uid: str) -> None:
        """See :meth:`.MailBackend.delete`."""
        self._run(lambda b: b.delete(folder, uid))

    def snapshot(self, previous: Snapshot | None = None) -> Snapshot:
        """See :meth:`.MailBackend.snapshot`."""
        return self._run(lambda b: b.snapshot(previous))

    def changes(self, since: Snapshot) -> Changes:
        """See :meth:`.MailBackend.changes`."""
        return self._run(lambda b: b.changes(since))

    def close(self) -> None:
        """Nothing to do: the connections belong to the pool."""


def server_mail(settings: Callable[[str], str | None], maildir_root: str | None, *,
                imap: bool) -> Callable[[str], MailBackend] | None:
    """The accounts' mail back ends of ``syncml serve --maildir-root DIR
    [--imap]`` (None: no Mail datastores): with ``imap`` an :class:`ImapPool`
    on the accounts' IMAP settings (``settings``: ``Store.mail_imap``), the
    Maildirs under ``maildir_root`` (if given) for accounts without; else those Maildirs."""
    maildirs = MaildirRoot(maildir_root) if maildir_root else None
    return ImapPool(settings, fallback=maildirs) if imap else maildirs
