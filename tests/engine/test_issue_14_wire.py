"""Issue 14, part "wire": our DevInf within a small MaxMsgSize, and the
SyncML 1.2 ``Move`` for a pure move to hierarchical clients."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pytest

from syncml_codec.devinf import DevInf
from syncml_codec.engine import ClientSession, ClientStore, SyncServer
from syncml_codec.engine._devinf import fitted_devinf, server_devinf
from syncml_codec.filters import FILTER_RX
from syncml_codec.model import Alert, Cred, Message, Meta, Results
from syncml_codec.store import canonical_datastore

from ..conftest import CORPUS
from .conftest import Clock
from .helpers import challenge_nonce, device, prime, resign, vcard

K800I = CORPUS / "devices" / "smn+txsyncml" / "txsyncml" / "tests" / "fixtures" / "sony-ericsson-k800i-package1.xml"


def _session(server: SyncServer, store: ClientStore, *, encoding: str,
             max_msg_size: int) -> tuple[ClientSession, list[bytes]]:
    """A session of ``store`` against ``server``; the server's answers as sent."""
    session = ClientSession(store, url=server.base_url, user="test", password="secret", clock=Clock(),
                            encoding=encoding, max_msg_size=max_msg_size)
    answers: list[bytes] = []
    request = session.start()
    for _ in range(60):
        sid = parse_qs(urlsplit(request.url).query).get("sessionid", [None])[0]
        response = server.handle(request.body, request.content_type, sid)
        assert response.http_status == 200
        answers.append(response.body)
        next_request = session.receive(response.body, response.content_type)
        if next_request is None:
            return session, answers
        request = next_request
    raise AssertionError("the session did not end")


def _names(devinf: DevInf | None) -> set[str]:
    assert devinf is not None
    return {ds.display_name or canonical_datastore(ds.source_ref) or ds.source_ref for ds in devinf.datastores}


FULL = _names(server_devinf("syncml-codec"))


# -- our DevInf within the client's MaxMsgSize --------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["xml", "wbxml"])
@pytest.mark.parametrize("max_msg_size", [2700, 6000, 8192])
def test_our_devinf_fits_a_small_max_msg_size(make_server: Callable[..., SyncServer], encoding: str,
                                               max_msg_size: int, caplog: pytest.LogCaptureFixture) -> None:
    """Phones of the corpus announce 2700, 6000 and 8192 bytes (and so does
    the server here): every answer fits, and the client still gets our
    DevInf, at least its own datastore, and its items."""
    server = make_server(max_msg_size=max_msg_size)
    phone = prime(server, device("phone"))
    for n in range(12):
        phone.datastores["./addressbook"].add(vcard(n, "x" * 200))
    session, answers = _session(server, phone, encoding=encoding, max_msg_size=max_msg_size)
    assert session.ok, session.reports
    assert [len(a) for a in answers if len(a) > max_msg_size] == []
    assert "does not fit" not in caplog.text
    assert "Contacts" in _names(phone.server_devinf)
    assert len(server.store.items("test", "Contacts")) == 12
    if encoding == "xml" or max_msg_size == 2700:  # the whole one (9 kB XML, 3.3 kB WBXML) does not fit
        assert _names(phone.server_devinf) < FULL


def test_the_whole_devinf_when_it_fits(server: SyncServer) -> None:
    """A client with room gets every datastore, with its filters (Files' too)."""
    phone = prime(server, device("phone"))
    session, _answers = _session(server, phone, encoding="wbxml", max_msg_size=100_000)
    assert session.ok and phone.server_devinf is not None
    assert _names(phone.server_devinf) == FULL
    assert all(ds.filter_rx == (FILTER_RX,) and ds.filter_caps for ds in phone.server_devinf.datastores)


