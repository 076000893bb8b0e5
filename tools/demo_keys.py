"""Print the demo parties' verifier keys (and, with --private DIR, write their key files).

The demo keys are derived from public seeds: they exist so the Syria 2015 scenario can sign
its ledger entries, and protect nothing. Never use them for real traffic.
"""

from __future__ import annotations

import sys

from skyparley.domain.ledger.keys import demo_key

NAMES = ("coalition", "russia", "relief", "skyparley-demo-service")


def main() -> int:
    for name in NAMES:
        print(f"{name}: {demo_key(name).verifier.to_text()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
