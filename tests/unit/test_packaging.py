"""The wheel carries both packages, the stylesheet and the console script."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from providers.vendors import VENDOR_MODULES

ROOT = Path(__file__).resolve().parents[2]


def test_wheel_ships_styles_and_entry_point(tmp_path):
    # Built from a copy of the source alone: a stale build/ folder in the work tree would
    # otherwise lend the wheel files the tree no longer has.
    source = tmp_path / "source"
    shutil.copytree(
        ROOT, source, ignore=shutil.ignore_patterns(".git", ".venv", ".cache", "build", "*.egg-info", "node_modules")
    )
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(source)],
        check=True,
        capture_output=True,
        cwd=tmp_path,
    )
    wheel = next(tmp_path.glob("teledeck-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "styles/app.tcss" in names and "styles/dialogs.tcss" in names
    assert "tui/app.py" in names and "providers/telnyx/client.py" in names
    assert "providers/sandbox/telnyx/routes.py" in names and "providers/sandbox/base.py" in names
    # the vendor registry and every descriptor it lists
    assert "providers/vendors.py" in names
    for module in VENDOR_MODULES:
        assert module.replace(".", "/") + ".py" in names
    # every package in the source tree is in the wheel
    for init in sorted(ROOT.glob("providers/**/__init__.py")) + sorted(ROOT.glob("tui/**/__init__.py")):
        assert str(init.relative_to(ROOT)) in names
    # the emulators' seed data is data beside its package, and must travel with it
    for seed in sorted(ROOT.glob("providers/sandbox/seed_data/*.json")):
        assert str(seed.relative_to(ROOT)) in names
    assert "providers/sandbox/seed_data/telnyx.json" in names
    assert not any(n.startswith("tests/") for n in names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "teledeck = tui.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
