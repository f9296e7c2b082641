"""Reading and validating customs extracts (CSV, XLSX) of import lines.

Pure Python (no Django import): the service feeds it reference sets and writes what it returns.
"""

from .fields import FIELDS, REQUIRED_FIELDS, Field, suggest_mapping
from .reader import FileProblem, Table, open_table
from .validate import RowError, RowValidator, ValidatedRow

__all__ = [
    "FIELDS",
    "REQUIRED_FIELDS",
    "Field",
    "FileProblem",
    "RowError",
    "RowValidator",
    "Table",
    "ValidatedRow",
    "open_table",
    "suggest_mapping",
]
