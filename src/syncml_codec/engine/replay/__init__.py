"""Replay recorded client traffic into a server and compare the answers.

:class:`Replayer` sends the client messages of one recorded session, adapted
to the new server (session ids, MD5 credentials, datastore names, GUIDs;
:mod:`._replayer` says how), through a :class:`Transport`: in process
(:class:`InProcess`) or over HTTP (:class:`syncml_codec.server.HttpTransport`).
:func:`compare_session` lists where the new server's answers differ from the
recorded ones.
"""

from ._compare import Difference, SessionComparison, compare_session
from ._exchange import Exchange, SessionReplay, check_exchange
from ._replayer import NO_NONCE, Replayer, datastore_for_type, recorded_login
from ._transport import InProcess, Transport, TransportError

__all__ = [
    "NO_NONCE",
    "Difference",
    "Exchange",
    "InProcess",
    "Replayer",
    "SessionComparison",
    "SessionReplay",
    "Transport",
    "TransportError",
    "check_exchange",
    "compare_session",
    "datastore_for_type",
    "recorded_login",
]
