"""The text of ``syncml inspect``: a session transcript
(:class:`~syncml_codec.capture.Transcript`) package by package, coloured on a
terminal.

Colour is a handful of ANSI SGR codes written here rather than a dependency
(rich, colorama): five colours and bold are all the transcript needs, every
terminal the command runs on understands them, and a library would add an
install and an import to every ``syncml`` run for that.  :func:`use_color`
decides: ``--color always|never``, or for ``auto`` (the default) a terminal
on stdout and no ``NO_COLOR`` in the environment (https://no-color.org);
``--color always`` wins over ``NO_COLOR``, as an explicit flag does.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TextIO

from ..capture import (
    ChunkedItem,
    CommandRecord,
    DatastoreRecord,
    MessageRecord,
    PackageRecord,
    SessionTranscript,
    Transcript,
)

__all__ = ["Style", "render", "use_color"]

_CODES = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "blue": "34", "magenta": "35",
          "cyan": "36"}
_STATUS_RUN = 6  # CmdRefs listed for a run of equal statuses before "..."


def use_color(choice: str, stream: TextIO) -> bool:
    """Whether to colour what goes to ``stream`` (see the module doc)."""
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class Style:
    """ANSI styling, or none: ``Style(False)`` returns text unchanged."""

    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, text: str, *styles: str) -> str:
        if not self.color or not styles:
            return text
        return "\x1b[" + ";".join(_CODES[s] for s in styles) + "m" + text + "\x1b[0m"

    def code(self, code: int | None, text: str) -> str:
        """A status code's text: green 2xx, yellow 1xx/3xx, red 4xx/5xx."""
        if code is None:
            return self(text, "red")
        return self(text, "green" if 200 <= code < 300 else "yellow" if code < 400 else "red")

    def outcome(self, outcome: str) -> str:
        return self(outcome, "bold", {"completed": "green", "failed": "red"}.get(outcome, "yellow"))


def _runs(texts: Sequence[str]) -> str:
    """``a, b (x3)``: equal neighbours said once with their count."""
    out: list[str] = []
    i = 0
    while i < len(texts):
        j = i + 1
        while j < len(texts) and texts[j] == texts[i]:
            j += 1
        out.append(texts[i] + (f" (x{j - i})" if j - i > 1 else ""))
        i = j
    return ", ".join(out)


def _seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}s"


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items()) or "nothing"


def _code_text(code: int | None, meaning: str | None) -> str:
    return f"{code if code is not None else '?'} {meaning or ''}".rstrip()


def _uris(rec: CommandRecord) -> str:
    if rec.source is None and rec.target is None:
        return ""
    if rec.target is None:
        return f" from {rec.source}"
    if rec.source is None:
        return f" to {rec.target}"
    return f" {rec.source} -> {rec.target}"


def _command(rec: CommandRecord, st: Style) -> str:
    head = st(rec.name, "bold") + (f" #{rec.cmd_id}" if rec.cmd_id else "")
    if rec.name == "Alert":
        code = st(_code_text(rec.code, rec.meaning), "magenta" if rec.code in range(221, 227) else "cyan")
        return f"{head} {code}:{_uris(rec)}" if _uris(rec) else f"{head} {code}"
    if rec.name in ("Sync", "Atomic", "Sequence"):
        text = f"{head}{_uris(rec)}: {_counts(rec.changes)}"
        if rec.more_data:
            text += st(f" ({rec.more_data} chunked, MoreData)", "yellow")
        return text
    if rec.name == "Map":
        return f"{head}{_uris(rec)}: {rec.items} mapping{'s' if rec.items != 1 else ''}"
    text = head + _uris(rec)
    if rec.items:
        text += f" ({rec.items} item{'s' if rec.items != 1 else ''})"
    if rec.more_data:
        text += st(" MoreData", "yellow")
    if rec.cred:
        text += f" [credentials {rec.cred}]"
    return text


def _status_key(rec: CommandRecord) -> tuple[object, ...]:
    a = rec.answers
    return (rec.code, a.cmd if a else None, a.msg_ref if a else None, rec.chal_type, rec.next_nonce)


