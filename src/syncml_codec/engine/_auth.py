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
* **Authentication policy** (issue 13): ``basic-or-md5`` (the default),
  ``basic`` or ``md5``, server-wide (``syncml serve --auth-policy``) and
  per account (``syncml user policy``; an account's own wins; a
  basic-only account, which keeps an scrypt hash, is always ``basic``).
  The HMAC of the ``x-syncml-hmac`` header counts as MD5 (it is computed
  from the same ``B64(H(user:password))``).  A credential of the scheme the
  policy does not allow is not compared with anything: the client is
  challenged again with the required scheme (401, INFO
  ``reason=wrong-scheme``, not counted); a second one from the same user and
  device within ``challenge_ttl`` is rejected (403, no challenge, WARNING
  ``reason=wrong-scheme-again``).  Which (user, device) pairs were
  re-challenged is kept in each worker's memory (:class:`_Strikes`: nothing
  is written for an unauthenticated request), so with N workers a client
  may be re-challenged up to N times before one rejects it.  Under ``basic``
  an accepted login gets no MD5 NextNonce.
* **Service** (issue 13): an account in a disabled domain
  (``user@domain``, ``syncml domain disable``) or not on the server's
  access list (``syncml serve --allow``) is refused before its credential
  is looked at: 403 without a challenge, WARNING ``auth refused: ...
  reason=domain-disabled|not-allowed``, not counted (the answer does not
  depend on the password, nor on whether the account exists, so it tells a
  guesser nothing).  A disabled *account* stays the issue-12 way (below).
* **HMAC** (issue 13): a message without a ``Cred`` whose HTTP request
  carries ``x-syncml-hmac: algorithm=MD5, username="..", mac=..`` is
  authenticated by it: the MAC ``B64(H(B64(H(user:password)):nonce:B64(H(body))))``
  over the exact body, with the nonces an MD5 credential may use (and each
  accepted nonce recorded the same way).  A refused or missing one is
  challenged with ``syncml:auth-MAC``.  Only the message that starts a
  session is checked (later ones belong to it by its id, as with ``Cred``);
  with a ``Cred`` too, the ``Cred`` decides.
* **SyncML 1.0 gets basic challenges.**  A 1.0 MD5 digest is
  ``B64(H(user:password:nonce))``, which needs the plain password, and an
  MD5-capable account keeps only ``B64(H(user:password))``: a 1.0 device is
  challenged with basic (and gets no MD5 NextNonce when accepted), so it is
  never sent into an MD5 login this server cannot check.  Under the ``md5``
  policy a 1.0 device therefore cannot log in (it is challenged with MD5).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import logging
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

from ..errors import SyncMLError
from ..model import Atomic, Chal, Command, Cred, Message, Meta, Sequence, StatusCode, Sync, SyncHdr, auth
from ..model.auth import AuthType
from ..store.base import AUTH_POLICIES, Account, Device, Store, account_domain, normal_domain
from ._limits import ServerLimits
from ._reply import syncml_version
from ._util import log_bare, log_quoted

__all__ = ["AUTH_POLICIES", "Gatekeeper", "Verdict", "claimed_user", "message_credential", "parse_access_list"]

log = logging.getLogger("syncml_codec.engine")

_MD5 = AuthType.MD5.value  # the Meta/Type texts, as model.auth spells them
_BASIC = AuthType.BASIC.value
_MAC = AuthType.MAC.value
#: the schemes each policy accepts (HMAC counts as md5)
_ALLOWED = {"basic-or-md5": frozenset({"basic", "md5"}), "basic": frozenset({"basic"}), "md5": frozenset({"md5"})}
_SLOTS = 4  # a challenge nonce is good in its time slot and this many after it (slot: challenge_ttl / _SLOTS)
_GENERATIONS = 16  # challenge nonces per (user, device id) and slot: one more for each accepted login
#: the normal first step of a login (a client without a nonce): an INFO line, not counted
_FIRST_STEP = frozenset({"no-credentials", "empty-nonce", "wrong-scheme"})
#: refused before any password was compared (nothing to learn from the answer): WARNING, not counted
_NO_GUESS = frozenset({"md5-not-allowed", "md5-without-user", "unsupported-type", "unreadable-credential",
                       "wrong-scheme-again"})


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


