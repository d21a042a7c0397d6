"""Every deliberate difference marked in the conformance suite names a row of README's "Differences from PyTorch"
table: the marker's text is that row's first cell (or the start of it, for the longest rows)."""
import re
from pathlib import Path

HERE = Path(__file__).parent
README = HERE.parents[1] / "README.md"


def table_rows() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Differences from PyTorch", 1)[1].split("\n## ", 1)[0]
    cells = [line.split("|")[1].strip() for line in section.splitlines() if line.startswith("| ")]
    return cells[1:]  # after the header's "where"


def marked_rows() -> dict[str, str]:
    """{row text: the file that marks it} for every differs("...") in tests/upstream."""
    return {row: path.name for path in sorted(HERE.glob("test_*.py")) if path.name != Path(__file__).name
            for row in re.findall(r'differs\(\s*"([^"]+)"', path.read_text(encoding="utf-8"))}


def test_every_differs_marker_names_a_readme_row():
    rows = table_rows()
    assert len(rows) > 10, "the README's differences table was not found"
    marked = marked_rows()
    assert marked, "no differs(...) marker found: the pattern no longer matches the test files"
    unknown = {row: name for row, name in marked.items() if not any(cell.startswith(row) for cell in rows)}
    assert not unknown, f"differs(...) markers naming no row of README's Differences table: {unknown}"
