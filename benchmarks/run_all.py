"""Run every benchmark in turn and print their figures (`make bench`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

for script, args in (
    ("cold_start.py", []),  # in a pseudo-terminal, timed from outside
    ("cold_start.py", ["--headless"]),
    ("cold_start.py", ["--latency", "0.5"]),
    ("table_load_filter.py", ["--rows", "100000"]),
    ("list_speed.py", []),
):
    print(f"\n=== {script} {' '.join(args)}", flush=True)
    subprocess.run([sys.executable, str(HERE / script), *args], check=True)
