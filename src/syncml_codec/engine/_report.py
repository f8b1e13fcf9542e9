"""The one line an operator reads per session: logged at INFO on
``syncml_codec.engine`` when a session ends, completed or failed (a session
the client abandons, or that is evicted or expires, ends without one)::

    session end: session=3f1c... user="test" device="test-a" address=192.0.2.7 duration=2.310s
    Contacts=two-way to_server=+2/~1/-0 to_client=+0/~3/-1 conflicts=1 outcome=ok

(one line; a group ``NAME=mode to_server=... to_client=... conflicts=N`` per
datastore the session opened, in the order the client alerted them; IceWarp's
modes 7-9 by their names, ``slow-to-server``, ``slow-to-client``,
``client-reset``: :mod:`._modes`; for a datastore backed up to a file,
``NAME=backup items=N file="nokia200812310001"``).
``to_server``: items the client's changes added / replaced / deleted on the
server (an item a slow sync pairs with one the server holds is none of
these); ``to_client``: the Adds / Replaces / Deletes we sent that the client
did not refuse; ``conflicts``: both sides changed an item (resolved by the
conflict policy, the loser kept in the conflict log: ``syncml conflict
list``).  ``outcome`` is ``ok`` or ``failed`` with a quoted ``reason``.
Client-supplied values are quoted and escaped (:func:`._util.log_quoted`),
so the line cannot be forged.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ._modes import ICEWARP_NAMES
from ._util import log_bare, log_quoted

if TYPE_CHECKING:
    from ._session import ServerSession

__all__ = ["MODE_NAMES", "log_session_end", "session_line"]

log = logging.getLogger("syncml_codec.engine")

#: sync type (Alert code) -> the name the log line gives it
MODE_NAMES = {
    200: "two-way", 201: "slow", 202: "one-way-from-client", 203: "refresh-from-client",
    204: "one-way-from-server", 205: "refresh-from-server", 206: "two-way-by-server",
    207: "one-way-from-client-by-server", 208: "refresh-from-client-by-server",
    209: "one-way-from-server-by-server", 210: "refresh-from-server-by-server",
}


def _counts(counts: dict[str, int], add: str, replace: str, delete: str) -> str:
    return f"+{counts.get(add, 0)}/~{counts.get(replace, 0)}/-{counts.get(delete, 0)}"


def session_line(session: ServerSession, outcome: str) -> str:
    """The line for ``session`` ending with ``outcome`` (``"ok"`` or why it
    failed); ``duration``: from its first message to its last one."""
    parts = [f"session end: session={log_bare(session.id)} user={log_quoted(session.user)} "
             f"device={log_quoted(session.device_id)} address={log_bare(session.address)} "
             f"duration={max(0.0, session.last_seen - session.started):.3f}s"]
    for canonical, ds in session.datastores.items():
        if ds.backup is not None:  # (issue 13) the client's items went to a file
            parts.append(f"{canonical}=backup items={ds.backup.count} "
                         f"file={log_quoted(ds.backup.done[-1]) if ds.backup.done else '-'}")
            continue
        sent = {kind: n for (name, kind), n in session.outbox.sent_counts.items() if name == canonical}
        name = ICEWARP_NAMES.get(ds.performed) or MODE_NAMES.get(ds.mode, str(ds.mode))
        if ds.fallback:  # (issue 13) the mode went out as another alert: e.g. "slow-to-client/erase-and-send"
            name = f"{ICEWARP_NAMES.get(ds.performed) or MODE_NAMES.get(199 + ds.performed)}/{ds.fallback.value}"
        parts.append(f"{canonical}={name} "
                     f"to_server={_counts(ds.stats, 'added', 'replaced', 'deleted')} "
                     f"to_client={_counts(sent, 'Add', 'Replace', 'Delete')} "
                     f"conflicts={ds.stats.get('conflicts', 0)}")
    parts.append("outcome=ok" if outcome == "ok" else
                 f"outcome=failed reason={log_quoted(outcome.removeprefix('failed: '))}")
    return " ".join(parts)


def log_session_end(session: ServerSession, outcome: str) -> None:
    """Log :func:`session_line` at INFO."""
    if log.isEnabledFor(logging.INFO):
        log.info("%s", session_line(session, outcome))
