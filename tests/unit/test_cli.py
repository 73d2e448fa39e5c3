"""`teledeck --version` and `--help`: what the console covers, said before it opens."""

from __future__ import annotations

import pytest

from providers.vendors import descriptors
from tui.cli import main, version
from tui.resources import REGISTRY


def test_version_prints_the_installed_version(capsys):
    with pytest.raises(SystemExit) as ended:
        main(["--version"])
    assert ended.value.code == 0
    printed = capsys.readouterr().out.strip()
    assert printed == f"teledeck {version()}" and version() not in ("", "unknown")


def test_help_describes_everything_the_console_covers(capsys):
    with pytest.raises(SystemExit) as ended:
        main(["--help"])
    assert ended.value.code == 0
    text = " ".join(capsys.readouterr().out.split()).lower()
    for spec in REGISTRY.values():  # every resource screen, by what it holds
        words = spec.title.lower().removesuffix("s").split()
        assert all(word.rstrip("s") in text for word in words), spec.title
    for vendor in descriptors():  # every vendor, by its own name
        assert vendor.title.split(" (")[0].lower().removeprefix("alibaba cloud ").split()[0] in text, vendor.title
    for flag in ("--profile", "--sandbox", "--read-only", "--offline", "--version", "sandbox serve", "sandbox reset"):
        assert flag in text
