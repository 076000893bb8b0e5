"""Print the demo parties' verifier keys (and, with --private DIR, write their key files).

The demo keys are derived from public seeds: they exist so the Syria 2015 scenario can sign
its ledger entries, and protect nothing. Never use them for real traffic.
"""

from __future__ import annotations

import hashlib
import sys

from skyparley.domain.ledger.keys import SigningKey

NAMES = ("coalition", "russia", "relief", "skyparley-demo-service")


def demo_key(name: str) -> SigningKey:
    """The demo signing key of ``name``."""
    seed = hashlib.sha256(b"skyparley demo key, never for real use: " + name.encode()).digest()
    return SigningKey.from_seed(name, seed)


def main() -> int:
    for name in NAMES:
        print(f"{name}: {demo_key(name).verifier.to_text()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
