"""Where the CMeKG graph comes from: the pickle shipped inside the installed `pycmekg` package.

The package's own code is never imported (it would unpickle 46 MB on every start); we locate its
data file with `importlib.util.find_spec` and read it only when the index must be (re)built.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import pickle
from dataclasses import dataclass
from pathlib import Path

from pedgpt.errors import PedGPTError

#: Distribution and import names of the CMeKG package on PyPI.
DISTRIBUTION = "pycmekg"
PACKAGE = "pyCMeKG"
PICKLE = Path("model") / "cmekg.pkl"


@dataclass(frozen=True)
class SourceInfo:
    """Identity of a graph source file, recorded in the index to detect changes."""

    path: str
    """Absolute path of the pickle."""
    version: str
    """pycmekg distribution version ("unknown" for a file given explicitly outside the package)."""
    size: int
    """File size in bytes."""
    mtime_ns: int
    """Modification time (ns)."""


def default_source() -> Path:
    """Path of the installed pycmekg pickle; a clear error when the package is missing."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise PedGPTError("the CMeKG data package is not installed (pip install pycmekg==0.2.5)")
    path = Path(list(spec.submodule_search_locations)[0]) / PICKLE
    if not path.is_file():
        raise PedGPTError(f"the CMeKG data file is missing: {path}")
    return path


def package_version() -> str:
    try:
        return importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def describe(path: Path) -> SourceInfo:
    stat = path.stat()
    return SourceInfo(str(path.resolve()), package_version(), stat.st_size, stat.st_mtime_ns)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_graph(path: Path) -> dict[str, dict[str, list[str]]]:
    """Read the pickle: `dict[entity] -> dict[predicate] -> list[str]` (non-list values dropped)."""
    with open(path, "rb") as handle:
        raw = pickle.load(handle)  # noqa: S301 - trusted data file of an installed package
    if not isinstance(raw, dict):
        raise PedGPTError(f"unexpected CMeKG data format in {path}")
    graph: dict[str, dict[str, list[str]]] = {}
    for entity, predicates in raw.items():
        if not isinstance(entity, str) or not isinstance(predicates, dict):
            continue
        graph[entity] = {p: [str(v) for v in vals] for p, vals in predicates.items()
                         if isinstance(p, str) and isinstance(vals, list)}
    return graph
