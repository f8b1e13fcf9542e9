"""Layer 5: the HTTP front.  :func:`make_app` makes a WSGI application of a
sans-I/O sync engine; ``syncml serve`` runs it."""

from .wsgi import CONTENT_TYPES, DEFAULT_MAX_BODY, Reply, SyncHandler, make_app

__all__ = ["CONTENT_TYPES", "DEFAULT_MAX_BODY", "Reply", "SyncHandler", "make_app"]
