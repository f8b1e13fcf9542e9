"""The gatekeeper: who may start a session.  Credentials, nonces, lockouts.

Why it looks like this (issue 9):

* **Nothing is written for a request that does not authenticate.**  The
  store is only read (:meth:`Store.account`, :meth:`Store.find_device`);
  the device row is created and its nonce rotated only after a credential
  was accepted.  So a stranger naming a real device id cannot reset that
  device's nonce, and nobody can fill the database with device rows.
* **Nonces.**  A device's nonce in the store is the ``NextNonce`` sent in
  its last *accepted* authentication: the one its next session's MD5
  credential is computed over.  Accepting a credential replaces it (so the
  credential cannot be replayed).  A requester that is not authenticated
  gets a challenge nonce that is not kept anywhere (:class:`_Challenges`):
  it is derived (HMAC) from a key the store makes once per database, the
  user, the device id, the time slot, the device's stored nonce and a
  generation (the first one not used yet in the slot), so any
  worker process checks a challenge another one sent (issue 12), nothing is
  written for it (writing would let anyone write to the database), and the
  real device's nonce stays intact.  Every accepted nonce is recorded until
  it expires (:meth:`Store.use_nonce`, in the accepting transaction), so no
  nonce is accepted twice, even by two workers at once.  An empty nonce is
  never valid: a first MD5 message computed over it (what a client without
  a nonce sends) is answered with a challenge and not counted as a failure.
* **Brute force.**  Failures are counted per existing account and per
  client address (:class:`_Failures`).  ``auth_failures`` failures lock an
  account for ``lockout`` seconds, doubling with each further failure up to
  ``max_lockout``; ``address_failures`` do the same to an address.  While
  locked, credentials are not even checked (no password oracle, no CPU for
  scrypt) and the answer is 401; those requests do not count, so a lockout
  always ends.  A counter is forgotten ``max_lockout`` seconds after its
  last failure and lockout; a success resets the account's counter (not the address's:
  an attacker with an account of its own must not be able to clear it).
  Only real accounts get a counter (names an attacker makes up would
  otherwise push real ones out); the address table is bounded by
  ``max_tracked``, idle entries go first.  The clock is the server's.
  The counters are kept in the memory of each worker process: kept in the
  store, every unauthenticated request would write to it.  So with N
  workers an account (or address) is locked after at most N x
  ``auth_failures`` (``address_failures``) failures, and a lockout holds on
  the worker that counted it.
* **A disabled account** (``syncml user disable``) is refused exactly as
  a wrong password is: the same status (401) and challenge, the same
  failure counters, one WARNING line with ``reason=account-disabled`` (the
  client cannot tell it from a wrong password; the operator can).  Its
  right password is still checked first, so a wrong one is logged as
  ``wrong-credentials``.  Only the start of a session is checked: a session
  already running when the account is disabled runs to its end.
* A credential that was not compared with anything (MD5 for a basic-only
  account, MD5 without a user, an unknown type, unreadable data) is
  refused and logged but not counted: nothing is learnt from the answer.
  A client's normal first step (no credentials, or MD5 over the empty
  nonce with the right password) gets its challenge with an INFO line.
* Every failure is one WARNING line for fail2ban::

      auth failure: user="NAME" device="DEVICE" address=ADDR reason=REASON failures=N [locked=SECONDS]
      auth refused: user="NAME" device="DEVICE" address=ADDR reason=locked-out remaining=SECONDS

  user and device are quoted and escaped (:func:`._util.log_quoted`); the
  address is bare when it is plain, else quoted.
* **Where the credential is** (issue 10).  The SyncHdr's ``Cred``, else the
  first ``Cred`` inside a command (:func:`message_credential`): SyncML
  1.0/1.1 allow it in Alert, Add, Replace, Delete, Copy, Get, Put, Map,
  Exec, Search and Sync, and some phones send it only inside their Alert.
  The representation protocol says a credential given in the SyncHdr or a
  parent command covers what is inside it, and an insufficient one is a 401
  for the command it is in.  SyncML 1.2 keeps ``Cred`` in the same commands
  with the same meaning, so it is taken there too.  A command's credential
  is checked exactly like the header's (the same policy, nonces, counters
  and log lines); only a message without a header credential looks inside.
* **SyncML 1.0 gets basic challenges.**  A 1.0 MD5 digest is
  ``B64(H(user:password:nonce))``, which needs the plain password, and an
  MD5-capable account keeps only ``B64(H(user:password))``: a 1.0 device is
  challenged with basic (and gets no MD5 NextNonce when accepted), so it is
  never sent into an MD5 login this server cannot check.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import logging
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ..errors import SyncMLError
from ..model import Atomic, Chal, Command, Cred, Message, Meta, Sequence, StatusCode, Sync, SyncHdr, auth
from ..model.auth import AuthType
from ..store.base import Account, Device, Store
from ._limits import ServerLimits
from ._reply import syncml_version
from ._util import log_bare, log_quoted

__all__ = ["Gatekeeper", "Verdict", "claimed_user", "message_credential"]

log = logging.getLogger("syncml_codec.engine")

_MD5 = AuthType.MD5.value  # the Meta/Type texts, as model.auth spells them
_BASIC = AuthType.BASIC.value
_SLOTS = 4  # a challenge nonce is good in its time slot and this many after it (slot: challenge_ttl / _SLOTS)
_GENERATIONS = 16  # challenge nonces per (user, device id) and slot: one more for each accepted login
#: the normal first step of a login (a client without a nonce): an INFO line, not counted
_FIRST_STEP = frozenset({"no-credentials", "empty-nonce"})
#: refused before any password was compared (nothing to learn from the answer): WARNING, not counted
_NO_GUESS = frozenset({"md5-not-allowed", "md5-without-user", "unsupported-type", "unreadable-credential"})


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of :meth:`Gatekeeper.authenticate`: ``code`` 212 with the
    ``device`` (created if new) and, for MD5-capable accounts, a ``chal``
    carrying the rotated NextNonce; or 401/407 with the challenge to send."""

    code: int
    user: str | None  # the account, or the user the request claimed
    device_id: str
    chal: Chal | None
    device: Device | None = None
    reason: str = ""

    @property
    def accepted(self) -> bool:
        return self.code == StatusCode.AUTHENTICATION_ACCEPTED


