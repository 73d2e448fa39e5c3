"""The repo stands alone: a fresh clone has everything its code, tests and docs read or cite.

The official Telnyx OpenAPI subset and the research notes are vendored in docs/reference/
(provenance in docs/reference/README.md). No tracked file may point at the team's folder beside the
repo, and no test may build a path above the repo root from its own location.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from pathlib import Path

from openapi_spec_validator import OpenAPIV31SpecValidator, validate

ROOT = Path(__file__).resolve().parents[2]
THIS = Path(__file__).resolve().relative_to(ROOT).as_posix()
SPEC = ROOT / "docs/reference/telnyx-account-access.openapi.json"
# The official subset, byte for byte (docs/reference/README.md). Change only with a new cut.
SPEC_SHA256 = "9fc28ca8a024f3bdcdedd3f761af608309e2b9d9e01de238128668cc41bec2df"
SPEC_COMMIT = "12de4dd039fd867f7a81c8ec415e6fb6477d5687"  # team-telnyx/openapi, openapi/spec3.yml

# What must stand alone: the code, the tests, the docs, and what builds and runs them.
SCOPE_DIRS = ("providers/", "tui/", "tests/", "docs/", "benchmarks/", ".ci/")
SCOPE_FILES = ("Makefile", "README.md", "pyproject.toml")
# Pointers out of the repo: the folder beside it, by relative or absolute path, or as it was cited.
OUTSIDE = (b"../shared", b"/work/shared", b"shared/reference")
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def tracked_files() -> list[str]:
    """Files in scope that git tracks or would track (not ignored); all on disk outside a git checkout."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            check=True,
            timeout=30,
        ).stdout.decode()
        names = [n for n in out.split("\0") if n]
    except (OSError, subprocess.SubprocessError):
        names = [
            p.relative_to(ROOT).as_posix()
            for p in ROOT.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and ".venv" not in p.parts and ".cache" not in p.parts
        ]
    return sorted(n for n in names if n.startswith(SCOPE_DIRS) or n in SCOPE_FILES)


def outside_pointers(names: list[str], root: Path = ROOT) -> list[str]:
    """`file:line: needle: text` for every line of `names` (relative to `root`) that points outside."""
    found = []
    for name in names:
        if name == THIS or not (root / name).is_file():  # deleted, not yet committed
            continue
        for number, line in enumerate((root / name).read_bytes().splitlines(), 1):
            for needle in OUTSIDE:
                if needle in line:
                    found.append(f"{name}:{number}: {needle.decode()}: {line.decode(errors='replace').strip()}")
    return found


def test_the_scope_is_really_scanned():
    names = tracked_files()
    assert THIS in names
    assert {"Makefile", "README.md", "pyproject.toml", ".ci/run", "docs/decisions.md"} <= set(names)
    assert any(n.startswith("providers/") for n in names) and any(n.startswith("tui/") for n in names)
    assert any(n.startswith("benchmarks/") for n in names)
    assert "docs/reference/telnyx-account-access.openapi.json" in names


def test_the_scan_reports_each_pointer_with_its_line(tmp_path):
    (tmp_path / "x.md").write_text("fine\nsee ../shared/design.md\nopen('/work/shared/a.json')\n", encoding="utf-8")
    assert outside_pointers(["x.md"], tmp_path) == [
        "x.md:2: ../shared: see ../shared/design.md",
        "x.md:3: /work/shared: open('/work/shared/a.json')",
    ]


def test_no_tracked_file_points_outside_the_repo():
    found = outside_pointers([n for n in tracked_files() if n != "README.md"])
    assert not found, "paths outside the repo (vendor into docs/reference/ and cite that):\n" + "\n".join(found)


def test_readme_points_inside_the_repo():
    found = outside_pointers(["README.md"])
    assert not found, "README.md points outside the repo:\n" + "\n".join(found)


# `Path(__file__)`, optionally resolved, then `.parent` k times and/or `.parents[N]`.
CLIMB = re.compile(r"Path\(__file__\)(?:\.resolve\(\))?((?:\.parent(?!s))*)(?:\.parents\[(\d+)\])?")


def climbs_above(names: list[str], root: Path = ROOT) -> list[str]:
    """`file:line: text -> target` for every path built from a file's location that leaves `root`."""
    above = []
    for name in names:
        if name == THIS or not name.endswith(".py") or not (root / name).is_file():
            continue
        path = root / name
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for match in CLIMB.finditer(line):
                levels = match.group(1).count(".parent") + (int(match.group(2)) + 1 if match.group(2) else 0)
                if levels == 0:
                    continue
                target = path.parents[levels - 1] if levels <= len(path.parents) else Path(path.anchor)
                if not target.is_relative_to(root):
                    above.append(f"{name}:{number}: {line.strip()} -> {target}")
    return above


def test_the_climb_check_tells_inside_from_outside(tmp_path):
    (tmp_path / "tests/interop").mkdir(parents=True)
    (tmp_path / "tests/interop/x.py").write_text(
        "REPO = Path(__file__).resolve().parents[2]\n"
        "HERE = Path(__file__).parent.parent.parent\n"
        'SPEC = Path(__file__).parents[3] / "shared/a.json"\n'
        "UP = Path(__file__).resolve().parent.parents[2]\n",
        encoding="utf-8",
    )
    found = climbs_above(["tests/interop/x.py"], tmp_path)
    assert [f.split(":")[1] for f in found] == ["3", "4"], found
    assert all(f.endswith(f"-> {tmp_path.parent}") for f in found), found


def test_no_python_file_climbs_above_the_repo_root():
    """A path built from a file's location must stay inside the repo: nothing sits beside a fresh clone."""
    above = climbs_above(tracked_files())
    assert not above, "paths built above the repo root:\n" + "\n".join(above)


def test_vendored_spec_is_the_official_subset_unchanged():
    assert SPEC.is_file(), f"the vendored spec is missing: {SPEC}"
    digest = hashlib.sha256(SPEC.read_bytes()).hexdigest()
    assert digest == SPEC_SHA256, "docs/reference/telnyx-account-access.openapi.json was edited (see its README)"


def test_vendored_spec_is_valid_openapi_3_json():
    document = json.loads(SPEC.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    assert str(document["openapi"]).startswith("3."), document["openapi"]
    validate(document, cls=OpenAPIV31SpecValidator)
    source = document["info"]["x-source"]
    assert (source["repository"], source["path"], source["commit"]) == (
        "team-telnyx/openapi",
        "openapi/spec3.yml",
        SPEC_COMMIT,
    )
    assert document["servers"][0]["url"] == "https://api.telnyx.com/v2"
    operations = [m for item in document["paths"].values() for m in item if m in HTTP_METHODS]
    assert (len(document["paths"]), len(operations)) == (15, 27)


def test_reference_notes_carry_their_provenance():
    notes = sorted((ROOT / "docs/reference").glob("*.md"))
    assert {p.name for p in notes} >= {"README.md", "telnyx.md", "aliyun.md", "huawei_volcengine.md", "design.md"}
    for note in notes:
        if note.name == "README.md":
            continue
        first = note.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("> Provenance:") and "win" in first, f"{note.name}: {first}"
