"""Shared helpers of the example gallery: where charts go."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def out_dir() -> Path:
    """Folder for charts: the first argument, else $MULLET_EXAMPLES_OUT, else examples/out/."""
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(os.environ.get("MULLET_EXAMPLES_OUT", Path(__file__).parent / "out"))
    target.mkdir(parents=True, exist_ok=True)
    return target