def _used_key(device_id: str, nonce: bytes) -> str:
    """How an accepted nonce is recorded (:meth:`Store.use_nonce`): a digest
    of the device it was sent to and the nonce.  Not of the user: a challenge
    to a device that has not named its user must find it too (the nonce
    itself is derived from the user where it was known)."""
    text = f"{len(device_id)}:{device_id}".encode("utf-8", "surrogatepass") + nonce
    return hashlib.blake2b(text, digest_size=16).hexdigest()


def message_credential(msg: Message) -> tuple[Cred | None, Command | None]:
    """The credential a message authenticates with and the command that
    carries it: the SyncHdr's (command None), else the first one inside a
    command, containers (Sync, Atomic, Sequence) included; (None, None)
    when it has none."""
    if msg.header.cred is not None:
        return msg.header.cred, None
    todo = list(msg.commands)
    while todo:
        cmd = todo.pop(0)
        cred = getattr(cmd, "cred", None)
        if isinstance(cred, Cred) and cred.data is not None:
            return cred, cmd
        if isinstance(cmd, (Sync, Atomic, Sequence)):
            todo[:0] = cmd.commands
    return None, None


def claimed_user(header: SyncHdr, cred: Cred | None = None) -> str | None:
    """The user a message speaks for: a basic Cred's user when it carries
    one (unreadable: ""), else its ``Source/LocName``.  ``cred``: the
    credential found in a command (default: the SyncHdr's)."""
    cred = cred if cred is not None else header.cred
    if cred is not None and cred.data is not None and cred.type.lower() == _BASIC:
        try:
            return auth.parse_basic(cred.data.strip())[0]
        except (SyncMLError, ValueError):
            return ""
    return (header.source.loc_name or "").strip() or None


