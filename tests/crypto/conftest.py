from __future__ import annotations

import sys
from pathlib import Path

# rfc8448.py (the vectors) sits beside the tests; make it importable as a plain module.
sys.path.insert(0, str(Path(__file__).parent))
