"""The server's table of sessions and its limits.

A session exists only after a successful authentication and belongs to
(account, device id); its id is 128 random bits from the injected random
source, the only way a later message finds it.  Limits, from
:class:`~._limits.ServerLimits`: ``sessions_per_device`` and
``sessions_per_account`` (a new session evicts the oldest of the *same*
device, then of the same account: finished ones first), ``max_sessions`` in
all (full of running sessions: a new one is refused with 503, nobody else's
is evicted), ``session_timeout`` idle seconds.  Finished sessions stay (and
count) until then, for a resent last message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from ._limits import ServerLimits
from ._state import ServerPhase

if TYPE_CHECKING:
    from ._session import ServerSession

__all__ = ["SESSION_ID_BYTES", "SessionTable"]

SESSION_ID_BYTES = 16  # 128 bits


class SessionTable:
    """Open sessions (and finished ones kept for a resent last message) by id."""

    def __init__(self, limits: ServerLimits, random_source: Callable[[int], bytes]) -> None:
        self.limits = limits
        self.random_source = random_source
        self.by_id: dict[str, ServerSession] = {}

    def __len__(self) -> int:
        return len(self.by_id)

    def get(self, sid: str) -> ServerSession | None:
        return self.by_id.get(sid)

    def new_id(self) -> str:
        """A fresh session id: 128 random bits, in hex."""
        for _ in range(100):
            sid = self.random_source(SESSION_ID_BYTES).hex()
            if len(sid) >= 2 * SESSION_ID_BYTES and sid not in self.by_id:
                return sid
        raise RuntimeError("the random source keeps repeating itself: no fresh session id")

    def expire(self, now: float) -> None:
        for sid in [sid for sid, s in self.by_id.items() if now - s.last_seen > self.limits.session_timeout]:
            del self.by_id[sid]

    def has_room(self) -> bool:
        """Whether a new session fits; finished sessions make room first."""
        if len(self.by_id) < self.limits.max_sessions:
            return True
        self._evict(self.by_id.values(), len(self.by_id) - self.limits.max_sessions + 1, done_only=True)
        return len(self.by_id) < self.limits.max_sessions

    def add(self, session: ServerSession) -> list[ServerSession]:
        """Add ``session``, evicting the oldest of its own device and then of
        its own account beyond their limits; the evicted sessions."""
        device = [s for s in self.by_id.values() if (s.user, s.device_id) == (session.user, session.device_id)]
        evicted = self._evict(device, len(device) - self.limits.sessions_per_device + 1)
        account = [s for s in self.by_id.values() if s.user == session.user]
        evicted += self._evict(account, len(account) - self.limits.sessions_per_account + 1)
        self.by_id[session.id] = session
        return evicted

    def _evict(self, sessions: Iterable[ServerSession], count: int, done_only: bool = False) -> list[ServerSession]:
        if count <= 0:
            return []
        order = sorted(sessions, key=lambda s: (s.phase is not ServerPhase.DONE, s.last_seen))
        if done_only:
            order = [s for s in order if s.phase is ServerPhase.DONE]
        gone = order[:count]
        for s in gone:
            self.by_id.pop(s.id, None)
        return gone
