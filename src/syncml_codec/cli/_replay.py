"""``syncml replay CAPTURE... (--url URL | --in-process --db DB)``: send the
client side of each recorded session to a server and print how its answers
differ from the recorded ones (issue 16).

The captures are read as ``syncml inspect`` reads them (:func:`load_captures`)
and grouped into sessions (:func:`syncml_codec.capture.group_sessions`);
the client messages of each session are sent in order by one
:class:`~syncml_codec.engine.Replayer` (which adapts session ids,
credentials, datastore names, Status references and GUIDs to the new
server), over HTTP (:class:`syncml_codec.server.HttpTransport`) or in
process on an SQLite/PostgreSQL database; each answer is compared with the
recorded server's answer to the same message
(:func:`syncml_codec.engine.replay.compare_session`).

Exit status: 0 when every session was replayed and no difference was found;
1 when there are differences (0 with ``--no-fail-on-diff``) or something
failed: a capture that could not be read, no client message to replay, a
server that did not answer or answered other than HTTP 200 SyncML.
"""

from __future__ import annotations

import argparse
import bisect
import json
import logging
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..capture import CapturedSession, SessionMessage, group_sessions
from ..store import AUTH_POLICIES, display_database
from ._captures import add_input_argument, load_captures
from ._common import CommandError
from ._db import _open_store

if TYPE_CHECKING:
    from ..engine import Response, SessionComparison, SessionReplay, SyncServer, Transport
    from ..model import Message

__all__ = ["register"]

#: the base URL the in-process server gives in its RespURIs (never fetched)
IN_PROCESS_URL = "http://replay.invalid/sync"


@dataclass
class _Outcome:
    """One session of the capture, replayed or not."""

    number: int
    session: CapturedSession
    client: list[SessionMessage]
    answers: list[Message[Any] | None]
    result: SessionReplay | None = None
    comparison: SessionComparison | None = None
    skipped: str = ""
    failure: str = ""
    problems: list[str] = field(default_factory=list)


