"""providers/ never imports textual or tui/, and start-up imports nothing heavy it does not need."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_providers_source_never_imports_the_ui():
    offenders = []
    for path in (ROOT / "providers").rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [
                f"{path.relative_to(ROOT)}: {n}" for n in names if n.split(".")[0] in ("textual", "tui", "rich")
            ]
    assert offenders == []


def test_importing_every_provider_module_loads_no_ui_package():
    code = (
        "import sys, pkgutil, importlib, providers\n"
        "for m in pkgutil.walk_packages(providers.__path__, 'providers.'):\n"
        "    importlib.import_module(m.name)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'tui', 'rich')]\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"


def test_sandbox_serve_command_does_not_import_textual():
    code = "import sys; import tui.cli, providers.sandbox.cli; print('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "False"