def parse_access_list(entries: Iterable[str]) -> frozenset[str]:
    """The access list from its entries (``syncml serve --allow``,
    ``SYNCML_ALLOW``): account names as they are, ``@domain`` for every
    account of a domain (lower case); entries may hold several, separated
    by commas or blanks.  Domains compare as :func:`~syncml_codec.store.base.normal_domain`
    makes them (case, IDN, final dot); user names exactly.

    >>> sorted(parse_access_list(["anna@Example.org, @Example.NET.", "bob"]))
    ['@example.net', 'anna@example.org', 'bob']
    """
    names: set[str] = set()
    for entry in entries:
        for name in entry.replace(",", " ").split():
            names.add(_access_key(name))
    return frozenset(names)


def _access_key(name: str) -> str:
    """An account name or ``@domain`` as the access list compares it: the
    domain part as :func:`~syncml_codec.store.base.normal_domain` makes it
    (case, IDN, final dot), the user part as it is."""
    user, at, domain = name.rpartition("@")
    return f"{user}@{normal_domain(domain)}" if at and domain.strip() else name


class _Strikes:
    """(user, device id) pairs re-challenged for using the scheme their
    policy does not allow, each remembered for ``ttl`` seconds; at most
    ``limit`` of them (the oldest forgotten first)."""

    def __init__(self, ttl: float, limit: int) -> None:
        self.ttl = ttl
        self.limit = limit
        self._table: OrderedDict[tuple[str, str], float] = OrderedDict()

    def __len__(self) -> int:
        return len(self._table)

    def strike(self, key: tuple[str, str], now: float) -> bool:
        """Record a wrong-scheme attempt of ``key``: True when it had one already (not expired)."""
        before = self._table.pop(key, None)
        if before is not None and now - before <= self.ttl:
            self._table[key] = before
            return True
        self._table[key] = now
        while len(self._table) > self.limit:
            self._table.popitem(last=False)
        return False

    def clear(self, key: tuple[str, str]) -> None:
        self._table.pop(key, None)