class _Recorder:
    """The transport with its failure remembered: after a server that did
    not answer, the other sessions are not tried."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self.failed = ""

    def __call__(self, body: bytes, content_type: str, session_id: str | None) -> Response:
        from ..engine import TransportError

        try:
            response: Response = self.transport(body, content_type, session_id)
        except TransportError as exc:
            self.failed = str(exc)
            raise
        return response


def _read_password(args: argparse.Namespace) -> str | None:
    if args.password_file is not None:
        try:
            with open(args.password_file, encoding="utf-8") as fh:
                line = fh.readline(4096).rstrip("\r\n")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"--password-file {args.password_file}: "
                               f"{getattr(exc, 'strerror', None) or exc}") from None
        if not line:
            raise CommandError(f"--password-file {args.password_file}: the first line is empty")
        return line
    if args.password_stdin:
        line = sys.stdin.readline(4096).rstrip("\r\n")
        if not line:
            raise CommandError("--password-stdin: no password on stdin")
        return line
    return None


def _datastores(pairs: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        recorded, sep, ours = pair.partition("=")
        if not sep or not recorded.strip() or not ours.strip():
            raise CommandError(f"--datastore {pair!r}: expected RECORDED=OURS, e.g. ca=calendar")
        out[recorded.strip()] = ours.strip()
    return out


def _check_args(args: argparse.Namespace) -> None:
    if bool(args.url) == bool(args.in_process):
        raise CommandError("give the server: --url URL, or --in-process --db DB")
    if args.in_process and not args.db:
        raise CommandError("--in-process needs --db DB (an SQLite file, created if missing, or a PostgreSQL URL)")
    if args.url and (args.db or args.auth_policy):
        raise CommandError("--db and --auth-policy are for --in-process (over --url the server has its own)")
    if args.password_stdin and "-" in args.captures:
        raise CommandError("--password-stdin and a capture on stdin (-): give the capture as a file")
    if args.url:
        from ..server import check_replay_url

        problem = check_replay_url(args.url)
        if problem:
            raise CommandError(f"--url: {problem}")
    if args.timeout <= 0 or args.timeout != args.timeout:
        raise CommandError(f"--timeout must be positive, not {args.timeout:g}")


def _pair(outcome: _Outcome, messages: list[SessionMessage]) -> None:
    """The session's client messages in order, each with the recorded
    server's answer: the server message whose SyncHdr Status names the
    client message's MsgID (else the next server message after it)."""
    positions: list[int] = []  # index in messages of each client message
    for n, sm in enumerate(messages):
        if sm.message is None:
            outcome.problems.append(f"{sm.captured.origin}: not replayed, unreadable: {sm.error}")
        elif sm.direction == "client":
            outcome.client.append(sm)
            outcome.answers.append(None)
            positions.append(n)
        elif sm.direction != "server":
            outcome.problems.append(f"{sm.captured.origin}: cannot tell who sent it: not replayed")
    by_id: dict[str, list[int]] = {}  # MsgID -> the client messages with it, in order
    for i, sm in enumerate(outcome.client):
        by_id.setdefault(_msg_id(sm.message) or "", []).append(i)
    seen: list[int] = []  # the client messages before this one (answered ones are skipped when met)
    passed = 0
    for n, sm in enumerate(messages):
        if passed < len(positions) and positions[passed] == n:
            seen.append(passed)
            passed += 1
            continue
        if sm.message is None or sm.direction != "server":
            continue
        ref = _answered_msg_id(sm.message)
        chosen = _by_ref(by_id.get(ref, []) if ref else [], positions, n, outcome.answers)
        if chosen is None:
            while seen and outcome.answers[seen[-1]] is not None:
                seen.pop()
            chosen = seen[-1] if seen else None
        if chosen is None:
            outcome.problems.append(f"{sm.captured.origin}: a server message that answers no client message")
        else:
            outcome.answers[chosen] = sm.message


#: client messages with one MsgID looked at, at most, to pair an answer (bounded work per message)
_LOOK = 8


def _by_ref(candidates: list[int], positions: list[int], n: int, answers: list[Any]) -> int | None:
    """Of ``candidates`` (client messages with the MsgID an answer names, in
    order), the latest unanswered one before position ``n``, else the first
    unanswered one; None if none is found within a few."""
    if not candidates:
        return None
    k = bisect.bisect_left(candidates, n, key=lambda i: positions[i])
    for i in reversed(candidates[max(0, k - _LOOK):k]):
        if answers[i] is None:
            return i
    return next((i for i in candidates[k:k + _LOOK] if answers[i] is None), None)


def _refused(answer: Message[Any] | None) -> bool:
    """Whether a recorded answer refused the login (SyncHdr Status 401 or 407)."""
    from ..model import Status

    for cmd in answer.commands if answer is not None else ():
        if isinstance(cmd, Status) and isinstance(cmd.cmd_ref, str) and cmd.cmd_ref.strip() == "0":
            return isinstance(cmd.data, str) and cmd.data.strip() in ("401", "407")
    return False


def _msg_id(msg: Message[Any] | None) -> str | None:
    value = getattr(getattr(msg, "header", None), "msg_id", None)
    return value.strip() if isinstance(value, str) else None


def _answered_msg_id(msg: Message[Any]) -> str | None:
    """The MsgID of the client message that ``msg`` (a server's) answers: its SyncHdr Status's MsgRef."""
    from ..model import Status

    for cmd in msg.commands:
        if isinstance(cmd, Status) and isinstance(cmd.cmd_ref, str) and cmd.cmd_ref.strip() == "0":
            return cmd.msg_ref.strip() if isinstance(cmd.msg_ref, str) else None
    return None


