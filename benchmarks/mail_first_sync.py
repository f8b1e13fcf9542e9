"""First sync of a Maildir to our client session, in process (issue 14).

Not part of the test run.  Fills a Maildir with ``--messages`` messages of
about ``--size`` bytes, then times one first (slow) sync of the ``Mail``
datastore into an in-memory client over an SQLite store: in full and in
headers-only mode (IceWarp's "headers only": a ``<Filter>`` whose field
filter asks for ``emailitem`` alone), in both email formats.  Each run is a
process of its own, so its peak RSS is its own; it prints messages per
second and that peak.  ``--discard``: the client keeps no item data (only
its LUIDs), so the peak is the server's (and one message in flight);
``--datastore contacts``: the same first sync of as many vCards of about
``--size`` bytes from the SQL store (no Maildir).

    python benchmarks/mail_first_sync.py --messages 10000
    python benchmarks/mail_first_sync.py --messages 10000 --size 50000 --modes full --discard
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from syncml_codec.engine import ClientSession, ClientStore, SyncServer
from syncml_codec.filters import MailFilter
from syncml_codec.mail import MaildirBackend, MaildirRoot, account_maildir
from syncml_codec.store import SQLiteStore

TYPES = ("application/vnd.omads-email+xml", "message/rfc822")


def fill(root: Path, count: int, size: int) -> None:
    box = MaildirBackend(account_maildir(root, "bench"))
    body = ("x" * 71 + "\r\n") * max(1, size // 73)
    for n in range(count):
        box.add("INBOX", f"From: a{n}@example.org\r\nSubject: message {n}\r\nMessage-ID: <{n}@bench>\r\n\r\n{body}"
                .encode())


class _Discarding(dict[str, bytes]):
    """A client datastore's items without their data (``--discard``)."""

    def __setitem__(self, key: str, value: bytes) -> None:
        super().__setitem__(key, b"")


def fill_contacts(db: Path, count: int, size: int) -> None:
    store = SQLiteStore(db)
    store.add_user("bench", "secret")
    note = "x" * max(1, size - 120)
    with store.transaction():
        for n in range(count):
            store.add_item("bench", "Contacts", f"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Person {n}\r\nN:{n};Person;;;\r\n"
                           f"NOTE:{note}\r\nEND:VCARD\r\n".encode(), "text/vcard")
    store.close()


def first_sync(root: Path, db: Path, ctype: str, headers_only: bool, discard: bool = False) -> tuple[float, int]:
    store = SQLiteStore(db)
    store.add_user("bench", "secret")
    server = SyncServer(store, base_url="http://127.0.0.1/sync", mail=MaildirRoot(root))
    client = ClientStore(f"bench-{ctype.split('/')[-1]}")
    uri = "./mail" if ctype != "text/vcard" else "./contacts"
    client.add_datastore(uri, "Mail" if uri == "./mail" else "Contacts", ctype)
    if discard:
        client.datastores[uri].items = _Discarding()
    flt = MailFilter(headers_only=True).to_filter(datetime.now(timezone.utc), ctype) if headers_only else None
    session = ClientSession(client, url=server.base_url, user="bench", password="secret", auth_type="basic",
                            max_msg_size=1_000_000, filters={uri: flt} if flt is not None else None)
    started = time.perf_counter()
    request = session.start()
    while request is not None:
        sid = parse_qs(urlsplit(request.url).query).get("sessionid", [None])[0]
        response = server.handle(request.body, request.content_type, sid)
        request = session.receive(response.body, response.content_type)
    assert session.ok, session
    store.close()
    return time.perf_counter() - started, len(client.datastores[uri].items)


def one(root: Path, db: Path, ctype: str, mode: str) -> None:
    """One run (in its own process): a line of figures (``mode``: full|headers, ``+discard``)."""
    seconds, got = first_sync(root, db, ctype, mode.startswith("headers"), mode.endswith("+discard"))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(f"{mode:7} {ctype:32} {got:6} messages in {seconds:6.1f} s, {got / seconds:6.0f} messages/s, "
          f"peak RSS {rss} MB", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--size", type=int, default=2000, help="bytes per message (about)")
    parser.add_argument("--modes", default="full,headers", help="full and/or headers (comma-separated)")
    parser.add_argument("--discard", action="store_true", help="the client keeps no item data")
    parser.add_argument("--datastore", choices=("mail", "contacts"), default="mail")
    parser.add_argument("--one", nargs=4, metavar=("ROOT", "DB", "TYPE", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        root, db, ctype, mode = args.one
        one(Path(root), Path(db), ctype, mode)
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "mail"
        root.mkdir()
        suffix = "+discard" if args.discard else ""
        if args.datastore == "contacts":
            fill_contacts(Path(tmp) / "contacts.db", args.messages, args.size)
            print(f"{args.messages} contacts of about {args.size} bytes")
            runs = [("full", "text/vcard")]
        else:
            fill(root, args.messages, args.size)
            print(f"{args.messages} messages of about {args.size} bytes")
            runs = [(m, t) for m in args.modes.split(",") for t in TYPES]
        for n, (mode, ctype) in enumerate(runs):
            db = Path(tmp) / ("contacts.db" if args.datastore == "contacts" else f"{n}.db")
            subprocess.run([sys.executable, __file__, "--one", str(root), str(db), ctype, mode + suffix], check=True)


if __name__ == "__main__":
    main()
