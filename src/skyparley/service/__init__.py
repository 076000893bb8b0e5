"""The service layer: the use cases of the deconfliction service, with no HTTP in them.

- :class:`Service`: notices, protected areas, findings, the hotline, escalation, receipts.
- :func:`authenticate`, :func:`require`, :func:`new_token`, :class:`Principal`: tokens and
  roles.
- :class:`EventHub`: wakes the parties' live streams after each commit.
"""

from skyparley.service.auth import Principal, authenticate, hash_token, new_token, require
from skyparley.service.deconfliction import Service, cancelled_version
from skyparley.service.hub import EventHub, Subscription

__all__ = [
    "EventHub",
    "Principal",
    "Service",
    "Subscription",
    "authenticate",
    "cancelled_version",
    "hash_token",
    "new_token",
    "require",
]
