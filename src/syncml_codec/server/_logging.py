"""The server's log lines on stderr, the same under ``syncml serve`` and
under any WSGI server (gunicorn, uwsgi) running :func:`~.create_app`.

Every record is one line at the left margin: the per-message INFO lines of
``syncml_codec.server`` as they are (logfmt, see :mod:`._journal`), other
records prefixed with their level (and their logger, when it is not one of
ours); client-supplied text is escaped and a traceback's lines are indented,
so nothing a client sends can forge a line.

Why :func:`install_log_handler` exists: gunicorn configures its own loggers
(``gunicorn.error``, ``gunicorn.access``) and leaves the root logger without
a handler, so our INFO lines would go nowhere (Python's last-resort handler
prints WARNING and above only).  It gives the ``syncml_codec`` logger a
stderr handler of its own, unless the host application has configured
logging already (the root logger or ``syncml_codec`` has a handler: then
the records go where it says, only the level is set).
"""

from __future__ import annotations

import logging
import sys

from ._journal import LOGGER, escape_log_text

__all__ = ["LOG_LEVELS", "LogFormatter", "install_log_handler"]

#: the accepted level names (``--log-level``, ``SYNCML_LOG_LEVEL``)
LOG_LEVELS = ("debug", "info", "warning", "error")


class LogFormatter(logging.Formatter):
    """One record, one line (plus its indented traceback); see the module's doc."""

    def format(self, record: logging.LogRecord) -> str:
        text = escape_log_text(record.getMessage())
        if record.levelno != logging.INFO or record.name != LOGGER.name:
            ours = record.name.startswith("syncml_codec")
            text = f"{record.levelname}: {text}" if ours else f"{record.levelname}: {record.name}: {text}"
        details = ""
        if record.exc_info:
            details = self.formatException(record.exc_info)
        elif record.exc_text:
            details = record.exc_text
        if record.stack_info:
            details += "\n" + self.formatStack(record.stack_info)
        return text + "".join("\n  " + escape_log_text(line) for line in details.splitlines())


class _OwnHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler :func:`install_log_handler` adds (so a second call replaces it)."""


def install_log_handler(level: str = "info") -> None:
    """Set the ``syncml_codec`` loggers to ``level`` (one of
    :data:`LOG_LEVELS`) and, unless logging is configured already, send them
    to stderr through :class:`LogFormatter`.  Calling it again replaces the
    handler it added, never adds a second one."""
    if level not in LOG_LEVELS:
        raise ValueError(f"log level must be one of {', '.join(LOG_LEVELS)}, not {level!r}")
    package = logging.getLogger("syncml_codec")
    package.setLevel(getattr(logging, level.upper()))
    for handler in [h for h in package.handlers if isinstance(h, _OwnHandler)]:
        package.removeHandler(handler)
    if package.handlers or logging.getLogger().handlers:
        return  # the host application decides where records go
    handler = _OwnHandler(sys.stderr)
    handler.setFormatter(LogFormatter())
    package.addHandler(handler)
