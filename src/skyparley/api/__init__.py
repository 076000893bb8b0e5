"""The HTTP and WebSocket API (FastAPI): :func:`create_app` builds it from :class:`Settings`."""

from skyparley.api.app import DEFAULT_MAX_BODY_BYTES, Settings, create_app, settle_heap

__all__ = ["DEFAULT_MAX_BODY_BYTES", "Settings", "create_app", "settle_heap"]
