"""The server's limits, in one frozen dataclass: what one client (an
account, a device, an address) may cost the server, and how hard guessing
passwords is made.  Every default is chosen for a small server with real
devices behind it; each field says why."""

from __future__ import annotations

from dataclasses import dataclass, fields

__all__ = ["ServerLimits"]


@dataclass(frozen=True, slots=True)
class ServerLimits:
    """``SyncServer(store, limits=ServerLimits(max_obj_size=...))``.

    >>> ServerLimits().max_obj_size, ServerLimits(lockout=5).max_lockout
    (4194304, 900.0)
    >>> ServerLimits(max_sessions=0)
    Traceback (most recent call last):
    ...
    ValueError: ServerLimits.max_sessions must be positive, got 0
    """

    #: bytes; the largest item the server takes, whole or reassembled from MoreData chunks
    #: (413 beyond), announced as MaxObjSize in the SyncHdr Meta of every answer.  4 MiB:
    #: SyncEvolution and most phones announce 4,000,000 themselves; a contact photo fits.
    max_obj_size: int = 4 * 1024 * 1024
    #: bytes; the largest message the server takes, announced as MaxMsgSize in the SyncHdr Meta
    #: of every answer (a client splits its larger items into MoreData chunks to fit it).
    #: 1,000,000: a phone's whole package 3 of contacts goes in one or two messages
    max_msg_size: int = 1_000_000
    #: bytes; all incomplete MoreData objects of one session together (a client sends one large
    #: object at a time, so twice max_obj_size leaves room and bounds memory per session)
    max_pending_size: int = 8 * 1024 * 1024
    #: open sessions per (account, device); a new one evicts that device's oldest (a device
    #: syncs one session at a time: an older one was abandoned)
    sessions_per_device: int = 2
    #: open sessions per account; a new one evicts the account's oldest, never another account's
    sessions_per_account: int = 10
    #: open sessions in all; when every one is in use a new session is answered 503 (busy)
    #: instead of evicting someone else's running session
    max_sessions: int = 1000
    #: seconds a session may stay idle before it is dropped (a slow client on a slow link
    #: answers within minutes; 15 minutes is generous)
    session_timeout: float = 900.0
    #: wrong credentials for one account before it is locked out (a user mistyping on a phone
    #: gets a few tries; the lock is temporary)
    auth_failures: int = 5
    #: wrong credentials from one client address (any accounts) before the address is locked
    #: out: higher than auth_failures, since many users can share one address (NAT)
    address_failures: int = 20
    #: seconds of the first lockout; it doubles with every further failure after it
    lockout: float = 30.0
    #: seconds a lockout is capped at (so a legitimate user is never locked out for longer);
    #: failure counts are also forgotten this long after the last failure and its lockout
    max_lockout: float = 900.0
    #: seconds a challenge nonce sent to a client that did not authenticate stays valid: the
    #: client keeps it for its next attempt, which may come after a lockout or at its next
    #: scheduled sync; one hour (up to a quarter more: nonces are made per quarter of it).
    #: Each is single use, and none is kept: any worker checks it (issue 12)
    challenge_ttl: float = 3600.0
    #: entries kept in each in-memory table (failure counters per address, per worker
    #: process): bounds memory when an attacker rotates addresses or names; the oldest
    #: entries go first
    max_tracked: int = 10_000

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not value > 0:
                raise ValueError(f"ServerLimits.{f.name} must be positive, got {value}")
        if self.max_lockout < self.lockout:
            object.__setattr__(self, "max_lockout", float(self.lockout))
