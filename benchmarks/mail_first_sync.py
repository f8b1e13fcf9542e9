"""First sync of a Maildir to our client session, in process (issue 14).

Not part of the test run.  Fills a Maildir with ``--messages`` messages of
about ``--size`` bytes, then times one first (slow) sync of the ``Mail``
datastore into an in-memory client over an SQLite store, in both email
formats, and prints messages per second and the process's peak RSS.
Headers-only mode waits for the filters to be wired into the engine.

    python benchmarks/mail_first_sync.py --messages 10000
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from syncml_codec.engine import ClientSession, ClientStore, SyncServer
from syncml_codec.mail import MaildirBackend, MaildirRoot, account_maildir
from syncml_codec.store import SQLiteStore


def fill(root: Path, count: int, size: int) -> None:
    box = MaildirBackend(account_maildir(root, "bench"))
    body = ("x" * 71 + "\r\n") * max(1, size // 73)
    for n in range(count):
        box.add("INBOX", f"From: a{n}@example.org\r\nSubject: message {n}\r\nMessage-ID: <{n}@bench>\r\n\r\n{body}"
                .encode())


def first_sync(root: Path, db: Path, ctype: str) -> tuple[float, int]:
    store = SQLiteStore(db)
    store.add_user("bench", "secret")
    server = SyncServer(store, base_url="http://127.0.0.1/sync", mail=MaildirRoot(root))
    client = ClientStore(f"bench-{ctype.split('/')[-1]}")
    client.add_datastore("./mail", "Mail", ctype)
    session = ClientSession(client, url=server.base_url, user="bench", password="secret", auth_type="basic",
                            max_msg_size=1_000_000)
    started = time.perf_counter()
    request = session.start()
    while request is not None:
        sid = parse_qs(urlsplit(request.url).query).get("sessionid", [None])[0]
        response = server.handle(request.body, request.content_type, sid)
        request = session.receive(response.body, response.content_type)
    assert session.ok, session
    store.close()
    return time.perf_counter() - started, len(client.datastores["./mail"].items)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--size", type=int, default=2000, help="bytes per message (about)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "mail"
        fill(root, args.messages, args.size)
        for n, ctype in enumerate(("application/vnd.omads-email+xml", "message/rfc822")):
            seconds, got = first_sync(root, Path(tmp) / f"{n}.db", ctype)
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
            print(f"{ctype}: {got} messages in {seconds:.1f} s, {got / seconds:.0f} messages/s, "
                  f"peak RSS {rss} MB")


if __name__ == "__main__":
    main()