def test_the_reduced_devinf_keeps_what_the_client_lists(server: SyncServer) -> None:
    """The client's DevInf lists a calendar it does not alert now: our
    reduced DevInf keeps Events next to the alerted Contacts."""
    phone = prime(server, device("phone"))
    phone.add_datastore("./calendar", "calendar", "text/calendar", "2.0")
    session = ClientSession(phone, url=server.base_url, user="test", password="secret", clock=Clock(),
                            encoding="xml", max_msg_size=6000)
    request = session.start()
    msg = Message.from_bytes(request.body, request.content_type)  # alert the addressbook only
    commands = [c for c in msg.commands if not (isinstance(c, Alert) and c.items[0].source is not None
                                                and c.items[0].source.loc_uri == "./calendar")]
    body = msg.replace(body=dataclasses.replace(msg.body, commands=tuple(commands))).to_bytes("xml")
    response = server.handle(body, request.content_type, None)
    assert len(response.body) <= 6000
    reply = Message.from_bytes(response.body, response.content_type)
    (results,) = [c for c in reply.commands if isinstance(c, Results)]
    ours = DevInf.from_document(results.items[0].data)  # type: ignore[arg-type]
    assert {"Contacts", "Events"} <= _names(ours) < FULL


def test_fitted_devinf_steps_down_to_the_smallest() -> None:
    full = server_devinf("srv")
    sizes = []

    def fits(devinf: DevInf) -> bool:
        sizes.append(len(devinf.to_bytes("wbxml")))
        return False

    chosen, fitted = fitted_devinf(full, {"Contacts": {"text/x-vcard"}}, fits)
    assert not fitted and len(sizes) == 4 and sizes == sorted(sizes, reverse=True)
    (contacts,) = chosen.datastores
    assert contacts.source_ref == "Contacts" and not contacts.filter_caps and not contacts.filter_rx
    assert [t.ct_type for t in (*contacts.rx_pref, *contacts.rx)] == ["text/vcard", "text/x-vcard"]
    assert contacts.display_name is None and contacts.sync_types  # what it does stays
    chosen, fitted = fitted_devinf(full, {"Contacts": ()}, lambda d: len(d.datastores) == 1)
    assert fitted and chosen.datastores[0].filter_caps  # the filters stay when they fit
    chosen, fitted = fitted_devinf(full, {}, lambda d: not d.datastores[0].filter_caps)
    assert fitted and _names(chosen) == FULL  # nothing known of the client: every datastore, no filters


def test_a_devinf_too_large_for_any_message_is_sent_with_a_warning(
        make_server: Callable[..., SyncServer], caplog: pytest.LogCaptureFixture) -> None:
    """The smallest MaxMsgSize we take (2000) with three datastores in XML:
    the smallest DevInf goes, and the server says so."""
    server = make_server(max_msg_size=2000)
    phone = prime(server, device("phone"))
    phone.add_datastore("./calendar", "calendar", "text/calendar", "2.0")
    phone.add_datastore("./notes", "notes", "text/plain", "1.0")
    with caplog.at_level(logging.WARNING, "syncml_codec.engine"):
        session, _answers = _session(server, phone, encoding="xml", max_msg_size=2000)
    assert "smallest DevInf does not fit" in caplog.text
    assert phone.server_devinf is not None and all(not ds.filter_caps for ds in phone.server_devinf.datastores)
    assert session.ok


def test_real_k800i_package_1_with_a_get_gets_our_devinf_within_6000_bytes(server: SyncServer) -> None:
    """The K800i's package 1 (SyncML 1.2 XML, MaxMsgSize 6000, its DevInf
    with five datastores), with a Get of ours added: the answer fits."""
    store = ClientStore("IMEI:355704019189636")
    body = K800I.read_bytes()
    get = (b"<Get><CmdID>99</CmdID><Meta><Type xmlns=\"syncml:metinf\">application/vnd.syncml-devinf+xml"
           b"</Type></Meta><Item><Target><LocURI>./devinf12</LocURI></Target></Item></Get>")
    end = body.index(b"</Put>") + len(b"</Put>")
    body = body[:end] + get + body[end:]
    msg = Message.from_bytes(body)
    nonce = challenge_nonce(server, store)
    header = dataclasses.replace(msg.header, cred=Cred(meta=Meta(type="syncml:auth-md5", format="b64"), data=b""),
                                 source=dataclasses.replace(msg.header.source, loc_name="test"))
    body = resign(msg.replace(header=header).to_bytes("xml"), "application/vnd.syncml+xml", nonce)
    response = server.handle(body, "application/vnd.syncml+xml", None)
    assert response.http_status == 200 and len(response.body) <= 6000
    reply = Message.from_bytes(response.body)
    (results,) = [c for c in reply.commands if isinstance(c, Results)]
    ours = DevInf.from_document(results.items[0].data)  # type: ignore[arg-type]
    assert {"Contacts", "Events", "Tasks", "Notes"} <= _names(ours)