def _sessions(args: argparse.Namespace, problems: list[str]) -> list[_Outcome]:
    captures = load_captures(args.captures, args.input)
    for cap in captures:
        problems += [str(note) for note in cap.errors]
    messages = [m for cap in captures for m in cap.messages]
    outcomes: list[_Outcome] = []
    for number, session in enumerate(group_sessions(messages), 1):
        outcome = _Outcome(number, session, [], [])
        if session.kind != "syncml":
            outcome.skipped = "a notification (SAN), not a session to replay"
        _pair(outcome, session.messages if session.kind == "syncml" else [])
        if not outcome.client and not outcome.skipped:
            outcome.skipped = "no client messages"
        outcomes.append(outcome)
    names = ", ".join(args.captures)
    if args.session is not None:
        if not 1 <= args.session <= len(outcomes):
            raise CommandError(f"--session {args.session}: {names} has {len(outcomes)} session"
                               f"{'s' if len(outcomes) != 1 else ''}")
        outcomes = [outcomes[args.session - 1]]
    if not any(o.client for o in outcomes):
        found = "no SyncML message" if not messages else "no client messages"
        from ..server import escape_log_text

        problems_text = f" ({problems[0]})" if problems else ""
        raise CommandError(escape_log_text(f"{names}: {found} to replay{problems_text}")[:_MAX_LINE])
    return outcomes


def _in_process_server(args: argparse.Namespace, store: Any, user: str | None, password: str | None,
                       notes: list[str]) -> SyncServer:
    import os

    from ..engine import SyncServer

    if user is not None and store.account(user) is None:
        if password is None:
            raise CommandError(f"{display_database(args.db)}: no user {user!r}, and no password to create it "
                               "(--password-file or --password-stdin)")
        with store.transaction():
            store.add_user(user, password)
        notes.append(f"created user {user} in {display_database(args.db)}")
    return SyncServer(store, clock=time.time, random_source=os.urandom, base_url=IN_PROCESS_URL,
                      auth_policy=args.auth_policy or "basic-or-md5")


def _login(outcomes: list[_Outcome], user: str | None, password: str | None) -> tuple[str | None, str | None]:
    """The user and password to replay with: the options', else the
    recording's basic login, else the LocName of its first message."""
    from ..engine.replay import recorded_login

    login = recorded_login([sm.captured.data for o in outcomes for sm in o.client])
    if login is not None:
        user = user or login[0]
        if password is None and user == login[0]:
            password = login[1]
    if user is None:
        for o in outcomes:
            for sm in o.client:
                header = sm.message.header if sm.message is not None else None
                name = getattr(getattr(header, "source", None), "loc_name", None)
                if isinstance(name, str) and name.strip():
                    return name.strip(), password
    return user, password


def _content_type(client: list[SessionMessage]) -> str | None:
    types = {(sm.captured.content_type or "").split(";")[0].strip().lower() for sm in client}
    only = types.pop() if len(types) == 1 else ""
    return only if only in ("application/vnd.syncml+xml", "application/vnd.syncml+wbxml") else None


