"""The Python client of the skyparley service: every write signed with the party's key.

>>> from skyparley.client import Client          # doctest: +SKIP
>>> c = Client("http://127.0.0.1:8000", token, key=key)  # doctest: +SKIP
>>> c.file_notice(notice)["findings"]            # doctest: +SKIP

With a key, each notice version, protected area, hotline message and acknowledgement is a
statement the party signs (see :mod:`skyparley.domain.statements`): the client reads the
party's chain head, builds the ledger entry the service will rebuild, signs it and sends the
signature with the request. Without a key the service attests the statement on the party's
behalf (its ledger entry says so). A refused request raises :class:`ClientError`.
"""

from skyparley.client._client import Client
from skyparley.client._errors import ClientError

__all__ = ["Client", "ClientError"]
