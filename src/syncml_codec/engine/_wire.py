"""The MIME types the engine speaks, by encoding (``"wbxml"``, ``"xml"``):
SyncML messages and the DevInf documents inside them.  Their one home: the
client, the server and the replayer take them from here, and the WSGI
transport (through ``syncml_codec.engine.CONTENT_TYPES``)."""

from __future__ import annotations

__all__ = ["CONTENT_TYPES", "devinf_type"]

#: encoding -> the MIME type of a SyncML message in it
CONTENT_TYPES = {"wbxml": "application/vnd.syncml+wbxml", "xml": "application/vnd.syncml+xml"}


def devinf_type(encoding: str) -> str:
    """The ``Meta/Type`` of a DevInf document in ``encoding``.

    >>> devinf_type("wbxml")
    'application/vnd.syncml-devinf+wbxml'
    """
    return f"application/vnd.syncml-devinf+{encoding}"
