"""The sample generator, data/generate.py: a tool of the source tree (not part of the
wheel), loaded by path, once per process, for `xxgk sample`, the benchmarks and the tests."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

GENERATOR = Path(__file__).resolve().parent.parent / "data" / "generate.py"
MODULE = "xxgk_generate"
"""Its name in sys.modules (worker processes of `--jobs` find its functions by it)."""


def load_generator() -> ModuleType:
    """data/generate.py as a module; FileNotFoundError outside a source checkout."""
    if MODULE in sys.modules:
        return sys.modules[MODULE]
    spec = importlib.util.spec_from_file_location(MODULE, GENERATOR)
    if spec is None or spec.loader is None or not GENERATOR.exists():
        raise FileNotFoundError(f"the generator {GENERATOR} is not there (it ships with the source tree)")
    module = importlib.util.module_from_spec(spec)
    sys.modules[MODULE] = module
    spec.loader.exec_module(module)
    return module
