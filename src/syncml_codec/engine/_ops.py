"""The three operations on an item, named as the SyncML commands that carry
them: what a client records as its changes (:class:`~.client.ClientDatastore`)
and what the server sends (:class:`~._sync.Op`) alike."""

from __future__ import annotations

from enum import Enum

__all__ = ["Operation"]


class Operation(str, Enum):
    """``Operation.ADD == "Add"``: the value is the command's element name.

    >>> Operation("Replace"), str(Operation.DELETE)
    (<Operation.REPLACE: 'Replace'>, 'Delete')
    """

    ADD = "Add"
    REPLACE = "Replace"
    DELETE = "Delete"

    def __str__(self) -> str:  # the command's name, in log lines and f-strings, on every Python
        return self.value
