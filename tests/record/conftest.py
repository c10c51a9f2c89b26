from __future__ import annotations

import sys
from pathlib import Path

# The RFC 8448 vectors live in tests/crypto/rfc8448.py.
sys.path.insert(0, str(Path(__file__).parent.parent / "crypto"))
