"""``syncml bench``: how fast the codec reads and writes *your* traffic.

Four operations are timed on every message: ``decode`` (WBXML -> XML,
``wbxml_to_xml``), ``encode`` (XML -> WBXML, ``xml_to_wbxml``) and
``from_bytes_wbxml`` / ``from_bytes_xml`` (WBXML / XML bytes ->
:class:`~syncml_codec.model.Message`).  Each message is used in both forms:
a WBXML message as captured and as XML (our decoder's, compact), an XML
message as captured and as WBXML (our encoder's).

The messages come from the inputs (files, directories, ``-``, and every
capture kind ``--input`` knows: pcaps, HTTP dumps, logs... through
:func:`._captures.load_captures`), or, with no input, from the built-in
set: a session of our own client against our own server, run in memory
when the command starts (slow sync and two-way sync of contacts and
events, once in WBXML and once in XML).  The package ships no traffic.

A message that cannot be read (not SyncML, a SAN, a broken document) is
skipped with a note and counted; libwbxml2, when installed, is timed on the
same messages in the same run (the ones it accepts) and the ratio given.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

from ..codec import wbxml as _selector
from ..codec.detect import looks_like_wbxml
from ..codec.libwbxml import LibWBXML, LibWBXMLError, load_libwbxml
from ..codec.xml import parse_xml
from ..errors import SyncMLError
from ._captures import add_input_argument, load_captures
from ._common import CommandError

__all__ = ["register"]

MAX_MESSAGES = 100_000  # messages timed at most (the rest are counted as skipped)
MAX_BYTES = 512 * 2**20  # total size of the messages timed, at most
OPERATIONS = ("decode", "encode", "from_bytes_wbxml", "from_bytes_xml")
_TITLES = {"decode": "decode WBXML->XML", "encode": "encode XML->WBXML",
           "from_bytes_wbxml": "from_bytes WBXML", "from_bytes_xml": "from_bytes XML"}


@dataclasses.dataclass
class _Sample:
    origin: str
    wbxml: bytes
    xml: bytes
    original: bytes
    readable: bool  # Message.from_bytes reads it (in both forms)
    lib_decodes: bool = False
    lib_encodes: bool = False


@dataclasses.dataclass
class _Result:
    operation: str
    impl: str
    messages: int
    bytes: int
    rounds: int
    seconds: float
    ratio_to_libwbxml: float | None = None

    @property
    def msgs_per_s(self) -> float:
        return self.messages * self.rounds / self.seconds if self.seconds > 0 else 0.0

    @property
    def mb_per_s(self) -> float:
        return self.bytes * self.rounds / self.seconds / 1e6 if self.seconds > 0 else 0.0

    def as_json(self) -> dict[str, Any]:
        return {"operation": self.operation, "impl": self.impl, "messages": self.messages, "bytes": self.bytes,
                "rounds": self.rounds, "seconds": round(self.seconds, 6),
                "msgs_per_s": round(self.msgs_per_s, 3), "mb_per_s": round(self.mb_per_s, 6),
                "ratio_to_libwbxml": None if self.ratio_to_libwbxml is None else round(self.ratio_to_libwbxml, 4)}


# -- the built-in set -------------------------------------------------------------------
def _contact(n: int, changed: bool = False) -> bytes:
    lines = ["BEGIN:VCARD", "VERSION:3.0", f"N:Tester{n};Pat;Q.;Dr.;", f"FN:Dr. Pat Q. Tester{n}",
             f"ORG:Example Works {n % 7};Sales", f"TITLE:Agent {n}",
             f"TEL;TYPE=WORK,VOICE:+1-555-01{n:02d}", f"TEL;TYPE=CELL:+1-555-02{n:02d}",
             f"EMAIL;TYPE=INTERNET:pat{n}@example.org", f"ADR;TYPE=WORK:;;{n} Main Street;Springfield;;12345;USA",
             f"NOTE:{'changed ' if changed else ''}contact number {n}\\, made for syncml bench",
             f"BDAY:19{50 + n % 50:02d}-0{1 + n % 9}-1{n % 10}"]
    return ("\r\n".join([*lines, "END:VCARD"]) + "\r\n").encode()


def _event(n: int) -> bytes:
    day = 1 + n % 28
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//syncml-codec//bench//EN", "BEGIN:VEVENT",
             f"UID:bench-event-{n}@example.org", f"DTSTAMP:20260101T0{n % 10}0000Z",
             f"DTSTART:202601{day:02d}T090000Z", f"DTEND:202601{day:02d}T100000Z",
             f"SUMMARY:Meeting {n}", f"LOCATION:Room {n % 5}", "DESCRIPTION:weekly, with agenda",
             *(["RRULE:FREQ=WEEKLY;COUNT=10"] if n % 3 == 0 else []), "END:VEVENT", "END:VCALENDAR"]
    return ("\r\n".join(lines) + "\r\n").encode()


def builtin_messages() -> list[tuple[str, bytes]]:
    """Our own traffic, made now: a client (:class:`~syncml_codec.engine.ClientSession`)
    syncing 40 contacts and 20 events with a server in memory (a slow sync,
    then a two-way sync with changes on both sides), in WBXML and in XML;
    every request and response, as ``(origin, body)``."""
    from urllib.parse import parse_qs, urlsplit

    from ..engine import ClientSession, ClientStore, SyncServer
    from ..store import SQLiteStore

    def clock() -> Callable[[], float]:
        now = [1_780_000_000.0]

        def tick() -> float:
            now[0] += 1.0
            return now[0]
        return tick

    counter = iter(range(1, 1 << 30))
    store = SQLiteStore(":memory:")
    store.add_user("bench", "bench-secret")
    server = SyncServer(store, clock=clock(), random_source=lambda n: bytes((next(counter) * 7 + i * 13) % 256
                                                                            for i in range(n)))
    out: list[tuple[str, bytes]] = []
    for encoding in ("wbxml", "xml"):
        device = ClientStore(f"bench-{encoding}")
        contacts = device.add_datastore("./addressbook", "addressbook", "text/vcard", "3.0")
        events = device.add_datastore("./calendar", "calendar", "text/calendar", "2.0")
        luids = [contacts.add(_contact(n)) for n in range(40)]
        for n in range(20):
            events.add(_event(n))
        for step in ("slow", "two-way"):
            if step == "two-way":
                for n, luid in enumerate(luids[:10]):
                    contacts.update(luid, _contact(n, changed=True))
                for luid in luids[10:13]:
                    contacts.delete(luid)
            session = ClientSession(device, url=server.base_url, user="bench", password="bench-secret",
                                    encoding=encoding, clock=clock(), max_msg_size=20_000)
            request = session.start()
            for n in range(1, 100):
                sid = parse_qs(urlsplit(request.url).query).get("sessionid", [None])[0]
                response = server.handle(request.body, request.content_type, sid)
                out.append((f"built-in {encoding} {step} request {n}", request.body))
                out.append((f"built-in {encoding} {step} response {n}", response.body))
                nxt = session.receive(response.body, response.content_type)
                if nxt is None:
                    break
                request = nxt
    return out


# -- preparing and timing ---------------------------------------------------------------
def _impls(choice: str | None) -> dict[str, ModuleType]:
    """name -> WBXML module (``decode``, ``encode``, ``wbxml_to_xml``, ``xml_to_wbxml``)."""
    found = _selector.available_implementations()
    if choice in (None, "in-use"):
        return {_selector.IMPLEMENTATION: _selector.implementation}
    if choice == "both":
        return dict(sorted(found.items()))
    if choice not in found:
        raise CommandError(f"--impl {choice}: the Cython extension is not available here "
                           "(a pure-Python install); use --impl python")
    return {choice: found[choice]}


def _from_bytes(name: str, module: ModuleType) -> Callable[[bytes], Any]:
    """What ``Message.from_bytes`` is with this implementation: the public
    call when it is the one in use, else the model over that codec (as the
    benchmarks' contenders do)."""
    from ..model import Message

    if name == _selector.IMPLEMENTATION:
        return Message.from_bytes

    def read(data: bytes) -> Any:
        doc = module.decode(data) if looks_like_wbxml(data) else parse_xml(data)
        return Message.from_document(doc)
    return read


def _prepare(messages: Sequence[tuple[str, bytes]], lib: LibWBXML | None,
             skipped: list[tuple[str, str]]) -> list[_Sample]:
    from ..model import Message

    out: list[_Sample] = []
    total = 0
    for origin, data in messages:
        if len(out) >= MAX_MESSAGES or total + len(data) > MAX_BYTES:
            skipped.append((origin, f"over the limit of {MAX_MESSAGES} messages / {MAX_BYTES >> 20} MB timed"))
            continue
        try:
            if looks_like_wbxml(data):
                wbxml, xml = data, _selector.wbxml_to_xml(data, pretty=False)
            else:
                xml, wbxml = data, _selector.xml_to_wbxml(data)
        except (SyncMLError, ValueError) as exc:
            skipped.append((origin, f"not a WBXML or XML document we read: {exc}"))
            continue
        except Exception as exc:  # a codec bug must not end the run: named, counted, skipped
            skipped.append((origin, f"not a WBXML or XML document we read: {type(exc).__name__}: {exc}"))
            continue
        try:
            Message.from_bytes(wbxml)
            Message.from_bytes(xml)
            readable = True
        except Exception:  # not a message for the model, whatever the reason: left out of from_bytes
            readable = False
        sample = _Sample(origin, wbxml, xml, data, readable)
        if lib is not None:
            sample.lib_decodes = _lib_ok(lib.wbxml_to_xml, wbxml)
            sample.lib_encodes = _lib_ok(lib.xml_to_wbxml, xml)
        out.append(sample)
        total += len(data)
    return out


def _lib_ok(fn: Callable[[bytes], bytes], data: bytes) -> bool:
    try:
        fn(data)
    except LibWBXMLError:
        return False
    return True


Timed = tuple[Callable[[bytes], Any], list[bytes]]


def _pass(fn: Callable[[bytes], Any], inputs: list[bytes]) -> float:
    start = time.perf_counter()
    for data in inputs:
        fn(data)
    return time.perf_counter() - start


def _time(*contenders: Timed, seconds: float, rounds: int | None) -> list[tuple[int, float]]:
    """(passes, seconds) per contender ``(function, inputs)``, each pass one
    call per input.  ``rounds``: that many passes each, in turns; else the
    contenders take turns of about 50 ms (whole passes) until each has run
    ``seconds``, so that a busy spell of the machine slows them alike."""
    done = [0] * len(contenders)
    spent = [0.0] * len(contenders)
    if rounds is not None:
        for _ in range(rounds):
            for n, (fn, inputs) in enumerate(contenders):
                spent[n] += _pass(fn, inputs)
                done[n] += 1
        return list(zip(done, spent, strict=True))
    turn = min(0.05, seconds / 10)
    while min(spent) < seconds:
        for n, (fn, inputs) in enumerate(contenders):
            if spent[n] >= seconds:
                continue
            used = 0.0
            while used < turn:
                used += _pass(fn, inputs)
                done[n] += 1
            spent[n] += used
    return list(zip(done, spent, strict=True))


def _inputs(samples: list[_Sample], operation: str, which: str = "all") -> list[bytes]:
    def keep(s: _Sample) -> bool:
        if which == "all":
            return True
        return s.lib_decodes if operation == "decode" else s.lib_encodes

    if operation == "decode":
        return [s.wbxml for s in samples if keep(s)]
    if operation == "encode":
        return [s.xml for s in samples if keep(s)]
    return [s.wbxml if operation == "from_bytes_wbxml" else s.xml for s in samples if s.readable]


def _run_bench(samples: list[_Sample], impls: dict[str, ModuleType], lib: LibWBXML | None,
               seconds: float, rounds: int | None) -> list[_Result]:
    """Each implementation on every message; libwbxml, when there, in turns
    with each of ours on the messages it accepts (its row sums those runs),
    the ratio from the runs that took turns."""
    results: list[_Result] = []
    for operation in OPERATIONS:
        full = _inputs(samples, operation)
        if not full:
            continue
        lib_inputs = _inputs(samples, operation, "lib") if lib is not None and operation in ("decode", "encode") \
            else []
        lib_fn = None if lib is None else lib.wbxml_to_xml if operation == "decode" else lib.xml_to_wbxml
        lib_runs = [0, 0.0]
        for name, module in impls.items():
            ours = _operation(operation, name, module)
            if lib_fn is None or not lib_inputs:
                ((r, t),) = _time((ours, full), seconds=seconds, rounds=rounds)
                results.append(_Result(operation, name, len(full), sum(map(len, full)), r, t))
                continue
            if len(lib_inputs) == len(full):
                (r, t), (lr, lt) = _time((ours, full), (lib_fn, lib_inputs), seconds=seconds, rounds=rounds)
                same = (r, t)
            else:  # libwbxml refused some: ours on all of them, and in turns with it on the others
                ((r, t),) = _time((ours, full), seconds=seconds, rounds=rounds)
                same, (lr, lt) = _time((ours, lib_inputs), (lib_fn, lib_inputs), seconds=seconds, rounds=rounds)
            result = _Result(operation, name, len(full), sum(map(len, full)), r, t)
            result.ratio_to_libwbxml = (same[0] / same[1]) / (lr / lt) if same[1] > 0 and lt > 0 else None
            results.append(result)
            lib_runs[0] += lr
            lib_runs[1] += lt
        if lib_runs[0]:
            results.append(_Result(operation, "libwbxml", len(lib_inputs), sum(map(len, lib_inputs)),
                                   int(lib_runs[0]), lib_runs[1]))
    return results


def _operation(operation: str, name: str, module: ModuleType) -> Callable[[bytes], Any]:
    if operation == "decode":
        return lambda data: module.wbxml_to_xml(data, pretty=False)
    if operation == "encode":
        return module.xml_to_wbxml  # type: ignore[no-any-return]
    return _from_bytes(name, module)


# -- the command ------------------------------------------------------------------------
def _gather(args: argparse.Namespace) -> tuple[list[tuple[str, bytes]], list[tuple[str, str]], list[str], str]:
    """(messages, skipped, input errors, source description)."""
    if not args.inputs:
        made = builtin_messages()
        return made, [], [], f"the built-in set ({len(made)} messages of our client and server, made now)"
    messages: list[tuple[str, bytes]] = []
    skipped: list[tuple[str, str]] = []
    errors: list[str] = []
    captures = load_captures(args.inputs, args.input)
    for cap in captures:
        for note in cap.notes:
            if note.error:
                errors.append(str(note))
        for msg in cap.messages:
            if msg.kind == "san":
                skipped.append((msg.origin, "a SAN (server-alerted sync notification), not a SyncML document"))
            else:
                messages.append((msg.origin, msg.data))
    return messages, skipped, errors, f"{len(captures)} input files"


def _run(args: argparse.Namespace) -> None:
    if args.seconds <= 0 or (args.rounds is not None and args.rounds < 1):
        raise CommandError("--seconds must be above 0 and --rounds at least 1")
    impls = _impls(args.impl)
    lib, lib_note = (None, "not asked for (--no-libwbxml)") if args.no_libwbxml else load_libwbxml()
    messages, skipped, errors, source = _gather(args)
    samples = _prepare(messages, lib, skipped)
    for line in errors:
        print(f"syncml bench: {line}", file=sys.stderr)
    if not samples:
        _skipped_lines(skipped, args.verbose)
        raise CommandError(f"no SyncML message to time in {source}")
    results = _run_bench(samples, impls, lib, args.seconds, args.rounds)
    summary = {
        "implementation": _selector.IMPLEMENTATION, "source": "built-in" if not args.inputs else "inputs",
        "inputs": list(args.inputs), "messages": len(samples),
        "wbxml_messages": sum(1 for s in samples if s.original is s.wbxml),
        "xml_messages": sum(1 for s in samples if s.original is not s.wbxml),
        "bytes": sum(len(s.original) for s in samples),
        "not_read_by_model": sum(1 for s in samples if not s.readable),
        "skipped": len(skipped), "skipped_messages": [{"origin": o, "reason": r} for o, r in skipped[:1000]],
        "input_errors": errors,
        "libwbxml": {"available": lib is not None, "name": lib.name if lib else None, "note": lib_note,
                     "refused_decode": sum(1 for s in samples if lib and not s.lib_decodes),
                     "refused_encode": sum(1 for s in samples if lib and not s.lib_encodes)},
        "seconds_per_operation": None if args.rounds else args.seconds, "rounds": args.rounds,
        "results": [r.as_json() for r in results],
    }
    if args.json:
        sys.stdout.write(json.dumps(summary, indent=2) + "\n")
    else:
        _print_table(summary, results, source)
    _skipped_lines(skipped, args.verbose)
    if errors:
        raise CommandError(f"{len(errors)} inputs could not be read (see above); the others were timed")


def _print_table(summary: dict[str, Any], results: list[_Result], source: str) -> None:
    out = sys.stdout
    print(f"syncml bench: {summary['messages']} messages ({summary['wbxml_messages']} WBXML, "
          f"{summary['xml_messages']} XML, {summary['bytes'] / 1e3:.1f} kB) from {source}", file=out)
    print(f"implementation in use: {summary['implementation']}; "
          + (f"libwbxml: {summary['libwbxml']['name']}" if summary["libwbxml"]["available"]
             else f"libwbxml: {summary['libwbxml']['note']}"), file=out)
    print(f"{'operation':<20} {'impl':<9} {'msgs':>6} {'msgs/s':>11} {'MB/s':>9} {'rounds':>7}  ours/libwbxml",
          file=out)
    for r in results:
        ratio = "" if r.ratio_to_libwbxml is None else f"{r.ratio_to_libwbxml:.2f}x"
        print(f"{_TITLES[r.operation]:<20} {r.impl:<9} {r.messages:>6} {r.msgs_per_s:>11.1f} {r.mb_per_s:>9.2f} "
              f"{r.rounds:>7}  {ratio}", file=out)
    lib = summary["libwbxml"]
    if lib["available"] and (lib["refused_decode"] or lib["refused_encode"]):
        print(f"libwbxml refused {lib['refused_decode']} messages to decode and {lib['refused_encode']} to "
              "encode: its figures and the ratio are on the others", file=out)
    if summary["not_read_by_model"]:
        print(f"{summary['not_read_by_model']} messages are not SyncML messages for the model "
              "(DevInf documents, broken structure): left out of from_bytes", file=out)


def _skipped_lines(skipped: list[tuple[str, str]], verbose: bool) -> None:
    if not skipped:
        return
    err = sys.stderr
    print(f"syncml bench: {len(skipped)} messages skipped:", file=err)
    for reason, count in Counter(r.split(": ", 1)[0] for _, r in skipped).most_common():
        print(f"  {count} x {reason}", file=err)
    shown = skipped if verbose else skipped[:5]
    for origin, reason in shown:
        print(f"  {origin}: {reason}", file=err)
    if len(shown) < len(skipped):
        print(f"  ... {len(skipped) - len(shown)} more (-v lists them all)", file=err)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "bench", help="time decode, encode and Message.from_bytes on your traffic",
        description="Throughput (messages/s and MB/s) of WBXML->XML decoding, XML->WBXML encoding and "
                    "Message.from_bytes (of WBXML and of XML; each message is used in both forms, the other "
                    "made by our codec) on the messages in the inputs (files, directories, - for stdin, any "
                    "capture --input reads: pcap, HTTP dumps, logs...). Without inputs: the built-in set, a "
                    "session of our own client and server (contacts and events, WBXML and XML) run in memory "
                    "first; the package ships no traffic. libwbxml2 is timed on the same messages when it is "
                    "installed (SYNCML_CODEC_LIBWBXML names the library, 'none' leaves it out). Messages that "
                    "cannot be read are skipped and counted; exit status 1 only when an input cannot be read "
                    "or nothing could be timed.")
    p.add_argument("inputs", nargs="*", metavar="INPUT", help="files, directories, captures; - for stdin")
    add_input_argument(p)
    p.add_argument("--seconds", type=float, default=2.0, metavar="S",
                   help="time each operation for at least S seconds (whole passes over the messages; default 2)")
    p.add_argument("--rounds", type=int, default=None, metavar="N",
                   help="exactly N passes over the messages per operation instead of --seconds")
    p.add_argument("--impl", choices=("in-use", "python", "cython", "both"), default="in-use",
                   help="WBXML implementation(s) to time (default: the one in use, "
                        f"here {_selector.IMPLEMENTATION})")
    p.add_argument("--no-libwbxml", action="store_true", help="do not time libwbxml2 even when installed")
    p.add_argument("--json", action="store_true", help="one JSON document on stdout instead of the table")
    p.add_argument("-v", "--verbose", action="store_true", help="list every skipped message")
    p.set_defaults(func=_run)