def _cmd_replay(args: argparse.Namespace) -> None:
    from ..engine import InProcess, Replayer, compare_session

    _check_args(args)
    datastores = _datastores(args.datastore or [])
    password = _read_password(args)
    problems: list[str] = []
    outcomes = _sessions(args, problems)
    user, password = _login(outcomes, args.user, password)
    setup: list[str] = []
    store = _open_store(args.db) if args.in_process else None
    if store is not None:
        try:
            server = _in_process_server(args, store, user, password, setup)
        except BaseException:
            store.close()
            raise
        target = f"in process, database {display_database(args.db)}"
        transport = _Recorder(InProcess(server))
    else:
        from ..server import HttpTransport

        target = args.url
        transport = _Recorder(HttpTransport(args.url, timeout=args.timeout))
    package_log = logging.getLogger("syncml_codec")
    saved_log = (package_log.level, list(package_log.handlers))
    if store is not None:  # our server's log lines (auth refused, ...), at --log-level, on stderr
        from ..server import install_log_handler

        install_log_handler(args.log_level)
    try:
        replayer = Replayer(transport, user=user, password=password, datastores=datastores, stop_on_error=True)
        for outcome in outcomes:
            if outcome.skipped:
                continue
            if transport.failed:
                outcome.failure = f"not replayed: {transport.failed}"
                continue
            challenged = [n for n, answer in enumerate(outcome.answers) if _refused(answer)]
            result = replayer.replay([sm.captured.data for sm in outcome.client], _content_type(outcome.client),
                                     challenged=challenged)
            outcome.result = result
            outcome.comparison = compare_session([sm.message for sm in outcome.client], outcome.answers, result)
            if result.stopped:
                outcome.failure = result.stopped
    finally:
        package_log.setLevel(saved_log[0])
        package_log.handlers[:] = saved_log[1]
        if store is not None:
            store.close()
    differences = sum(len(o.comparison.differences) for o in outcomes if o.comparison is not None)
    failures = [f"session {o.number}: {o.failure}" for o in outcomes if o.failure]
    failures += problems + [p for o in outcomes for p in o.problems]
    if args.json:
        print(json.dumps(_document(args, target, setup, outcomes, problems, differences, failures), indent=1))
    else:
        _print_report(target, setup, outcomes, differences)
    for line in failures:
        _line(f"syncml replay: {line}", sys.stderr)
    if failures:
        raise CommandError(f"{len(failures)} problem{'s' if len(failures) != 1 else ''} (above)")
    if differences and not args.no_fail_on_diff:
        raise CommandError(f"{differences} difference{'s' if differences != 1 else ''} from the recording")


#: characters of one printed line at most (a LUID or origin from the capture may be any length)
_MAX_LINE = 1000


def _line(text: str, stream: Any = None) -> None:
    """Print one line of the report: what came from the capture escaped (no
    control character can start a line of its own) and cut at :data:`_MAX_LINE`."""
    from ..server import escape_log_text

    text = escape_log_text(text)
    print(text if len(text) <= _MAX_LINE else text[:_MAX_LINE] + "...", file=stream or sys.stdout)


def _session_title(o: _Outcome) -> str:
    parts = [f"device {o.session.device}" if o.session.device else "",
             f"SessionID {o.session.session_id}" if o.session.session_id else "",
             f"{len(o.client)} client message{'s' if len(o.client) != 1 else ''}"]
    return f"session {o.number} (" + ", ".join(p for p in parts if p) + ")"


def _print_report(target: str, setup: list[str], outcomes: list[_Outcome], differences: int) -> None:
    _line(f"replay to {target}")
    for line in setup:
        _line(f"  {line}")
    for o in outcomes:
        _line(_session_title(o) + (f": skipped, {o.skipped}" if o.skipped else ""))
        if o.failure and o.result is None:
            _line(f"  {o.failure}")
        if o.result is None or o.comparison is None:
            continue
        answered = sum(1 for a in o.answers if a is not None)
        ours = o.result.session_id or ("(none)" if o.result.refused or o.result.stopped else "(none: not logged in, "
                                                                                          "as recorded)")
        _line(f"  our session {ours}; {o.comparison.compared} of {answered} recorded answers compared")
        if o.result.refused:
            _line(f"  login refused: {o.result.refused}")
        if o.result.stopped:
            _line(f"  stopped: {o.result.stopped}")
        for diff in o.comparison.differences:
            _line(f"  {diff}")
        for note in o.comparison.notes:
            _line(f"  note: {note}")
        if not o.comparison.differences:
            _line("  no differences")
    replayed = sum(1 for o in outcomes if o.comparison is not None)
    _line(f"{differences} difference{'s' if differences != 1 else ''} in {replayed} replayed "
          f"session{'s' if replayed != 1 else ''}")