def _status(run: Sequence[CommandRecord], st: Style) -> str:
    first = run[0]
    a = first.answers
    refs = [f"#{r.answers.cmd_ref}" for r in run if r.answers is not None and r.answers.cmd_ref is not None]
    shown = ", ".join(refs[:_STATUS_RUN]) + (f", ... ({len(refs)} in all)" if len(refs) > _STATUS_RUN else "")
    what = f"{a.cmd or '?'} {shown} of msg {a.msg_ref or '?'}" if a is not None else "?"
    text = f"{st('Status', 'bold')} {st.code(first.code, _code_text(first.code, first.meaning))} -> {what}"
    if len(run) == 1 and a is not None:
        refs_n = [f"{n} {k}" for k, n in (("TargetRef", a.target_refs), ("SourceRef", a.source_refs)) if n]
        if refs_n:
            text += f" ({', '.join(refs_n)})"
    if first.chal_type:
        text += st(f" [challenge {first.chal_type}{', NextNonce' if first.next_nonce else ''}]", "yellow")
    return text


def _commands(cmds: Sequence[CommandRecord], indent: str, st: Style, out: list[str]) -> None:
    i = 0
    while i < len(cmds):
        rec = cmds[i]
        if rec.name == "Status":
            j = i + 1
            while j < len(cmds) and cmds[j].name == "Status" and _status_key(cmds[j]) == _status_key(rec):
                j += 1
            out.append(indent + _status(cmds[i:j], st))
            i = j
            continue
        out.append(indent + _command(rec, st))
        if rec.commands:
            _commands(rec.commands, indent + "    ", st, out)
        i += 1


def _message(rec: MessageRecord, st: Style, out: list[str]) -> None:
    arrow = {"client": st("client -> server", "bold", "blue"), "server": st("server -> client", "bold", "cyan")}
    san = rec.encoding == "san"
    parts = [arrow.get(rec.direction, st("? -> ?", "bold", "yellow")),
             "notification" if san else f"msg {rec.msg_id or '?'}",
             f"{rec.size} bytes" if san else f"{rec.size} bytes {rec.encoding.upper()}"]
    if rec.time is not None:
        parts.append(f"at +{_seconds(rec.time)} (gap {_seconds(rec.gap)})")
    if rec.http_status is not None:
        parts.append(st.code(rec.http_status, f"HTTP {rec.http_status}"))
    if rec.cred:
        parts.append(f"credentials {rec.cred}")
    if rec.error is None and not san:
        parts.append(st("Final", "green") if rec.final else st("not final", "yellow"))
    out.append("    " + "  ".join(parts) + st(f"  [{rec.origin}]", "dim"))
    if rec.error is not None:
        out.append("        " + st(f"could not be read: {rec.error}", "red"))
        return
    if rec.problem is not None:
        out.append("        " + st(f"not valid SyncML (read leniently): {rec.problem}", "yellow"))
    if rec.resp_uri:
        out.append(f"        RespURI {rec.resp_uri}")
    _commands(rec.commands, "        ", st, out)


def _package(pkg: PackageRecord, st: Style, out: list[str]) -> None:
    numbers = "+".join(str(n) for n in pkg.numbers) or "?"
    n = len(pkg.messages)
    tail = "" if pkg.complete else st("  (no Final: the package is not finished)", "yellow")
    sender = f"from the {pkg.sender}" if pkg.sender in ("client", "server") else "sender unknown"
    out.append(f"  {st(f'Package {numbers}', 'bold')}: {pkg.name} ({sender}, "
               f"{n} message{'s' if n != 1 else ''}){tail}")
    for rec in pkg.messages:
        _message(rec, st, out)


def _datastore(ds: DatastoreRecord, st: Style, out: list[str]) -> None:
    asked = _code_text(ds.asked, ds.asked_meaning) if ds.asked is not None else "-"
    granted = _code_text(ds.granted, ds.granted_meaning) if ds.granted is not None else "-"
    names = f"{st(ds.client_uri or '?', 'bold')} -> {st(ds.server_uri or '?', 'bold')}"
    line = f"    {names}: asked {st(asked, 'cyan')}, granted {st(granted, 'cyan')}"
    if ds.alert_status is not None:
        line += f" (Alert answered {st.code(ds.alert_status, str(ds.alert_status))})"
    out.append(line)
    out.append(f"        anchors: client last={ds.client_last or '-'} next={ds.client_next or '-'}; "
               f"server last={ds.server_last or '-'} next={ds.server_next or '-'}")
    out.append(f"        from client: {_counts(ds.from_client)}; from server: {_counts(ds.from_server)}")


