"""The server's sessions and their limits, kept in the store.

A session exists only after a successful authentication and belongs to
(account, device id); its id is 128 random bits from the injected random
source, the only way a later message finds it.  Between two messages a
session is a row of the store (:class:`~syncml_codec.store.base.LiveSession`:
owner, last message time, whether it is over, and its state as bytes,
:mod:`._persist`), read and written inside the message's transaction, so
that any worker process of any host serves any message of it.

Limits, from :class:`~._limits.ServerLimits`, counted over the store's rows
(so over every worker): ``sessions_per_device`` and ``sessions_per_account``
(a new session evicts the oldest of the *same* device, then of the same
account: finished ones first), ``max_sessions`` in all (full of running
sessions: a new one is refused with 503, nobody else's is evicted),
``session_timeout`` idle seconds: a session's row is checked when it is
loaded (:meth:`SessionTable.expired`) and all idle rows are dropped when
a session is admitted (:meth:`SessionTable.expire`), not with every
message.  Finished sessions stay (and count) until then, for a resent last
message.  All of it runs inside the message's
transaction, so two workers starting sessions at once do not both take the
last place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ..store.base import LiveSession, Store
from ._limits import ServerLimits

__all__ = ["SESSION_ID_BYTES", "SessionTable"]

SESSION_ID_BYTES = 16  # 128 bits


class SessionTable:
    """The limits over the store's live sessions (call inside a transaction)."""

    def __init__(self, store: Store, limits: ServerLimits, random_source: Callable[[int], bytes]) -> None:
        self.store = store
        self.limits = limits
        self.random_source = random_source

    def __len__(self) -> int:
        return self.store.count_live_sessions()

    def new_id(self) -> str:
        """A fresh session id: 128 random bits, in hex."""
        for _ in range(100):
            sid = self.random_source(SESSION_ID_BYTES).hex()
            if len(sid) >= 2 * SESSION_ID_BYTES and self.store.load_live_session(sid) is None:
                return sid
        raise RuntimeError("the random source keeps repeating itself: no fresh session id")

    def expire(self, now: float) -> list[str]:
        """Drop the sessions idle longer than the timeout; their ids."""
        return self.store.expire_live_sessions(now - self.limits.session_timeout)

    def expired(self, row: LiveSession, now: float) -> bool:
        """Whether ``row`` is idle longer than the timeout (one that
        :meth:`expire` at ``now`` drops)."""
        return row.last_seen < now - self.limits.session_timeout

    def has_room(self) -> bool:
        """Whether a new session fits; finished sessions make room first
        (the sessions are counted, and listed only when the server is full)."""
        if self.store.count_live_sessions() < self.limits.max_sessions:
            return True
        rows = self.store.live_sessions()
        if len(rows) < self.limits.max_sessions:
            return True
        gone = self._evict(rows, len(rows) - self.limits.max_sessions + 1, done_only=True)
        return len(rows) - len(gone) < self.limits.max_sessions

    def make_room(self, user: str, device_id: str) -> list[LiveSession]:
        """Evict the oldest sessions of the device, then of the account,
        beyond their limits, so that a new session of theirs fits; the
        evicted sessions (the account's sessions are read once)."""
        rows = self.store.live_sessions(user)
        device = [s for s in rows if s.device_id == device_id]
        evicted = self._evict(device, len(device) - self.limits.sessions_per_device + 1)
        gone = {s.session_id for s in evicted}
        account = [s for s in rows if s.session_id not in gone]
        evicted += self._evict(account, len(account) - self.limits.sessions_per_account + 1)
        return evicted

    def _evict(self, sessions: Iterable[LiveSession], count: int, done_only: bool = False) -> list[LiveSession]:
        if count <= 0:
            return []
        order = sorted(sessions, key=lambda s: (not s.done, s.last_seen))
        if done_only:
            order = [s for s in order if s.done]
        gone = order[:count]
        if gone:
            self.store.drop_live_sessions(s.session_id for s in gone)
        return gone
