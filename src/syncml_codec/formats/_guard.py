"""The converters' error boundary: what a parser or converter raises on bad
input is a :class:`FormatError`, whatever went wrong inside.

Each known bad input is checked where it is read (RRULE parts, TZIDs, base64,
date ranges) and raises :class:`FormatError` with the line and property, or
is carried as text and reported in ``losses``.  This boundary is the second
line: an exception outside the error tree that escapes a converter anyway (a
case nobody checked yet) becomes a :class:`FormatError` whose ``__cause__``
is the original, so that one bad item never fails a whole sync message.  The
fuzz sweep (``tests/formats/test_convert_sweep.py``) fails on any error that
reaches this boundary, so each one is still found and fixed at its source.
``MemoryError`` and ``KeyboardInterrupt`` pass through.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from ..errors import FormatError, SyncMLError

__all__ = ["guarded"]

F = TypeVar("F", bound=Callable[..., Any])


def guarded(what: str) -> Callable[[F], F]:
    """Decorate a parser or ``convert`` method: exceptions outside the
    error tree leave it as :class:`FormatError` (``what`` names the step)."""
    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return func(*args, **kwargs)
            except SyncMLError:
                raise
            except (MemoryError, RecursionError) as exc:
                if isinstance(exc, MemoryError):
                    raise
                raise FormatError(f"{what}: the item is nested too deeply") from exc
            except Exception as exc:
                detail = str(exc)[:120].encode("ascii", "backslashreplace").decode("ascii")
                raise FormatError(f"{what} failed ({type(exc).__name__}: {detail})") from exc
        return cast(F, wrapper)
    return decorate
