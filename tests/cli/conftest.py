"""Running the headless CLI as a user's shell would: `python -m tui.cli ...` in a subprocess.

Each run gets its own config, data, cache and log folders (the environment variables the
in-process tests' conftest sets are passed to the child explicitly). The built-in sandbox keeps
its state in the data folder, so a delete in one process is seen by a get in the next. Seeding
the sandbox once per session and copying it is cheaper than seeding it for every test.
"""

from __future__ import annotations

import compileall
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = {
    "TELEDECK_CONFIG_DIR": "config",
    "TELEDECK_DATA_DIR": "data",
    "TELEDECK_CACHE_DIR": "cache",
    "TELEDECK_LOG_DIR": "log",
}
# Two at a time: the machine's cores are shared; more would only queue.
PARALLEL = 2


@dataclass
class Cli:
    """One user's teledeck: its folders, and `run` to call the CLI in a child process."""

    home: Path

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEDECK_", "TELNYX_"))}
        env.pop("NO_COLOR", None)
        env.update({name: str(self.home / folder) for name, folder in FOLDERS.items()})
        return env

    def folder(self, name: str) -> Path:
        return self.home / FOLDERS[f"TELEDECK_{name.upper()}_DIR"]

    def run(self, *args: str, stdin: str = "", env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """`teledeck ARGS` with stdin, stdout and stderr pipes (none of them a terminal)."""
        return subprocess.run(
            [sys.executable, "-m", "tui.cli", *args],
            cwd=ROOT,
            env={**self.env, **(env or {})},
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def run_all(self, commands: Iterable[Sequence[str]]) -> list[subprocess.CompletedProcess[str]]:
        """Several read-only runs, PARALLEL at a time, in order."""
        with ThreadPoolExecutor(PARALLEL) as pool:
            return list(pool.map(lambda args: self.run(*args), commands))

    def log(self) -> str:
        path = self.folder("log") / "teledeck.log"
        return path.read_text() if path.exists() else ""

    def audit(self) -> list[dict[str, str]]:
        path = self.folder("data") / "audit.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    def sandbox_state(self, name: str) -> Path:
        return self.folder("data") / "sandbox" / f"{name}.json"


@pytest.fixture(scope="session")
def seeded_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Folders whose sandbox is seeded (every emulator), copied for each test that uses them.

    teledeck's own bytecode is compiled first, as an installed wheel has it: with
    PYTHONDONTWRITEBYTECODE set, every child would compile its modules from source again."""
    for package in ("tui", "providers"):
        compileall.compile_dir(ROOT / package, quiet=1)
    home = tmp_path_factory.mktemp("cli-seeded")
    done = Cli(home).run("sandbox", "reset")
    assert done.returncode == 0, done.stderr
    return home


@pytest.fixture
def cli(seeded_home: Path, tmp_path: Path) -> Cli:
    """A fresh user with the seeded sandbox, for a test that changes things."""
    home = tmp_path / "home"
    shutil.copytree(seeded_home, home)
    return Cli(home)
