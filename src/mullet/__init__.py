"""mullet: economics of hybrid AI/HPC + Bitcoin-mining sites.

Layers: pure functions (:mod:`mullet.bitcoin`), validated data
(:mod:`mullet.data`), pipelines (:mod:`mullet.network`), and the CLI
(:mod:`mullet.cli`) that only calls the pipelines.
"""

from mullet.errors import ConsensusError, DataError, MulletError, ScenarioError, SolverError


def __getattr__(name: str) -> str:
    """``__version__`` is read from the installed metadata on first use (keeps ``import mullet`` light)."""
    if name != "__version__":
        raise AttributeError(f"module 'mullet' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mullet")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
        return "0.0.0"


__all__ = ["ConsensusError", "DataError", "MulletError", "ScenarioError", "SolverError", "__version__"]
