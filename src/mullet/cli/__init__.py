"""The ``mullet`` command line: one module per command group; it only parses arguments, calls pipelines and renders results."""

from __future__ import annotations

import sys

import click
from pydantic import ValidationError

from mullet._entry import forget_handled_interrupt
from mullet.cli import control, data, dispatch, fleet, grid, industry, network, plan, runs, web  # noqa: F401  (registers the commands)
from mullet.cli._common import app, err_console
from mullet.errors import MulletError

__all__ = ["app", "main"]


def _click_classes(name: str) -> tuple[type[BaseException], ...]:
    """The exception class ``name`` of click and of Typer's bundled copy of click (Typer >= 0.17 raises its own)."""
    found: list[type[BaseException]] = [getattr(click.exceptions, name)]
    try:
        from typer._click import exceptions as bundled  # type: ignore[import-not-found, unused-ignore]

        found.append(getattr(bundled, name))
    except (ImportError, AttributeError):
        pass
    import typer.exceptions

    if hasattr(typer.exceptions, name):
        found.append(getattr(typer.exceptions, name))
    return tuple(found)


_EXIT = _click_classes("Exit")
_ABORT = _click_classes("Abort")
_CLICK_ERROR = _click_classes("ClickException")
_NO_ARGS = _click_classes("NoArgsIsHelpError") if hasattr(click.exceptions, "NoArgsIsHelpError") else ()


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _invoke(args: list[str]) -> None:
    """Run the command without Typer's standalone handling, so that every exception reaches :func:`main`.

    (Typer turns a KeyboardInterrupt into a *returned* exit code 130 when not standalone, which a
    caller cannot tell from success; here the interrupt itself propagates.)
    """
    import typer.main

    command = typer.main.get_command(app)
    with command.make_context("mullet", args) as ctx:
        command.invoke(ctx)


def _show_warnings_as_lines() -> None:
    """Plausibility warnings (and other user warnings) print as one ``warning:`` line on stderr, each once."""
    import warnings

    from mullet.errors import PlausibilityWarning

    def show(message: Warning | str, category: type[Warning], filename: str, lineno: int, file: object = None, line: str | None = None) -> None:
        label = "warning" if issubclass(category, PlausibilityWarning) else f"warning ({category.__name__})"
        err_console.print(f"{label}: {_one_line(str(message))}", markup=False, highlight=False, soft_wrap=True)

    warnings.showwarning = show
    warnings.simplefilter("default", PlausibilityWarning)


def main(argv: list[str] | None = None) -> None:
    """Run the command line under the exit-code contract.

    0 success; 2 bad usage or input (one line naming the option or field); 130 interrupted;
    1 an unexpected failure (a short message; ``--debug`` or MULLET_DEBUG=1 shows the traceback).
    """
    import os

    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or os.environ.get("MULLET_DEBUG") == "1"
    args = [a for a in args if a != "--debug"]  # accepted anywhere on the line; the root option documents it
    _show_warnings_as_lines()
    try:
        _run_under_contract(args, debug)
    finally:
        forget_handled_interrupt()  # an interrupt we handled must not turn the exit code into a signal death


def _run_under_contract(args: list[str], debug: bool) -> None:
    try:
        _invoke(args)
    except _EXIT as exc:
        sys.exit(getattr(exc, "exit_code", 0))
    except _NO_ARGS:
        sys.exit(2)  # Typer has already printed the help while raising this
    except _ABORT:
        err_console.print("interrupted: nothing was kept", markup=False)
        sys.exit(130)
    except KeyboardInterrupt:
        err_console.print("interrupted: nothing was kept", markup=False)
        sys.exit(130)
    except _CLICK_ERROR as exc:
        err_console.print(f"error: {_one_line(exc.format_message()).replace('Value error, ', '')}", markup=False, highlight=False, soft_wrap=True)  # type: ignore[attr-defined]
        sys.exit(2)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or exc.title
        more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        value = first.get("input")
        shown = "" if isinstance(value, dict | list) else f" (got {value!r})"  # a model-level rule names its own field and value
        msg = _one_line(first["msg"]).removeprefix("Value error, ")
        err_console.print(f"error: {field}: {msg}{shown}{more}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(2)
    except (MulletError, ValueError, OSError) as exc:
        if debug:
            raise
        err_console.print(f"error: {_one_line(str(exc))}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(2)
    except Exception as exc:
        if debug:
            raise
        err_console.print(f"crash: {type(exc).__name__}: {_one_line(str(exc))[:300]} (rerun with --debug for the traceback)", markup=False, highlight=False)
        sys.exit(1)


if __name__ == "__main__":
    main()