class _Challenges:
    """Challenge nonces that every worker process can check without any of
    them writing a thing: a nonce is derived, not kept.

    The client's MD5 digest does not name the nonce it was computed over, so
    a nonce cannot carry random bits the server would have to remember.  It
    is ``HMAC-SHA256(server secret, user, device id, time slot, the device's
    stored nonce)``, letters only (:func:`auth.make_nonce`): the secret is
    the store's (:meth:`Store.server_secret`, the same for every process),
    a slot is a quarter of ``challenge_ttl``, and a nonce is accepted in its
    own slot and the four after it (so for ``challenge_ttl`` to 1.25 x
    ``challenge_ttl`` seconds).  The device's stored nonce changes with
    every accepted login, so after one every challenge differs; each
    accepted nonce is also recorded (:meth:`Store.use_nonce`), so none is
    accepted twice, on any worker.  A challenge to a device that has not
    named its user (no LocName, no Cred) cannot include a device's nonce, nor
    can one to a device whose row is new (an account deleted and added
    again), so each nonce also has a *generation*: a challenge carries the
    first generation of its slot not yet recorded as used
    (:meth:`Store.nonce_used`, a read), so the next login of such a device in
    the same slot gets a fresh nonce, and nothing is written for it.  After
    :data:`_GENERATIONS` logins in one slot that device waits for the next
    slot (a quarter of ``challenge_ttl``)."""

    def __init__(self, store: Store, ttl: float) -> None:
        self.store = store
        self.step = ttl / _SLOTS

    def nonce(self, key: tuple[str, str], slot: int, device_nonce: bytes | None, generation: int = 0) -> bytes:
        user, device_id = key
        text = f"{len(user)}:{user}{len(device_id)}:{device_id}{slot}:{generation}:".encode("utf-8", "surrogatepass")
        mac = hmac.new(self.store.server_secret(), text + (device_nonce or b""), hashlib.sha256).digest()
        return auth.make_nonce(mac[:auth.NONCE_LENGTH])

    def issue(self, key: tuple[str, str], now: float, device_nonce: bytes | None) -> bytes:
        """The nonce to challenge ``key`` (user, device id) with now: the
        first generation of the slot that no login used yet."""
        slot = int(now // self.step)
        for generation in range(_GENERATIONS):
            nonce = self.nonce(key, slot, device_nonce, generation)
            if not self.store.nonce_used(_used_key(key[1], nonce), now):
                break
        return nonce

    def valid(self, key: tuple[str, str], now: float, device_nonce: bytes | None) -> Iterator[tuple[bytes, float]]:
        """The nonces of ``key`` valid now, newest first, each with the time
        it stops being valid; made as they are asked for (the first usually matches)."""
        slot = int(now // self.step)
        for s in range(slot, slot - _SLOTS - 1, -1):
            for g in range(_GENERATIONS):
                yield self.nonce(key, s, device_nonce, g), (s + _SLOTS + 1) * self.step


@dataclass(slots=True)
class _Count:
    failures: int = 0
    locked_until: float = 0.0
    last: float = 0.0


class _Failures:
    """Failure counters with growing temporary lockouts, at most ``limit``
    entries (idle ones dropped first, then the oldest)."""

    def __init__(self, limits: ServerLimits, threshold: int) -> None:
        self.limits = limits
        self.threshold = threshold
        self._table: OrderedDict[str, _Count] = OrderedDict()

    def __len__(self) -> int:
        return len(self._table)

    def remaining(self, key: str, now: float) -> float:
        """Seconds the key is still locked out (0: not locked)."""
        count = self._table.get(key)
        return max(0.0, count.locked_until - now) if count is not None else 0.0

    def fail(self, key: str, now: float) -> tuple[int, float]:
        """Count a failure: (failures so far, seconds of the lockout it starts or 0)."""
        count = self._table.pop(key, None)
        if count is None or self._idle(count, now):
            count = _Count()
        count.failures += 1
        count.last = now
        locked = 0.0
        if count.failures >= self.threshold:
            extra = min(count.failures - self.threshold, 30)
            locked = min(self.limits.lockout * 2**extra, self.limits.max_lockout)
            count.locked_until = now + locked
        self._table[key] = count
        self._prune(now)
        return count.failures, locked

    def _idle(self, count: _Count, now: float) -> bool:
        """Forgotten: no failure for max_lockout seconds after the last one and its lockout."""
        return now - max(count.last, count.locked_until) > self.limits.max_lockout

    def reset(self, key: str) -> None:
        self._table.pop(key, None)

    def _prune(self, now: float) -> None:
        if len(self._table) <= self.limits.max_tracked:
            return
        for key in [k for k, c in self._table.items() if self._idle(c, now)]:
            del self._table[key]
        while len(self._table) > self.limits.max_tracked:
            self._table.popitem(last=False)


class Gatekeeper:
    """Checks the credentials of a message that starts a session."""

    def __init__(self, store: Store, limits: ServerLimits, random_source: Callable[[int], bytes]) -> None:
        self.store = store
        self.limits = limits
        self.random_source = random_source
        self.challenges = _Challenges(store, limits.challenge_ttl)
        self.account_failures = _Failures(limits, limits.auth_failures)
        self.address_failures = _Failures(limits, limits.address_failures)

    # -- challenges ------------------------------------------------------
    def challenge(self, user: str | None, device_id: str, now: float, version: str = "1.2") -> Chal:
        """A challenge: basic for a basic-only account or a SyncML 1.0
        message (``version``), else MD5 with the nonce of (user, device id)
        for now (:class:`_Challenges`; nothing is written)."""
        account = self.store.account(user) if user else None
        if version == "1.0" or (account is not None and account.basic_only):
            return Chal(meta=Meta(format="b64", type=_BASIC))
        device = self.store.find_device(account.name, device_id) if account is not None else None
        nonce = self.challenges.issue((user or "", device_id), now, device.nonce if device is not None else None)
        return Chal(meta=Meta(format="b64", type=_MD5, next_nonce=auth.nonce_to_text(nonce)))

    # -- authentication --------------------------------------------------
    def authenticate(self, header: SyncHdr, remote: str | None, now: float, cred: Cred | None = None) -> Verdict:
        """Check the message's credential: ``cred`` (one found in a command,
        :func:`message_credential`), else the SyncHdr's.  Accepted: the
        device (created if new) with its nonce rotated, written in a
        transaction of its own.  Refused: nothing written, a challenge, a
        log line."""
        device_id = header.source.loc_uri.strip()
        cred = cred if cred is not None else header.cred
        user = claimed_user(header, cred)
        version = syncml_version(header)
        account = self.store.account(user) if user else None
        if cred is None or cred.data is None:
            return self._refuse(user, device_id, remote, now, StatusCode.MISSING_CREDENTIALS, "no-credentials",
                                version=version)
        for key, table in ((account.name if account else None, self.account_failures),
                           (remote, self.address_failures)):
            if key is not None and (left := table.remaining(key, now)):
                log.warning("auth refused: user=%s device=%s address=%s reason=locked-out remaining=%ds",
                            log_quoted(user), log_quoted(device_id), log_bare(remote), int(left + 0.999))
                return Verdict(StatusCode.INVALID_CREDENTIALS, user, device_id,
                               self.challenge(user, device_id, now, version), reason="locked-out")
        reason, used = self._check(header, cred, account, user, device_id, now)
        if not reason and account is not None and account.disabled:
            reason = "account-disabled"  # answered and counted as a wrong password; the log line says why
        if not reason and used is not None and not self.store.use_nonce(_used_key(device_id, used[0]),
                                                                        used[1], now):
            reason = "nonce-reused"  # accepted once already (on this worker or another): a replay
        if reason:
            return self._refuse(user, device_id, remote, now, StatusCode.INVALID_CREDENTIALS, reason,
                                account, version)
        assert account is not None
        self.account_failures.reset(account.name)
        with self.store.transaction():
            device = self.store.device(account.name, device_id)
            chal = None
            if not account.basic_only and version != "1.0":  # the nonce for the next MD5 login
                nonce = auth.new_nonce(self.random_source)
                device = self.store.set_device_nonce(device, nonce)
                chal = Chal(meta=Meta(format="b64", type=_MD5, next_nonce=auth.nonce_to_text(nonce)))
        return Verdict(StatusCode.AUTHENTICATION_ACCEPTED, account.name, device_id, chal, device)

    def _check(self, header: SyncHdr, cred: Cred, account: Account | None, user: str | None, device_id: str,
               now: float) -> tuple[str, tuple[bytes, float] | None]:
        """("", (the nonce used, until when it would be valid) or None for
        basic) when the credential is right, else (the reason, None)."""
        kind = cred.type.lower()
        data = (cred.data or "").strip()
        if kind == _BASIC:
            if not user:
                return "unreadable-credential", None
            if account is None:
                return "unknown-user", None
            _, password = auth.parse_basic(data)
            if account.basic_only:
                ok = auth.verify_scrypt(account.secret, password)
            else:
                ok = hmac.compare_digest(account.secret, auth.user_password_hash(account.name, password))
            return ("", None) if ok else ("wrong-credentials", None)
        if kind != _MD5:
            return "unsupported-type", None
        if not user:
            return "md5-without-user", None
        if account is None:
            return "unknown-user", None
        if account.basic_only:
            return "md5-not-allowed", None
        version = syncml_version(header)
        device = self.store.find_device(account.name, device_id)
        # the nonces challenged to this device under its user, and those challenged to it before it
        # named a user (a phone whose first message has no LocName and no Cred: K800i)
        stored = device.nonce if device is not None else None
        candidates = itertools.chain(
            [(stored, now + self.limits.challenge_ttl)] if stored else [],  # replaced once accepted
            self.challenges.valid((account.name, device_id), now, stored),
            self.challenges.valid(("", device_id), now, None))
        try:
            for nonce, until in candidates:
                if auth.verify_md5(data, account.name, account.secret, nonce, version, hashed=True):
                    return "", (nonce, until)
            if auth.verify_md5(data, account.name, account.secret, b"", version, hashed=True):
                return "empty-nonce", None  # right password, but over no nonce: replayable, so refused
        except (SyncMLError, ValueError):
            return "unreadable-credential", None
        return "wrong-credentials", None

    def _refuse(self, user: str | None, device_id: str, remote: str | None, now: float, code: int, reason: str,
                account: Account | None = None, version: str = "1.2") -> Verdict:
        if reason in _FIRST_STEP:
            log.info("auth challenge: user=%s device=%s address=%s reason=%s",
                     log_quoted(user), log_quoted(device_id), log_bare(remote), reason)
        else:
            failures, locked = 0, 0.0
            for key, table in ((account.name if account else None, self.account_failures),
                               (remote, self.address_failures)):
                if key is not None and reason not in _NO_GUESS:
                    n, seconds = table.fail(key, now)
                    failures, locked = max(failures, n), max(locked, seconds)
            log.warning("auth failure: user=%s device=%s address=%s reason=%s failures=%d%s",
                        log_quoted(user), log_quoted(device_id), log_bare(remote), reason, failures,
                        f" locked={int(locked)}s" if locked else "")
        return Verdict(code, user, device_id, self.challenge(user, device_id, now, version), reason=reason)
