"""mullet: economics of hybrid AI/HPC + Bitcoin-mining sites.

Layers: pure functions (:mod:`mullet.bitcoin`), validated data
(:mod:`mullet.data`), pipelines (:mod:`mullet.network`), and the CLI
(:mod:`mullet.cli`) that only calls the pipelines.
"""

from importlib.metadata import PackageNotFoundError, version

from mullet.errors import ConsensusError, DataError, MulletError, ScenarioError, SolverError

try:
    __version__ = version("mullet")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

__all__ = ["ConsensusError", "DataError", "MulletError", "ScenarioError", "SolverError", "__version__"]
