"""Issue 14 item 4: SyncML 1.2 filters as a library (``syncml_codec.filters``).

Table-driven: the CGI grammar (trees, round trips, errors with positions), record filters on
vCard, iCalendar/vCalendar, SIF, email and file items (what each must include and exclude),
the calendar date range with recurrences, field filters (Versit and mail), whole ``<Filter>``
elements read from a message, IceWarp's mail filters, filter changes, and the DevInf side.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from syncml_codec.devinf import ContentType, CTCap, DataStore, DevInf, Property, PropParam
from syncml_codec.errors import FilterError
from syncml_codec.filters import (
    FILTER_RX,
    MAX_OCCURRENCES,
    And,
    Comparison,
    DateRange,
    FieldFilter,
    ItemFilter,
    MailFilter,
    Or,
    advertise_filters,
    fetch_filter,
    filter_caps,
    parse_cgi,
    parse_time,
    plan_filter_change,
    reduce_message,
    to_cgi,
    values_of,
)
from syncml_codec.formats import EmailObject, parse
from syncml_codec.model import Filter, Message

from ..conftest import DATA

UTC = timezone.utc
FILTERS = DATA / "filters"


def load(name: str, content_type: str | None = None) -> object:
    return parse((FILTERS / name).read_bytes(), content_type)


def t(text: str) -> datetime:
    when = parse_time(text)
    assert when is not None
    return when


# -- the grammar ---------------------------------------------------------------------------
C = Comparison
TREES = [
    ("FN&EQ;John", C("FN", "EQ", "John")),
    ("fn&iEQ;john", C("fn", "EQ", "john", ignore_case=True)),
    ("TEL.TYPE&EQ;CELL", C("TEL", "EQ", "CELL", param="TYPE")),
    ("TEL[2]&CON;555", C("TEL", "CON", "555", index=2)),
    ("TEL[2].TYPE&NE;HOME", C("TEL", "NE", "HOME", param="TYPE", index=2)),
    ("&LUID;&EQ;42", C("&LUID;", "EQ", "42")),
    ("&luid;&eq;42", C("&LUID;", "EQ", "42")),
    ("TITLE&EQ;&NULL;", C("TITLE", "EQ", None)),
    ("ORG&EQ;Example%20Corp%C3%BC", C("ORG", "EQ", "Example Corpü")),
    ("ORG&EQ;Example Corp", C("ORG", "EQ", "Example Corp")),
    ("X-ID&GE;10", C("X-ID", "GE", "10")),
    ("A&EQ;1&AND;B&EQ;2&OR;C&EQ;3", Or((And((C("A", "EQ", "1"), C("B", "EQ", "2"))), C("C", "EQ", "3")))),
    ("A&EQ;1&AND;(B&EQ;2&OR;C&EQ;3)", And((C("A", "EQ", "1"), Or((C("B", "EQ", "2"), C("C", "EQ", "3")))))),
    ("((A&NCON;x))", C("A", "NCON", "x")),
    ("A&iNCON;x&OR;B&iLT;1&OR;C&iGT;2&OR;D&iLE;3&OR;E&iGE;4&OR;F&iNE;5",
     Or((C("A", "NCON", "x", ignore_case=True), C("B", "LT", "1", ignore_case=True),
         C("C", "GT", "2", ignore_case=True), C("D", "LE", "3", ignore_case=True),
         C("E", "GE", "4", ignore_case=True), C("F", "NE", "5", ignore_case=True)))),
    ("  FN&EQ;a  ", C("FN", "EQ", "a")),
]


@pytest.mark.parametrize(("text", "tree"), TREES)
def test_grammar_reads_the_tree(text: str, tree: object) -> None:
    assert parse_cgi(text) == tree
    assert parse_cgi(text.encode()) == tree
    assert parse_cgi(to_cgi(parse_cgi(text))) == tree  # the writer is the reader's inverse


BAD = [
    ("", 0, "empty"),
    ("FN", 2, "comparison operator expected"),
    ("FN&XX;a", 2, "unknown comparison operator"),
    ("FN&EQ;a&OR;", 11, "property name expected"),
    ("(FN&EQ;a", 8, "')' expected"),
    ("FN&EQ;a)", 7, "')' without '('"),
    ("FN&EQ;a&XOR;b", 7, "&AND; or &OR; expected"),
    ("FN&EQ;a(b", 7, "unexpected '('"),
    ("FN&GT;&NULL;", 2, "&NULL;"),
    ("FN&EQ;50%", 8, "%XX"),
    ("FN&EQ;%FF", 6, "UTF-8"),
    ("TEL[0]&EQ;1", 4, "index"),
    ("TEL.&EQ;1", 4, "parameter name"),
    ("  FN", 4, "comparison operator"),
    ("=x", 0, "property name expected"),
    ("(" * 40 + "A&EQ;1" + ")" * 40, 32, "nested deeper"),
    ("A&EQ;1" + "&AND;A&EQ;1" * 300, 6 + 255 * 11 + 5, "more than 256"),  # the 257th term
    ("A&EQ;" + "x" * 9000, 8192, "longer than"),
]


@pytest.mark.parametrize(("text", "position", "message"), BAD)
def test_grammar_errors_say_where(text: str, position: int, message: str) -> None:
    with pytest.raises(FilterError) as info:
        parse_cgi(text)
    assert info.value.position == position
    assert message in info.value.reason
    assert info.value.status == 422
    assert isinstance(info.value, ValueError)


def test_grammar_refuses_bytes_that_are_not_utf8() -> None:
    with pytest.raises(FilterError) as info:
        parse_cgi(b"FN&EQ;\xff")
    assert info.value.position == 6


# -- record filters ----------------------------------------------------------------------
CONTACT = [
    ("N&CON;Doe", True), ("N&iCON;doe", True), ("N&CON;doe", False),
    ("TEL.TYPE&EQ;CELL", True), ("TEL.type&iEQ;cell", True), ("TEL.TYPE&EQ;WORK", False),
    ("TEL[2]&CON;7654321", True), ("TEL[1]&CON;7654321", False), ("TEL[3]&CON;+49", False),
    ("BDAY&LT;19800101", True), ("BDAY&GE;1975-04-12", True), ("BDAY&GT;19800101", False),
    ("EMAIL&NE;&NULL;", True), ("TITLE&EQ;&NULL;", True), ("TITLE&NE;&NULL;", False),
    ("ORG&EQ;Example Corp", True), ("ORG&EQ;Example%20Corp", True), ("ORG&EQ;Example", False),
    ("FN&NCON;Smith", True), ("FN&NCON;John", False), ("TITLE&NCON;x", True), ("TITLE&CON;x", False),
    ("FN&NE;John Doe", False), ("FN&iNE;JOHN DOE", False), ("FN&NE;Jane", True),
    ("CATEGORIES&iEQ;business&AND;(TEL&CON;170&OR;TEL&CON;999)", True),
    ("N&CON;Smith&OR;N&CON;Doe&AND;FN&CON;John", True),  # &AND; binds tighter
    ("N&CON;Smith&AND;N&CON;Doe&OR;FN&CON;Nobody", False),
    ("&LUID;&EQ;7", True), ("&LUID;&EQ;8", False), ("&LUID;&NE;8", True),
    ("SINCE&EQ;20240101", True),  # a contact has no time: never outside a range
]


@pytest.mark.parametrize(("expression", "included"), CONTACT)
def test_record_filter_on_a_vcard(expression: str, included: bool) -> None:
    card = load("contact-doe.vcf")
    assert ItemFilter.from_cgi(expression).matches(card, luid="7") is included


def test_the_same_contact_in_vcard_30_and_sif() -> None:
    card = load("contact-doe.vcf")
    for other in (card.convert("text/vcard"), card.convert("text/x-s4j-sifc")):  # type: ignore[attr-defined]
        for expression, included in CONTACT:
            if any(k in expression.upper() for k in ("TYPE", "BDAY", "LUID", "[")):
                continue  # parameter spelling, dates and the order of TELs differ between formats
            assert ItemFilter.from_cgi(expression).matches(other) is included, (other, expression)


CALENDAR = [
    ("SUMMARY&iCON;MEETING", True), ("SUMMARY&CON;MEETING", False),
    ("DTSTART&GE;20240101T000000", True), ("DTSTART&LT;20240101T000000", False),
    ("LOCATION&NE;&NULL;", False), ("LOCATION&EQ;&NULL;", True),
    ("PRODID&CON;test", True),  # not in the VEVENT: the VCALENDAR's
    ("SINCE&EQ;20240219T000000Z&AND;BEFORE&EQ;20240220T000000Z", True),
    ("SINCE&EQ;20240212T000000Z&AND;BEFORE&EQ;20240213T000000Z", False),  # the EXDATE
    ("SINCE&EQ;20240109T000000Z&AND;BEFORE&EQ;20240115T000000Z", False),  # between two Mondays
    # only keywords ANDed side by side make one range: here SINCE alone holds, BEFORE alone too
    ("SINCE&EQ;20240109T000000Z&AND;(BEFORE&EQ;20240115T000000Z&OR;SUMMARY&CON;zzz)", True),
    ("SINCE&EQ;20240402T000000Z", False), ("BEFORE&EQ;20240108T080000Z", False),
    ("BEFORE&EQ;20240108T080001Z", True),
    ("SINCE&EQ;20240402T000000Z&OR;SUMMARY&CON;Team", True),
]


@pytest.mark.parametrize(("expression", "included"), CALENDAR)
def test_record_filter_on_an_icalendar_event(expression: str, included: bool) -> None:
    event = load("weekly-berlin.ics")
    assert ItemFilter.from_cgi(expression).matches(event) is included


MAIL = [
    ("Subject&iCON;report", True), ("Subject&CON;invoice", False), ("From&CON;alice@", True),
    ("To&iCON;BOB", True), ("Cc&EQ;&NULL;", True), ("size&GT;500", True), ("size&LE;100", False),
    ("received&GE;20240301T000000Z", True), ("modified&iGE;20240309T000000Z", False),
    ("SINCE&EQ;20240308T000000Z&AND;BEFORE&EQ;20240309T000000Z", True),
    ("SINCE&EQ;20240309T000000Z", False),
]


@pytest.mark.parametrize(("expression", "included"), MAIL)
def test_record_filter_on_mail(expression: str, included: bool) -> None:
    raw = (FILTERS / "mail-attachment.eml").read_bytes()
    rfc822 = parse(raw, "message/rfc822")
    emi = parse(EmailObject.from_rfc822(raw, read=True, flagged=False).serialize(),
                "application/vnd.omads-email+xml")
    f = ItemFilter.from_cgi(expression)
    assert f.matches(rfc822) is included
    assert f.matches(emi) is included


@pytest.mark.parametrize(("expression", "included"), [
    ("read&EQ;true", True), ("read&EQ;false", False), ("flagged&EQ;false", True),
    ("replied&EQ;&NULL;", True), ("received&GE;20240310T000000Z", True),
])
def test_record_filter_on_email_object_fields(expression: str, included: bool) -> None:
    raw = (FILTERS / "mail-attachment.eml").read_bytes()
    emi = parse(EmailObject.from_rfc822(raw, read=True, flagged=False,
                                        received=datetime(2024, 3, 10, 9, tzinfo=UTC)).serialize(),
                "application/vnd.omads-email+xml")
    assert ItemFilter.from_cgi(expression).matches(emi) is included


@pytest.mark.parametrize(("expression", "included"), [
    ("name&iEQ;REPORT.PDF", True), ("size&GT;1000", False), ("size&EQ;12", True),
    ("modified&GE;20240101T000000Z", True), ("cttype&EQ;application/pdf", True), ("name&CON;doc", False),
])
def test_record_filter_on_a_file(expression: str, included: bool) -> None:
    item = parse(b"<File><name>report.pdf</name><modified>20240301T120000Z</modified>"
                 b"<size>12</size><cttype>application/pdf</cttype></File>", "application/vnd.omads-file+xml")
    assert ItemFilter.from_cgi(expression).matches(item) is included


def test_values_of_reads_calendars_in_both_versions() -> None:
    vcal = parse(b"BEGIN:VCALENDAR\r\nVERSION:1.0\r\nBEGIN:VEVENT\r\nSUMMARY:Lunch\r\n"
                 b"DTSTART:20240101T120000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    assert values_of(vcal, "summary") == ["Lunch"]
    assert values_of(vcal.convert("text/calendar"), "SUMMARY") == ["Lunch"]  # type: ignore[attr-defined]


@pytest.mark.parametrize(("expression", "position", "message"), [
    ("SINCE&EQ;yesterday", 0, "not an ISO 8601 time"),
    ("N&EQ;a&AND;BEFORE&GT;20240101", 11, "takes &EQ;"),
    (" (N&EQ;a&OR;since&EQ;&NULL;)", 12, "takes &EQ;"),
])
def test_a_bad_keyword_value_is_a_filter_error_with_its_position(expression: str, position: int,
                                                                  message: str) -> None:
    with pytest.raises(FilterError, match=message) as info:
        ItemFilter.from_cgi(expression)
    assert info.value.position == position and info.value.status == 422


# -- the date range ----------------------------------------------------------------------------
def _cal(body: str, version: str = "2.0") -> object:
    text = f"BEGIN:VCALENDAR\r\nVERSION:{version}\r\nBEGIN:VEVENT\r\n{body}END:VEVENT\r\nEND:VCALENDAR\r\n"
    return parse(text.encode())


DAILY_10 = "DTSTART:20240101T090000Z\r\nRRULE:D1 #5\r\n"
RANGES = [
    # (item, start, end, included)
    ("weekly-berlin.ics", "20240219", "20240220", True),
    ("weekly-berlin.ics", "20240212", "20240213", False),  # EXDATE
    ("weekly-berlin.ics", "20240325T083000Z", "20240325T084500Z", True),  # inside 08:00Z-09:00Z
    ("weekly-berlin.ics", "20240325T090000Z", "20240325T100000Z", False),  # the end is exclusive
    ("weekly-berlin.ics", "20240401", "20240430", False),  # after UNTIL
    ("weekly-berlin.ics", "20240109", "20240115", False),
    ("weekly-berlin.ics", "20240105", "20240106", False),  # before DTSTART
    (_cal(DAILY_10, "1.0"), "20240103", "20240104", True),
    (_cal(DAILY_10, "1.0"), "20240106", "20240107", False),  # COUNT 5 ends on the 5th
    (_cal("DTSTART;VALUE=DATE:20240310\r\nDTEND;VALUE=DATE:20240311\r\n"), "20240310T120000Z",
     "20240310T130000Z", True),
    (_cal("DTSTART;VALUE=DATE:20240310\r\nDTEND;VALUE=DATE:20240311\r\n"), "20240311", "20240312", False),
    (_cal("DTSTART;VALUE=DATE:20240310\r\n"), "20240310T230000Z", "20240311", True),  # one day
    (_cal("DTSTART;VALUE=DATE:19750412\r\nRRULE:FREQ=YEARLY\r\n"), "20240412", "20240413", True),
    (_cal("DTSTART;VALUE=DATE:19750412\r\nRRULE:FREQ=YEARLY\r\n"), "20240413", "20250411", False),
    (_cal("DTSTART:20240101T090000Z\r\nRDATE:20240601T090000Z\r\n"), "20240601", "20240602", True),
    (_cal("DTSTART:20240101T090000Z\r\nDURATION:PT2H\r\n"), "20240101T103000Z", "20240101T110000Z", True),
    (_cal("DTSTART:20240101T090000Z\r\n"), "20240101T090000Z", "20240101T090001Z", True),  # an instant
    (_cal("DTSTART:20240101T090000Z\r\n"), "20240101T090001Z", "20240102", False),
    (_cal("SUMMARY:no time\r\n"), "20240101", "20240102", True),  # nothing to go by: kept
    (_cal("DTSTART:20240101T000000Z\r\nRRULE:FREQ=SECONDLY\r\n"), "20300101", "20300102", True),  # kept
    # DTSTART+DURATION overflows the calendar: no end, read as an instant (before the range)
    (_cal("DTSTART:99991231T230000Z\r\nDURATION:PT2H\r\n"), "99991231T233000Z", None, False),
    (_cal("DTSTART:99991231T000000Z\r\nRRULE:FREQ=HOURLY\r\n"), "20240101", "20240102", False),
    (_cal("DTSTART;VALUE=DATE:99991231\r\n"), "20240101", None, True),  # its end overflows: kept
]


@pytest.mark.parametrize(("item", "start", "end", "included"), RANGES)
def test_date_range(item: object, start: str, end: str | None, included: bool) -> None:
    if isinstance(item, str):
        item = load(item)
    assert DateRange(t(start), t(end) if end else None).matches(item) is included


def test_date_range_open_ends_and_an_empty_range() -> None:
    event = load("weekly-berlin.ics")
    assert DateRange(None, t("20240109")).matches(event)
    assert DateRange(t("20240325"), None).matches(event)
    assert not DateRange(t("20240326"), None).matches(event)
    assert not DateRange(t("20240301"), t("20240301")).matches(event)


def test_a_rule_too_long_to_expand_keeps_the_item() -> None:
    daily = _cal("DTSTART:19000101T090000Z\r\nRRULE:FREQ=DAILY\r\n")
    far = datetime(1900, 1, 1, tzinfo=UTC) + timedelta(days=MAX_OCCURRENCES + 10)
    assert DateRange(far, far + timedelta(hours=1)).matches(daily)  # undecided: sent


def test_a_todo_with_due_and_mail_and_files_have_their_times() -> None:
    todo = parse(b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VTODO\r\nDTSTART:20240101T090000Z\r\n"
                 b"DUE:20240105T090000Z\r\nEND:VTODO\r\nEND:VCALENDAR\r\n")
    assert DateRange(t("20240103"), t("20240104")).matches(todo)
    assert not DateRange(t("20240106"), t("20240107")).matches(todo)
    mail = load("mail-attachment.eml", "message/rfc822")
    assert DateRange(t("20240308"), t("20240309")).matches(mail)
    assert not DateRange(t("20240309"), None).matches(mail)


# -- field filters ---------------------------------------------------------------------------
def test_field_filter_reduces_a_vcard() -> None:
    card = load("contact-doe.vcf")
    before = card.serialize()  # type: ignore[attr-defined]
    out = FieldFilter([Property("TEL", params=(PropParam("TYPE", values=("CELL",)),)),
                       Property("NOTE", max_size=6)]).apply(card)
    assert out.truncated
    assert out.item.serialize() == (b"BEGIN:VCARD\r\nVERSION:2.1\r\nN:Doe;John\r\nFN:John Doe\r\n"
                                    b"TEL;CELL:+49 170 1234567\r\nNOTE:A long\r\nEND:VCARD\r\n")
    assert card.serialize() == before  # the original is untouched  # type: ignore[attr-defined]


def test_field_filter_that_keeps_everything_returns_the_item() -> None:
    card = load("contact-doe.vcf")
    props = [Property(n) for n in ("N", "FN", "ORG", "TEL", "EMAIL", "BDAY", "NOTE", "CATEGORIES")]
    out = FieldFilter(props).apply(card)
    assert out.item is card and not out.truncated


def test_field_filter_on_a_calendar_drops_alarms_keeps_zones() -> None:
    event = load("weekly-berlin.ics")
    out = FieldFilter([Property("SUMMARY"), Property("RRULE")]).apply(event)
    data = out.item.serialize()
    assert out.truncated
    assert b"BEGIN:VTIMEZONE" in data and b"RRULE:" in data and b"DTSTART;TZID" in data
    assert b"VALARM" not in data and b"DTEND" not in data and b"EXDATE" not in data
    with_alarm = FieldFilter([Property("SUMMARY"), Property("VALARM")]).apply(event)
    assert b"BEGIN:VALARM" in with_alarm.item.serialize()


MAIL_FIELDS = [
    # (params, max_size, has body text, has attachment, truncated)
    ((), None, False, False, True),
    (("texttype",), None, True, False, True),
    (("texttype", "attachtype"), None, True, True, False),
    (("texttype", "attachtype"), 600, True, False, True),  # attachments go first
    (("texttype",), 300, True, False, True),  # the text is cut to fit
]


@pytest.mark.parametrize(("params", "max_size", "body", "attachment", "truncated"), MAIL_FIELDS)
def test_field_filter_on_mail(params: tuple[str, ...], max_size: int | None, body: bool,
                              attachment: bool, truncated: bool) -> None:
    raw = (FILTERS / "mail-attachment.eml").read_bytes()
    spec = Property("emailitem", max_size=max_size, params=tuple(PropParam(p) for p in params))
    for item in (parse(raw, "message/rfc822"),
                 parse(EmailObject.from_rfc822(raw, read=True).serialize(), "application/vnd.omads-email+xml")):
        out = FieldFilter([spec]).apply(item)
        obj = out.item.obj  # type: ignore[attr-defined]
        message = obj.raw if hasattr(obj, "raw") else obj.emailitem
        assert out.truncated is truncated
        assert (b"Hello Bob" in message) is body
        assert (b"report.pdf" in message) is attachment
        assert b"Subject: Report with attachment" in message
        if max_size is not None:
            assert len(message) <= max_size
            assert (b"Alice\r\n" in message) is (max_size >= 600)  # the end of the text
        if not truncated:
            assert message == raw
        if hasattr(obj, "read"):
            assert obj.read is True  # flags always go


def test_reduce_message_copes_with_a_message_without_body() -> None:
    assert reduce_message(b"Subject: x", body=False) == (b"Subject: x\r\n", True)
    assert reduce_message(b"Subject: x\r\n\r\n", body=False) == (b"Subject: x\r\n\r\n", False)
    out, cut = reduce_message(b"Subject: x\r\n\r\n" + b"y" * 5000, max_size=100)
    assert cut and len(out) <= 100 and out.startswith(b"Subject: x")


# -- a whole <Filter> from a message -----------------------------------------------------------
def _alert_with(filter_xml: str) -> Message:
    return Message.from_bytes(
        b'<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>SyncML/1.2</VerProto>'
        b"<SessionID>1</SessionID><MsgID>1</MsgID><Target><LocURI>http://s</LocURI></Target>"
        b"<Source><LocURI>dev</LocURI></Source></SyncHdr><SyncBody><Alert><CmdID>1</CmdID><Data>200</Data>"
        b"<Item><Target><LocURI>contacts</LocURI>" + filter_xml.encode() + b"</Target><Source><LocURI>./c</LocURI>"
        b'</Source><Meta><Anchor xmlns="syncml:metinf"><Next>1</Next></Anchor></Meta></Item></Alert>'
        b"<Final/></SyncBody></SyncML>")


def _filter_of(filter_xml: str) -> object:
    return _alert_with(filter_xml).commands[0].items[0].target.filter  # type: ignore[attr-defined]


RECORD = ('<Record><Item><Meta><Type xmlns="syncml:metinf">{grammar}</Type></Meta>'
          "<Data>{data}</Data></Item></Record>")
FIELD = ('<Field><Item><Meta><Type xmlns="syncml:metinf">application/vnd.syncml-devinf+xml</Type></Meta>'
         "<Data><Property><PropName>TEL</PropName></Property><Property><PropName>NOTE</PropName>"
         "<MaxSize>6</MaxSize></Property></Data></Item></Field>")


def test_item_filter_from_a_message() -> None:
    element = _filter_of('<Filter><Meta><Type xmlns="syncml:metinf">text/x-vcard</Type></Meta>' + FIELD
                         + RECORD.format(grammar="syncml:filtertype-cgi", data="N&amp;iCON;doe")
                         + "<FilterType>EXCLUSIVE</FilterType></Filter>")
    f = ItemFilter.from_model(element)  # type: ignore[arg-type]
    assert f.content_type == "text/x-vcard" and not f.inclusive
    card = load("contact-doe.vcf")
    sent = f.apply(card)
    assert sent is not None and sent.truncated
    assert b"ORG" not in sent.item.serialize() and b"NOTE:A long\r\n" in sent.item.serialize()
    other = parse(b"BEGIN:VCARD\r\nVERSION:2.1\r\nN:Roe;Jane\r\nEND:VCARD\r\n")
    assert f.apply(other) is None


@pytest.mark.parametrize(("xml", "status", "position"), [
    (RECORD.format(grammar="syncml:filtertype-xpath", data="/x"), 406, -1),
    (RECORD.format(grammar="syncml:filtertype-cgi", data="N&amp;EQ;a&amp;OR;"), 422, 10),
    (RECORD.format(grammar="syncml:filtertype-cgi", data="N&amp;ZZ;a"), 422, 1),
    ("<FilterType>SOMETIMES</FilterType>", 422, -1),
    ('<Field><Item><Data><CTType>x</CTType></Data></Item></Field>', 422, -1),
])
def test_item_filter_errors_carry_a_status(xml: str, status: int, position: int) -> None:
    element = _filter_of('<Filter><Meta><Type xmlns="syncml:metinf">text/x-vcard</Type></Meta>' + xml
                         + "</Filter>")
    with pytest.raises(FilterError) as info:
        ItemFilter.from_model(element)  # type: ignore[arg-type]
    assert info.value.status == status
    assert info.value.position == position


# -- IceWarp's mail filters ------------------------------------------------------------------------
NOW = datetime(2024, 3, 10, 12, tzinfo=UTC)


def _mail(date: str, size: int) -> object:
    raw = (f"From: a@example.org\r\nSubject: m\r\nDate: {date}\r\n\r\n").encode() + b"x" * size + b"\r\n"
    return parse(raw, "message/rfc822")


@pytest.mark.parametrize(("mail_filter", "date", "size", "included"), [
    (MailFilter(days=7), "Mon, 04 Mar 2024 09:00:00 +0000", 10, True),
    (MailFilter(days=7), "Fri, 01 Mar 2024 09:00:00 +0000", 10, False),
    (MailFilter(max_size=1000), "Fri, 01 Mar 2024 09:00:00 +0000", 500, True),
    (MailFilter(max_size=1000), "Fri, 01 Mar 2024 09:00:00 +0000", 5000, False),
    (MailFilter(days=7, max_size=1000), "Mon, 04 Mar 2024 09:00:00 +0000", 5000, False),
    (MailFilter(headers_only=True), "Fri, 01 Jan 2010 09:00:00 +0000", 50_000, True),
])
def test_mail_filters_include_and_exclude(mail_filter: MailFilter, date: str, size: int, included: bool) -> None:
    f = mail_filter.item_filter(NOW)
    assert f.matches(_mail(date, size)) is included


def test_headers_only_then_fetch_the_whole_mail() -> None:
    raw = (FILTERS / "mail-attachment.eml").read_bytes()
    item = parse(raw, "message/rfc822")
    sent = MailFilter(headers_only=True).item_filter(NOW).apply(item, luid="m1")
    assert sent is not None and sent.truncated
    assert sent.item.obj.raw.endswith(b"\r\n\r\n") and b"Hello" not in sent.item.obj.raw  # type: ignore[attr-defined]
    fetch = ItemFilter.from_model(fetch_filter("m1"))
    assert fetch.inclusive
    assert fetch.apply(parse(raw, "message/rfc822"), luid="m2") is None
    whole = fetch.apply(item, luid="m1")
    assert whole is not None and not whole.truncated and whole.item.obj.raw == raw  # type: ignore[attr-defined]


def test_mail_filter_round_trips_through_a_filter_element() -> None:
    for mail_filter in (MailFilter(), MailFilter(headers_only=True), MailFilter(days=30),
                        MailFilter(headers_only=True, days=1, max_size=20_000)):
        element = mail_filter.to_filter(NOW)
        assert MailFilter.from_filter(element, NOW) == mail_filter
        reread = Filter.from_element(element.to_element())  # as it travels in a message
        assert MailFilter.from_filter(reread, NOW) == mail_filter


# -- a filter change ---------------------------------------------------------------------------
def test_filter_change_adds_and_removes_on_the_client_only() -> None:
    items = {
        "a": _mail("Mon, 04 Mar 2024 09:00:00 +0000", 10),
        "b": _mail("Fri, 01 Mar 2024 09:00:00 +0000", 10),
        "c": _mail("Sat, 09 Mar 2024 09:00:00 +0000", 10),
    }
    week = MailFilter(days=7).item_filter(NOW)
    change = plan_filter_change(items, ["a", "b", "gone"], week)
    assert change.add == ("c",) and change.remove == ("b",)
    everything = ItemFilter()
    assert plan_filter_change(items, ["a"], everything).add == ("b", "c")
    inclusive = ItemFilter.from_cgi("&LUID;&EQ;b", inclusive=True)
    change = plan_filter_change(items, ["a", "c"], inclusive)
    assert change.add == ("b",) and change.remove == ()


# -- DevInf ---------------------------------------------------------------------------------------
def test_devinf_advertises_what_the_filters_support() -> None:
    store = DataStore("./contacts", rx_pref=(ContentType("text/x-vcard", "2.1"),),
                      tx_pref=(ContentType("text/x-vcard", "2.1"),), tx=(ContentType("text/vcard", "3.0"),),
                      sync_types=(1, 2))
    out = advertise_filters(store)
    assert out.filter_rx == (FILTER_RX,)
    assert [c.ct_type for c in out.filter_caps] == ["text/x-vcard", "text/vcard"]
    assert "TEL" in out.filter_caps[0].prop_names and out.filter_caps[0].keywords == ()
    back = DataStore.from_element(out.to_element())
    assert back == out
    devinf = DevInf(ver_dtd="1.2", dev_id="server", dev_typ="server", datastores=(out,))
    assert DevInf.from_element(devinf.to_element()) == devinf


def test_devinf_filter_caps_for_calendar_and_mail_and_own_ctcaps() -> None:
    cal = DataStore("./calendar", tx_pref=(ContentType("text/calendar", "2.0"),),
                    ctcaps=(CTCap("text/calendar", "2.0", properties=(Property("SUMMARY"), Property("BEGIN"))),))
    (cap,) = filter_caps(cal)
    assert cap.keywords == ("SINCE", "BEFORE") and cap.prop_names == ("SUMMARY",)
    mail = DataStore("./mail", tx_pref=(ContentType("application/vnd.omads-email+xml", "1.2"),))
    (cap,) = filter_caps(mail)
    assert "size" in cap.prop_names and "received" in cap.prop_names
    files = DataStore("./x", tx_pref=(ContentType("application/x-unknown"),))
    assert advertise_filters(files) is files


# -- hostile input ---------------------------------------------------------------------------------
def test_random_expressions_raise_only_filter_errors() -> None:
    import random

    rng = random.Random(14)
    names = ["FN", "TEL.TYPE", "TEL[2]", "&LUID;", "SINCE", "BDAY", "N"]
    ops = ["&EQ;", "&iCON;", "&NE;", "&GT;", "&iLE;", "&NCON;"]
    values = ["x", "&NULL;", "%41b", "20240101", "Doe", "é", ""]
    junk = ["(", ")", "&", "%", "%ZZ", "&AND;", "&OR;", ";", "[0]", ".", "&XX;"]

    def expression(depth: int = 0) -> str:
        if depth < 3 and rng.random() < 0.3:
            return "(" + expression(depth + 1) + rng.choice(["&AND;", "&OR;"]) + expression(depth + 1) + ")"
        return rng.choice(names) + rng.choice(ops) + rng.choice(values)

    card = load("contact-doe.vcf")
    ok = 0
    for _ in range(3000):
        text = expression()
        if rng.random() < 0.5:  # mutate: insert junk or cut somewhere
            at = rng.randint(0, len(text))
            text = text[:at] + rng.choice(junk) + text[at + rng.randint(0, 3):]
        try:
            f = ItemFilter.from_cgi(text)
        except FilterError as exc:
            assert 0 <= exc.position <= len(text)
            continue
        ok += 1
        f.matches(card, luid="1")  # evaluates without raising
    assert ok > 500  # most unmutated expressions are valid


@pytest.mark.parametrize("raw", [
    b"Subject: x\r\nContent-Type: multipart/mixed\r\n\r\nno boundary at all",
    b"Subject: x\r\nContent-Type: multipart/mixed; boundary=q\r\n\r\n--q\r\nContent-Type: text/plain; "
    b"charset=x-unknown-charset\r\n\r\n\xff\xfe\r\n--q\r\nContent-Disposition: attachment\r\n\r\nA\r\n",
    b"Subject: =?bogus?Q?x?=\r\nDate: not a date\r\n\r\nbody",
])
def test_broken_mail_is_reduced_not_crashed(raw: bytes) -> None:
    item = parse(raw, "message/rfc822")
    for spec in (Property("emailitem"), Property("emailitem", params=(PropParam("texttype"),)),
                 Property("emailitem", max_size=40, params=(PropParam("texttype"),))):
        out = FieldFilter([spec]).apply(item)
        assert out.item.obj.raw.startswith(b"Subject:")  # type: ignore[attr-defined]
    assert ItemFilter.from_cgi("SINCE&EQ;20240101&OR;Subject&CON;x&OR;received&GT;1").matches(item) in (True, False)


# -- the examples in the docstrings run -------------------------------------------------------------
@pytest.mark.parametrize("module", ["syncml_codec.filters", "syncml_codec.filters._cgi", "syncml_codec.filters._dates",
                                    "syncml_codec.filters._record", "syncml_codec.filters._field",
                                    "syncml_codec.filters._filter", "syncml_codec.formats.vcalendar"])
def test_docstring_examples(module: str) -> None:
    import doctest
    import importlib

    failed, tried = doctest.testmod(importlib.import_module(module), verbose=False)
    assert tried > 0 and failed == 0


def test_the_same_vtimezone_is_read_once() -> None:
    # a calendar of many items repeats its VTIMEZONE; a fresh dateutil zone recomputes its rules
    # from 1970 on first use (milliseconds per item), so the formats layer keeps the zones it read
    from syncml_codec.formats import timings

    first = timings(load("weekly-berlin.ics").component)[0].start  # type: ignore[attr-defined]
    again = timings(load("weekly-berlin.ics").component)[0].start  # type: ignore[attr-defined]
    assert first is not None and again is not None
    assert first.tzinfo is again.tzinfo  # type: ignore[union-attr]


def test_a_funambol_style_mail_filter() -> None:
    # the shape Funambol's mail clients send: mail since a date, text up to a size, no attachments
    element = _filter_of(
        '<Filter><Meta><Type xmlns="syncml:metinf">application/vnd.omads-email+xml</Type></Meta>'
        '<Field><Item><Meta><Type xmlns="syncml:metinf">application/vnd.syncml-devinf+xml</Type></Meta>'
        "<Data><Property><PropName>emailitem</PropName><MaxSize>600</MaxSize><PropParam>"
        "<ParamName>texttype</ParamName></PropParam></Property></Data></Item></Field>"
        + RECORD.format(grammar="syncml:filtertype-cgi", data="modified&amp;iGE;20240301T000000Z") + "</Filter>")
    f = ItemFilter.from_model(element)  # type: ignore[arg-type]
    raw = (FILTERS / "mail-attachment.eml").read_bytes()
    sent = f.apply(parse(raw, "message/rfc822"))
    assert sent is not None and sent.truncated
    body = sent.item.obj.raw  # type: ignore[attr-defined]
    assert len(body) <= 600 and b"Hello Bob" in body and b"report.pdf" not in body
    assert f.apply(_mail("Thu, 29 Feb 2024 23:00:00 +0000", 10)) is None
    assert MailFilter.from_filter(element, NOW) == MailFilter(days=10)  # type: ignore[arg-type]


def test_the_zone_cache_stays_bounded() -> None:
    from syncml_codec.formats import _vtimezone, timings

    template = (FILTERS / "weekly-berlin.ics").read_bytes()
    for n in range(_vtimezone._ZONE_CACHE_SIZE + 20):
        data = template.replace(b"TZNAME:CET", b"TZNAME:CET%d" % n)  # a different VTIMEZONE each time
        timings(parse(data).component)  # type: ignore[attr-defined]
    assert len(_vtimezone._ZONE_CACHE) <= _vtimezone._ZONE_CACHE_SIZE
