"""The whole exception tree of syncml-codec.

Everything raised on purpose derives from :class:`SyncMLError`.  Errors about
bad input also derive from :class:`ValueError` and say where the problem is:
``offset`` (a byte offset into WBXML) or ``line``/``column`` (XML).

The one warning, :class:`PurePythonWarning`, says that C extensions the
build meant to provide are missing.

This module imports nothing from the package, so every layer can use it.
"""

from __future__ import annotations

__all__ = [
    "DecodeError",
    "DevInfError",
    "EncodeError",
    "FilterError",
    "FormatError",
    "MailError",
    "MailNotConfiguredError",
    "MailUnavailableError",
    "NotificationError",
    "ProtocolError",
    "PurePythonWarning",
    "StructureError",
    "SyncMLError",
    "UnknownTokenError",
    "UnsupportedFormatError",
    "WBXMLDecodeError",
    "XMLDecodeError",
]


class SyncMLError(Exception):
    """Root of every error raised by syncml-codec on purpose."""


class DecodeError(SyncMLError, ValueError):
    """Input bytes could not be read as a SyncML document."""


class _AtByte(DecodeError):
    """A decode error at a byte ``offset`` (``reason``: the message without it)."""

    def __init__(self, message: str, offset: int) -> None:
        self.reason = message
        self.offset = offset
        super().__init__(f"{message} (at byte offset {offset})")

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (type(self), (self.reason, self.offset))


class WBXMLDecodeError(_AtByte):
    """Malformed or hostile WBXML.

    ``offset`` is the byte offset of the token or field that is wrong (for
    truncated input: the length of the input, where more bytes were needed).
    """


class NotificationError(_AtByte):
    """Bytes that are not an OMA DS Data Sync Notification (server-alerted
    sync, :mod:`syncml_codec.codec.san`).  ``offset`` is the byte offset of
    the field that is wrong (truncated input: its length)."""


class UnknownTokenError(WBXMLDecodeError):
    """A tag, attribute or extension token with no meaning in the document's
    code pages, met in strict mode (lenient mode keeps it as an explicit
    ``wbxml:`` element instead)."""


class XMLDecodeError(DecodeError):
    """Malformed, hostile or non-SyncML XML.  ``line`` and ``column`` are
    1-based; ``offset`` is the byte offset in the input."""

    def __init__(self, message: str, line: int, column: int = 0, offset: int = -1) -> None:
        self.reason = message
        self.line = line
        self.column = column
        self.offset = offset
        where = f"line {line}" + (f", column {column}" if column else "")
        super().__init__(f"{message} ({where})")

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (type(self), (self.reason, self.line, self.column, self.offset))


class FormatError(DecodeError):
    """A malformed data item (vCard, vCalendar, ...).  ``line`` is the
    1-based physical line where the bad content line starts; ``property``
    its name (``""`` if unknown).  ``line`` 0 means the item as a whole
    (a transfer encoding or key problem, no line to point at)."""

    def __init__(self, message: str, line: int = 0, property: str = "") -> None:
        self.reason = message
        self.line = line
        self.property = property
        where = ", ".join(part for part in (f"line {line}" if line else "",
                                            f"property {property}" if property else "") if part)
        super().__init__(f"{message} ({where})" if where else message)

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (type(self), (self.reason, self.line, self.property))


class UnsupportedFormatError(FormatError):
    """A content type nobody registered, or a conversion that does not
    exist (yet).  ``line`` is 0: the problem is the type, not the data."""

    def __init__(self, message: str, content_type: str = "") -> None:
        self.reason = message
        self.line = 0
        self.property = ""
        self.content_type = content_type
        Exception.__init__(self, message)

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (type(self), (self.reason, self.content_type))


class FilterError(DecodeError):
    """A SyncML 1.2 ``<Filter>`` that cannot be used: a ``syncml:filtertype-cgi`` expression that
    does not parse (``position`` is the 0-based character offset of the problem in the
    expression), or a filter grammar or content we do not support (``position`` -1).  ``status``
    is the SyncML status code to answer with: 422 (bad CGI script) or 406 (optional feature not
    supported)."""

    def __init__(self, message: str, position: int = -1, status: int = 422) -> None:
        self.reason = message
        self.position = position
        self.status = status
        super().__init__(f"{message} (at position {position})" if position >= 0 else message)

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (type(self), (self.reason, self.position, self.status))


class EncodeError(SyncMLError, ValueError):
    """A document or tree that has no WBXML (or XML) form, e.g. an element
    name outside the code pages while literals are not allowed."""


class StructureError(DecodeError):
    """A message that decodes but is not valid SyncML: a required element is
    missing, repeated or holds the wrong content.  ``path`` names the
    element, e.g. ``SyncBody/Sync[2]/Add[1]/Item[1]``; ``status`` is the
    SyncML status code to answer with (400, bad request)."""

    status = 400

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.reason = message
        super().__init__(f"{path}: {message}" if path else message)

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (type(self), (self.path, self.reason))


class DevInfError(StructureError):
    """Device information that does not make sense: a required element is
    missing, a number is not a number, flat CTCap content comes before its
    CTType.  ``path`` names the element, e.g. ``DevInf/DataStore[2]`` (1-based
    indexes among siblings of the same name), as in :class:`StructureError`."""


class ProtocolError(SyncMLError):
    """A peer broke the sync protocol (or a store failed under it): ``status``
    is the SyncML status code to answer with (e.g. 400, 404, 500)."""

    def __init__(self, message: str, status: int = 400) -> None:
        self.status = status
        super().__init__(message)

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (type(self), (str(self), self.status))


class PurePythonWarning(RuntimeWarning):
    """Issued once, when ``syncml_codec`` is imported, if C extensions that
    the build was meant to provide cannot be loaded (the compiler failed
    during ``pip install``, or the binary does not load): their layers then
    run their pure-Python twins, which give the same results 15-40x slower.
    ``syncml --version`` names the implementation of each layer.

    Not issued when pure Python was asked for: ``SYNCML_CODEC_NO_EXTENSIONS=1``
    at run time, or a build with ``SYNCML_CODEC_EXTENSION=skip``.

    To silence it, choose one of those, or filter it before the first import
    (the class cannot be named before its module is imported; the warning is
    attributed to the module ``syncml_codec``)::

        python -W "ignore::RuntimeWarning:syncml_codec" ...
        PYTHONWARNINGS="ignore::RuntimeWarning:syncml_codec"
        warnings.filterwarnings("ignore", category=RuntimeWarning, module="syncml_codec")
    """


class MailError(SyncMLError):
    """A mail back end (:mod:`syncml_codec.mail`) refused or could not do an
    operation: a folder or message that does not exist, a bad folder name, a
    folder moved into itself, a limit exceeded, a server's error answer."""


class MailUnavailableError(MailError):
    """The mail storage cannot be reached: an IMAP server that is down,
    refuses the login, times out or breaks the connection."""


class MailNotConfiguredError(MailError):
    """The account has no mail storage (``syncml serve --imap`` and no IMAP
    settings for it, nor a Maildir root): its Mail datastores do not exist."""