def _document(args: argparse.Namespace, target: str, setup: list[str], outcomes: list[_Outcome],
              problems: list[str], differences: int, failures: list[str]) -> dict[str, Any]:
    sessions = []
    for o in outcomes:
        result, comparison = o.result, o.comparison
        rewrites = list(dict.fromkeys(n for ex in result.exchanges for n in ex.notes)) if result else []
        sessions.append({
            "number": o.number, "session_id": o.session.session_id, "device": o.session.device,
            "server": o.session.server, "client_messages": len(o.client),
            "recorded_answers": sum(1 for a in o.answers if a is not None),
            "skipped": o.skipped or None, "replayed": result is not None,
            "our_session": result.session_id if result else None,
            "exchanges": len(result.exchanges) if result else 0,
            "compared": comparison.compared if comparison else 0,
            "refused": result.refused or None if result else None,
            "stopped": result.stopped or None if result else None,
            "failure": o.failure or None,
            "differences": [d.as_json() for d in comparison.differences] if comparison else [],
            "notes": comparison.notes if comparison else [],
            "problems": o.problems,
            "rewrites": rewrites,
        })
    return {"captures": list(args.captures), "target": target, "setup": setup, "sessions": sessions,
            "differences": differences, "problems": failures, "ok": not failures and not differences}


def register(sub: Any) -> None:
    p = sub.add_parser(
        "replay", help="send the client side of captured sessions to a server, compare the answers",
        description="Replay each recorded session of the captures (pcap, HTTP dump, logs, message files...: "
                    "as 'syncml inspect' reads them) against a server: its client messages in order, adapted to "
                    "the new server (session ids, MD5 credentials, datastore names, GUIDs in Maps, Targets and "
                    "Statuses), and print where the server's answers differ from the recorded ones: Statuses per "
                    "client command, the SyncHdr auth outcome, the sync type granted per datastore, items sent. "
                    "Exit status 0: no differences; 1: differences (unless --no-fail-on-diff) or a failure.")
    p.add_argument("captures", nargs="+", metavar="CAPTURE",
                   help="capture files or folders (their files in name order); - for stdin")
    add_input_argument(p)
    p.add_argument("--url", help="the server's sync URL (http:// or https://); the account must exist there")
    p.add_argument("--in-process", action="store_true",
                   help="run our server in this process on --db, instead of --url")
    p.add_argument("--db", metavar="DB",
                   help="with --in-process: an SQLite file (created if missing) or a PostgreSQL URL; the account "
                        "is created if missing and a password is known")
    p.add_argument("--auth-policy", choices=AUTH_POLICIES,
                   help="with --in-process: the server's authentication policy (default basic-or-md5)")
    p.add_argument("--user", metavar="U",
                   help="the account to log in as where the recording has no basic login "
                        "(default: the recording's basic login, else its LocName)")
    pw = p.add_mutually_exclusive_group()
    pw.add_argument("--password-file", metavar="F", help="the password: the first line of F")
    pw.add_argument("--password-stdin", action="store_true", help="the password: the first line of stdin")
    p.add_argument("--datastore", action="append", metavar="RECORDED=OURS",
                   help="the recorded server's datastore URI -> ours (e.g. ca=calendar); repeatable")
    p.add_argument("--session", type=int, metavar="N", help="replay only the N-th session of the captures")
    p.add_argument("--log-level", default="error", choices=("debug", "info", "warning", "error"),
                   help="--in-process: our server's log lines on stderr from this level (default error: the "
                        "report says what differs; warning adds why a login was refused)")
    p.add_argument("--timeout", type=float, default=60.0, metavar="S",
                   help="--url: seconds to wait for each answer (default 60)")
    p.add_argument("--json", action="store_true", help="print one JSON document (docs/cli.md: syncml replay)")
    p.add_argument("--no-fail-on-diff", action="store_true",
                   help="exit 0 when the replay ran but found differences (failures still exit 1)")
    p.set_defaults(func=_cmd_replay)
