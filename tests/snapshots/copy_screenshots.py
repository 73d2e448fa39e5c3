"""Copy the snapshot SVGs into screenshots/ and list them in README (run by `make snapshots`)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted((Path(__file__).resolve().parent / "__snapshots__").glob("test_snapshots*"))
TARGET = ROOT / "screenshots"
START, END = "<!-- screenshots:start -->", "<!-- screenshots:end -->"


def clean_name(svg: Path) -> str:
    name = svg.stem.removeprefix("test_")
    return re.sub(r"[\[\]]+", "-", name).strip("-") + ".svg"


def main() -> None:
    TARGET.mkdir(exist_ok=True)
    for old in TARGET.glob("*.svg"):
        old.unlink()
    names = []
    for svg in sorted(svg for source in SOURCES for svg in source.glob("*.svg")):
        name = clean_name(svg)
        shutil.copyfile(svg, TARGET / name)
        names.append(name)
    readme = ROOT / "README.md"
    text = readme.read_text()
    listing = "\n".join(f"![{n.removesuffix('.svg').replace('_', ' ')}](screenshots/{n})" for n in names)
    text = re.sub(re.escape(START) + ".*?" + re.escape(END), f"{START}\n{listing}\n{END}", text, flags=re.S)
    readme.write_text(text)
    print(f"copied {len(names)} screenshots")


if __name__ == "__main__":
    main()