def _chunk(c: ChunkedItem, st: Style) -> str:
    size = f"{c.received_size} bytes" + (f" of {c.declared_size} declared" if c.declared_size is not None else "")
    state = st("complete", "green") if c.complete else st("INCOMPLETE", "red")
    return f"    {c.command} {c.uri or '?'} from the {c.sender}: {c.chunks} chunks, {size}: {state}"


def _session(tr: SessionTranscript, st: Style, out: list[str]) -> None:
    if tr.kind == "san":
        out.append(st(f"Session {tr.index}: Data Sync Notification (package 0)", "bold") + "  "
                   + st.outcome(tr.outcome))
        san = tr.san
        for pkg in tr.packages:
            for rec in pkg.messages:
                _message(rec, st, out)
        if san is None or san.error is not None:
            out.append("  " + st(f"not a notification: {san.error if san else '?'}", "red"))
            return
        out.append(f"  SyncML {san.version}, UI mode {san.ui_mode}, initiated by the {san.initiator}, "
                   f"session {san.session_id}, server {san.server_id!r}")
        if not san.datastores:
            out.append("  every datastore (no sync named)")
        for alert in san.datastores:
            out.append(f"  alert {st(f'{alert.sync_type} {alert.meaning}', 'cyan')}: {alert.server_uri!r}, "
                       f"{alert.content_type or 'content type not given'}")
        return
    who = f"device {tr.device or '?'} -> server {tr.server or '?'}"
    out.append(st(f"Session {tr.index}: SessionID {tr.session_id or '?'}, {who}", "bold") + "  "
               + st.outcome(tr.outcome))
    n = len(tr.messages)
    facts = [f"SyncML {tr.version or '?'}", (tr.encoding or "?").upper(), f"{n} message{'s' if n != 1 else ''}",
             f"{len(tr.packages)} package{'s' if len(tr.packages) != 1 else ''}"]
    if tr.duration is not None:
        facts.append(f"{_seconds(tr.duration)} long")
    out.append("  " + ", ".join(facts))
    for uri in tr.resp_uris:
        out.append(f"  RespURI {uri}")
    auth = tr.auth
    creds = ", ".join(f"{c.scheme} in {c.where} (message {c.message})" for c in auth.credentials) or "none sent"
    verdicts = _runs([
        st.code(v.code, _code_text(v.code, v.meaning))
        + (f" [challenge {v.chal_type}{', NextNonce' if v.next_nonce else ''}]" if v.chal_type else "")
        for v in auth.verdicts]) or "none seen"
    colour = {"authenticated": "green", "refused": "red"}.get(auth.outcome, "yellow")
    out.append(f"  {st('Auth', 'bold')}: credentials {creds}; server {verdicts}: {st(auth.outcome, colour)}")
    if tr.datastores:
        out.append(f"  {st('Datastores', 'bold')}:")
        for ds in tr.datastores:
            _datastore(ds, st, out)
    for pkg in tr.packages:
        _package(pkg, st, out)
    if tr.chunked_items:
        out.append(f"  {st('Chunked items (MoreData)', 'bold')}:")
        out += [_chunk(c, st) for c in tr.chunked_items]
    if tr.alerts:
        seen = _runs([_code_text(a.code, a.meaning) for a in tr.alerts])
        out.append(f"  Control alerts: {seen}")
    for err in tr.errors:
        out.append("  " + st(f"error: {err}", "red"))
    out.append(f"  {st('Outcome', 'bold')}: {st.outcome(tr.outcome)} ({tr.reason})")


def render(transcript: Transcript, st: Style) -> str:
    """The transcript as text: the inputs' skipped things as info lines, then
    each session."""
    out: list[str] = []
    for inp in transcript.inputs:
        for note in inp.notes:
            if not note["error"]:
                out.append(st(f"info: {note['origin']}: {note['text']}", "dim"))
    for tr in transcript.sessions:
        if out:
            out.append("")
        _session(tr, st, out)
    return "\n".join(out)
