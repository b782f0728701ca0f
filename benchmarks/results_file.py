"""Writing one benchmark's section of RESULTS.md (shared by the section-owning benchmark modules)."""

from __future__ import annotations

from pathlib import Path


def write_section(results: Path, start: str, end: str, section: str) -> None:
    """Replace the text from ``start`` to ``end`` in ``results`` by ``section`` (which carries both markers), or append it."""
    text = results.read_text() if results.exists() else "# Benchmark results\n"
    if start in text and end in text:
        a, b = text.index(start), text.index(end) + len(end)
        text = text[:a] + section + text[b:]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    results.write_text(text)
