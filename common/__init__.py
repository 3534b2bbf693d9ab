"""What every stage shares and no stage owns: the parser version, the root of xxgk's
errors and the atomic file write. Imports nothing of xxgk's, so `load` (and `xxgk query`)
can use these without importing the readers of `extract`."""

from .atomic import atomic_write
from .errors import XxgkError
from .version import PARSER_VERSION

__all__ = ["PARSER_VERSION", "XxgkError", "atomic_write"]
