"""The ``mullet`` console entry point.

The command line imports pandas, pydantic, Typer and the pipelines before it can install its own error contract.
An interrupt (Ctrl-C) that lands while those imports run is caught here, so it too is one line on stderr and exit
code 130, never a traceback.
"""

from __future__ import annotations

import sys

STARTING = "interrupted while starting: nothing was run and nothing was written"


def forget_handled_interrupt() -> None:
    """Keep the exit code that was chosen after an interrupt was handled.

    CPython marks the interpreter to kill itself with SIGINT at exit (exit status -2, whatever
    ``sys.exit`` said) when a KeyboardInterrupt leaves an ``exec()`` of source text, which some libraries
    run while importing (SciPy's array-API shim does). Every ``exec()`` of source text resets that mark
    first, so running an empty one after the interrupt was handled clears it on any CPython version.
    """
    exec("pass", {})


def main(argv: list[str] | None = None) -> None:
    """Import the command line (guarded against an early Ctrl-C), then run it."""
    try:
        from mullet.cli import main as cli_main
    except KeyboardInterrupt:
        sys.stderr.write(f"{STARTING}\n")
        forget_handled_interrupt()
        raise SystemExit(130) from None
    cli_main(argv)