class Gatekeeper:
    """Checks the credentials of a message that starts a session.
    ``policy``: the server's authentication policy (one of
    :data:`AUTH_POLICIES`); ``allowed``: the access list
    (:func:`parse_access_list`; None: every account)."""

    def __init__(self, store: Store, limits: ServerLimits, random_source: Callable[[int], bytes], *,
                 policy: str = "basic-or-md5", allowed: Iterable[str] | None = None) -> None:
        if policy not in AUTH_POLICIES:
            raise ValueError(f"unknown authentication policy {policy!r} (one of {', '.join(AUTH_POLICIES)})")
        self.store = store
        self.limits = limits
        self.random_source = random_source
        self.policy = policy
        self.allowed = None if allowed is None else parse_access_list(allowed)
        self.challenges = _Challenges(store, limits.challenge_ttl)
        self.account_failures = _Failures(limits, limits.auth_failures)
        self.address_failures = _Failures(limits, limits.address_failures)
        self.strikes = _Strikes(limits.challenge_ttl, limits.max_tracked)

    # -- policy and service ------------------------------------------------
    def policy_of(self, account: Account | None) -> str:
        """The policy an account logs in under: ``basic`` for a basic-only
        account, else its own, else the server's."""
        if account is None:
            return self.policy
        if account.basic_only:
            return "basic"
        return account.auth_policy if account.auth_policy in AUTH_POLICIES else self.policy

    def service_refusal(self, user: str) -> str:
        """Why ``user`` may not use the service ("" if it may): its domain
        is disabled, or it is not on the access list."""
        domain = account_domain(user)
        if domain is not None and self.store.domain_disabled(domain):
            return "domain-disabled"
        if self.allowed is not None and _access_key(user) not in self.allowed and \
                (domain is None or f"@{domain}" not in self.allowed):
            return "not-allowed"
        return ""

    # -- challenges ------------------------------------------------------
    def challenge(self, user: str | None, device_id: str, now: float, version: str = "1.2",
                  mac: bool = False) -> Chal:
        """A challenge: basic under the ``basic`` policy (:meth:`policy_of`)
        or for a SyncML 1.0 message (``version``) unless the policy is
        ``md5``, else MD5 (``mac``: ``syncml:auth-MAC``, for a client that
        authenticates with the ``x-syncml-hmac`` header) with the nonce of
        (user, device id) for now (:class:`_Challenges`; nothing is written)."""
        account = self.store.account(user) if user else None
        policy = self.policy_of(account)
        if policy == "basic" or (version == "1.0" and policy != "md5"):
            return Chal(meta=Meta(format="b64", type=_BASIC))
        device = self.store.find_device(account.name, device_id) if account is not None else None
        nonce = self.challenges.issue((user or "", device_id), now, device.nonce if device is not None else None)
        return Chal(meta=Meta(format="b64", type=_MAC if mac else _MD5, next_nonce=auth.nonce_to_text(nonce)))

    # -- authentication --------------------------------------------------
    def authenticate(self, header: SyncHdr, remote: str | None, now: float, cred: Cred | None = None, *,
                     headers: Mapping[str, str] | None = None, body: bytes = b"") -> Verdict:
        """Check the message's credential: ``cred`` (one found in a command,
        :func:`message_credential`), else the SyncHdr's, else the
        ``x-syncml-hmac`` of the request's ``headers`` (over ``body``, the
        request body as received).  Accepted: the device (created if new)
        with its nonce rotated, written in a transaction of its own.
        Refused: nothing written, a challenge (none for a 403), a log line."""
        device_id = header.source.loc_uri.strip()
        cred = cred if cred is not None else header.cred
        version = syncml_version(header)
        mac_header = (headers or {}).get("x-syncml-hmac", "").strip() if cred is None or cred.data is None else ""
        mac: dict[str, str] | None = None
        if mac_header:
            try:
                mac = auth.parse_hmac_header(mac_header)
                user: str | None = mac["username"]
            except (SyncMLError, ValueError):
                user = ""
        else:
            user = claimed_user(header, cred)
        if user:
            refusal = self.service_refusal(user)
            if refusal:
                log.warning("auth refused: user=%s device=%s address=%s reason=%s",
                            log_quoted(user), log_quoted(device_id), log_bare(remote), refusal)
                return Verdict(StatusCode.FORBIDDEN, user, device_id, None, reason=refusal)
        account = self.store.account(user) if user else None
        if (cred is None or cred.data is None) and not mac_header:
            return self._refuse(user, device_id, remote, now, StatusCode.MISSING_CREDENTIALS, "no-credentials",
                                version=version)
        for key, table in ((account.name if account else None, self.account_failures),
                           (remote, self.address_failures)):
            if key is not None and (left := table.remaining(key, now)):
                log.warning("auth refused: user=%s device=%s address=%s reason=locked-out remaining=%ds",
                            log_quoted(user), log_quoted(device_id), log_bare(remote), int(left + 0.999))
                return Verdict(StatusCode.INVALID_CREDENTIALS, user, device_id,
                               self.challenge(user, device_id, now, version, bool(mac_header)), reason="locked-out")
        policy = self.policy_of(account)
        kind = _MAC if mac_header else (cred.type.lower() if cred is not None else "")
        scheme = {_BASIC: "basic", _MD5: "md5", _MAC.lower(): "md5", _MAC: "md5"}.get(kind)
        strike_key = (user or "", device_id)
        if scheme is not None and scheme not in _ALLOWED[policy]:
            if self.strikes.strike(strike_key, now):  # re-challenged already: rejected
                log.warning("auth refused: user=%s device=%s address=%s reason=wrong-scheme-again policy=%s",
                            log_quoted(user), log_quoted(device_id), log_bare(remote), policy)
                return Verdict(StatusCode.FORBIDDEN, user, device_id, None, reason="wrong-scheme-again")
            return self._refuse(user, device_id, remote, now, StatusCode.INVALID_CREDENTIALS, "wrong-scheme",
                                account, version)
        if mac_header:
            reason, used = ("unreadable-credential", None) if mac is None else \
                self._check_mac(mac_header, account, device_id, now, body)
        else:
            assert cred is not None
            reason, used = self._check(header, cred, account, user, device_id, now)
        if not reason and account is not None and account.disabled:
            reason = "account-disabled"  # answered and counted as a wrong password; the log line says why
        if not reason and used is not None and not self.store.use_nonce(_used_key(device_id, used[0]),
                                                                        used[1], now):
            reason = "nonce-reused"  # accepted once already (on this worker or another): a replay
        if reason:
            return self._refuse(user, device_id, remote, now, StatusCode.INVALID_CREDENTIALS, reason,
                                account, version, bool(mac_header))
        assert account is not None
        self.account_failures.reset(account.name)
        self.strikes.clear(strike_key)
        with self.store.transaction():
            device = self.store.device(account.name, device_id)
            chal = None
            if policy != "basic" and version != "1.0":  # the nonce for the next MD5 (or HMAC) login
                nonce = auth.new_nonce(self.random_source)
                device = self.store.set_device_nonce(device, nonce)
                chal = Chal(meta=Meta(format="b64", type=_MAC if mac_header else _MD5,
                                      next_nonce=auth.nonce_to_text(nonce)))
        return Verdict(StatusCode.AUTHENTICATION_ACCEPTED, account.name, device_id, chal, device)

    def _nonces(self, account: Account, device_id: str, now: float) -> Iterator[tuple[bytes, float]]:
        """The nonces an MD5 credential or HMAC of ``account`` from
        ``device_id`` may be computed over now, each with the time it stops
        being valid: the device's stored one first, then the challenges sent
        to it under its user, then those sent to it before it named a user
        (a phone whose first message has no LocName and no Cred: K800i)."""
        device = self.store.find_device(account.name, device_id)
        stored = device.nonce if device is not None else None
        return itertools.chain(
            [(stored, now + self.limits.challenge_ttl)] if stored else [],  # replaced once accepted
            self.challenges.valid((account.name, device_id), now, stored),
            self.challenges.valid(("", device_id), now, None))

    def _check_mac(self, value: str, account: Account | None, device_id: str, now: float,
                   body: bytes) -> tuple[str, tuple[bytes, float] | None]:
        """As :meth:`_check`, for the ``x-syncml-hmac`` header ``value``."""
        if account is None:
            return "unknown-user", None
        if account.basic_only:
            return "md5-not-allowed", None  # (an scrypt hash: no MAC can be checked)
        try:
            check = auth.hmac_checker(value, account.secret, body)  # the body hashed once, not once per nonce
        except (SyncMLError, ValueError):
            return "unreadable-credential", None
        for nonce, until in self._nonces(account, device_id, now):
            if check(nonce):
                return "", (nonce, until)
        if check(b""):
            return "empty-nonce", None
        return "wrong-credentials", None

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
        try:
            for nonce, until in self._nonces(account, device_id, now):
                if auth.verify_md5(data, account.name, account.secret, nonce, version, hashed=True):
                    return "", (nonce, until)
            if auth.verify_md5(data, account.name, account.secret, b"", version, hashed=True):
                return "empty-nonce", None  # right password, but over no nonce: replayable, so refused
        except (SyncMLError, ValueError):
            return "unreadable-credential", None
        return "wrong-credentials", None

    def _refuse(self, user: str | None, device_id: str, remote: str | None, now: float, code: int, reason: str,
                account: Account | None = None, version: str = "1.2", mac: bool = False) -> Verdict:
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
        return Verdict(code, user, device_id, self.challenge(user, device_id, now, version, mac), reason=reason)
