"""First sync of a Maildir to our client session, in process (issue 14).

Not part of the test run.  Fills a Maildir with ``--messages`` messages of
about ``--size`` bytes, then times one first (slow) sync of the ``Mail``
datastore into an in-memory client over an SQLite store: in full and in
headers-only mode (IceWarp's "headers only": a ``<Filter>`` whose field
filter asks for ``emailitem`` alone), in both email formats.  Each run is a
process of its own, so its peak RSS is its own; it prints messages per
second and that peak.

    python benchmarks/mail_first_sync.py --messages 10000
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


def first_sync(root: Path, db: Path, ctype: str, headers_only: bool) -> tuple[float, int]:
    store = SQLiteStore(db)
    store.add_user("bench", "secret")
    server = SyncServer(store, base_url="http://127.0.0.1/sync", mail=MaildirRoot(root))
    client = ClientStore(f"bench-{ctype.split('/')[-1]}")
    client.add_datastore("./mail", "Mail", ctype)
    flt = MailFilter(headers_only=True).to_filter(datetime.now(timezone.utc), ctype) if headers_only else None
    session = ClientSession(client, url=server.base_url, user="bench", password="secret", auth_type="basic",
                            max_msg_size=1_000_000, filters={"./mail": flt} if flt is not None else None)
    started = time.perf_counter()
    request = session.start()
    while request is not None:
        sid = parse_qs(urlsplit(request.url).query).get("sessionid", [None])[0]
        response = server.handle(request.body, request.content_type, sid)
        request = session.receive(response.body, response.content_type)
    assert session.ok, session
    store.close()
    return time.perf_counter() - started, len(client.datastores["./mail"].items)


def one(root: Path, db: Path, ctype: str, mode: str) -> None:
    """One run (in its own process): a line of figures."""
    seconds, got = first_sync(root, db, ctype, mode == "headers")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(f"{mode:7} {ctype:32} {got:6} messages in {seconds:6.1f} s, {got / seconds:6.0f} messages/s, "
          f"peak RSS {rss} MB", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--size", type=int, default=2000, help="bytes per message (about)")
    parser.add_argument("--one", nargs=4, metavar=("ROOT", "DB", "TYPE", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        root, db, ctype, mode = args.one
        one(Path(root), Path(db), ctype, mode)
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "mail"
        fill(root, args.messages, args.size)
        print(f"{args.messages} messages of about {args.size} bytes")
        for n, (mode, ctype) in enumerate((m, t) for m in ("full", "headers") for t in TYPES):
            subprocess.run([sys.executable, __file__, "--one", str(root), str(Path(tmp) / f"{n}.db"), ctype, mode],
                           check=True)


if __name__ == "__main__":
    main()
