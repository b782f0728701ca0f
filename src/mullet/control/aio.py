"""Run a coroutine on the fastest event loop installed: uvloop (``pip install 'mullet[fast]'``, in the dev install) or asyncio's own.

``MULLET_EVENT_LOOP=asyncio`` in the environment forces asyncio's loop even when uvloop is installed.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

__all__ = ["loop_name", "run"]

T = TypeVar("T")


def _factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    if os.environ.get("MULLET_EVENT_LOOP", "").lower() == "asyncio":  # opt out of uvloop (comparisons, troubleshooting)
        return None
    try:
        import uvloop  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def loop_name() -> str:
    """``uvloop`` or ``asyncio``: the loop :func:`run` uses."""
    return "uvloop" if _factory() is not None else "asyncio"


def run(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(coro)`` on uvloop when installed."""
    with asyncio.Runner(loop_factory=_factory()) as runner:
        return runner.run(coro)
