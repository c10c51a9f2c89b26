"""Every ```python block in README.md runs as written and prints what the README says it prints."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.DOTALL)
EXPECTED = [
    "[ApplicationData(data=b'no sockets were harmed')]",
    "[EarlyData(data=b'GET / HTTP/1.1\\r\\n\\r\\n')] True",
    "b'HELLO, TLS 1.3' TLS_AES_",
    "b'HELLO, ASYNCIO\\n' TLS1_3",
]


def test_readme_has_the_four_examples() -> None:
    assert len(BLOCKS) == len(EXPECTED)


@pytest.mark.parametrize(("code", "expected"), list(zip(BLOCKS, EXPECTED, strict=False)),
                         ids=["sans-io", "0-rtt", "blocking", "asyncio"])
def test_readme_example_runs(code: str, expected: str, tmp_path: Path) -> None:
    script = tmp_path / "example.py"
    script.write_text(code, encoding="utf-8")
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60,
                            cwd=tmp_path, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(expected), result.stdout
