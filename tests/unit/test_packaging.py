"""The wheel carries both packages, the stylesheet and the console script."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_wheel_ships_styles_and_entry_point(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
        cwd=tmp_path,
    )
    wheel = next(tmp_path.glob("teledeck-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "styles/app.tcss" in names
    assert "tui/app.py" in names and "providers/telnyx/client.py" in names and "providers/sandbox/telnyx.py" in names
    # every package in the source tree is in the wheel
    for init in sorted(ROOT.glob("providers/**/__init__.py")) + sorted(ROOT.glob("tui/**/__init__.py")):
        assert str(init.relative_to(ROOT)) in names
    assert not any(n.startswith("tests/") for n in names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "teledeck = tui.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
