"""IceWarp-compatible sync URL parameters (issue 13).

A client configured with ``http://host/sync?sync=9&format=sif`` sends them
twice: on the HTTP request URL and in its SyncHdr ``Target/LocURI`` (most
clients put the whole configured URL there).  Separators are ``&``, ``,&``,
``#`` or ``,#``: Funambol clients write ``#`` because ``&`` breaks their XML,
so ``?par=1,#sync=9`` means ``par=1`` and ``sync=9``; a URL may also carry
them after a ``#`` alone.  Names are case-insensitive; values are
percent-decoded.

The parameters (what each does is the engine's, see the modules named):

* ``sync=N`` (1-9): the sync mode the URL asks for, fed to the decision
  table (:mod:`._modes`).
* ``format=get|sif|vob``: the item format (``get``: ask the client for its
  DevInf and use what it supports).
* ``backup`` or ``backup=PREFIX``: write what the client sends to a backup
  file instead of the store.
* ``reset``: erase the client's data of the datastore (as ``sync=9``).
* ``push``: server-alerted sync for this device.
* ``sessionid``: the session a RespURI names (the HTTP front's).

Anything else is kept in :attr:`SyncParams.unknown` (ignored, logged by the
engine); a known name with a value it cannot take is kept in
:attr:`SyncParams.invalid` (ignored, logged) instead of being half-applied.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass

__all__ = ["FORMATS", "SyncParams", "parse_params"]

#: what ``format=`` may say
FORMATS = ("get", "sif", "vob")
#: the most parameters read from one URL (the rest are dropped: a hostile URL cannot grow the session)
MAX_PARAMS = 32
_MAX_TEXT = 200  # characters of one name or value kept for the log
_SEPARATOR = re.compile(r",?[&#]")
#: a backup prefix becomes part of a file name: letters, digits, ``-``, ``_`` and ``.`` (not first)
_PREFIX = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,39}")


@dataclass(frozen=True, slots=True)
class SyncParams:
    """The parameters of one sync URL.  ``backup``: None for no backup, ""
    for a backup without a prefix, else the prefix."""

    sync: int | None = None
    format: str | None = None
    backup: str | None = None
    reset: bool = False
    push: bool = False
    session_id: str | None = None
    unknown: tuple[tuple[str, str], ...] = ()
    invalid: tuple[tuple[str, str], ...] = ()

    def __bool__(self) -> bool:
        """Whether the URL asks for anything (``sessionid`` and ignored parameters aside)."""
        return bool(self.sync is not None or self.format or self.backup is not None or self.reset or self.push)

    def over(self, other: SyncParams) -> SyncParams:
        """These parameters, with ``other``'s where these say nothing (the
        HTTP URL's over the LocURI's: a client puts the same URL in both,
        and the HTTP one is what the operator sees in the access log)."""
        return SyncParams(
            sync=self.sync if self.sync is not None else other.sync,
            format=self.format or other.format,
            backup=self.backup if self.backup is not None else other.backup,
            reset=self.reset or other.reset,
            push=self.push or other.push,
            session_id=self.session_id or other.session_id,
            unknown=_union(self.unknown, other.unknown),
            invalid=_union(self.invalid, other.invalid),
        )


def _union(a: tuple[tuple[str, str], ...], b: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    return a + tuple(p for p in b if p not in a)


def parse_params(url: str) -> SyncParams:
    """The parameters of a URL, a LocURI or a bare query string.

    >>> p = parse_params("http://host/sync?par=1,#sync=9")
    >>> p.sync, p.unknown
    (9, (('par', '1'),))
    >>> p = parse_params("/sync?backup=nokia,&format=SIF&reset")
    >>> p.backup, p.format, p.reset
    ('nokia', 'sif', True)
    >>> parse_params("sync=12&backup=../x").invalid
    (('sync', '12'), ('backup', '../x'))
    """
    text = url.strip()
    cut = min((i for i in (text.find("?"), text.find("#")) if i >= 0), default=-1)
    if cut >= 0:
        text = text[cut + 1:]
    elif "=" not in text and not _is_flag(text):
        return SyncParams()  # a URL or LocURI without parameters
    found: dict[str, object] = {}
    unknown: list[tuple[str, str]] = []
    invalid: list[tuple[str, str]] = []
    for part in _SEPARATOR.split(text)[:MAX_PARAMS]:
        part = part.strip().strip(",")
        if not part:
            continue
        name, has_value, value = part.partition("=")
        name = urllib.parse.unquote_plus(name).strip().lower()[:_MAX_TEXT]
        value = urllib.parse.unquote_plus(value).strip()[:_MAX_TEXT]
        if name == "sync":
            if value.isascii() and value.isdigit() and 1 <= int(value) <= 9:  # (not "²", "٩": int() refuses some)
                found["sync"] = int(value)
            else:
                invalid.append((name, value))
        elif name == "format":
            if value.lower() in FORMATS:
                found["format"] = value.lower()
            else:
                invalid.append((name, value))
        elif name == "backup":
            if not has_value or not value:
                found["backup"] = ""
            elif _PREFIX.fullmatch(value):
                found["backup"] = value
            else:
                invalid.append((name, value))
        elif name in ("reset", "push"):
            if value and value.lower() not in ("1", "yes", "true", "on"):
                invalid.append((name, value))
            else:
                found[name] = True
        elif name == "sessionid":
            found["session_id"] = value or None
        else:
            unknown.append((name, value))
    return SyncParams(**found, unknown=tuple(unknown), invalid=tuple(invalid))  # type: ignore[arg-type]


def _is_flag(text: str) -> bool:
    """A bare query of flags only (``reset``, ``backup&push``)."""
    return bool(text) and all(p.strip().lower() in ("reset", "push", "backup") for p in _SEPARATOR.split(text))
