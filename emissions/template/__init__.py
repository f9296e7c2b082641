"""The Commission's CBAM communication template: read it, compute SEE from it, write it.

- :func:`read_template` parses a filled template (``.xlsx``) into a :class:`ParsedTemplate`
  (plain frozen dataclasses, ``Decimal`` numbers) or raises :class:`TemplateError` listing
  every problem with its sheet and cell.
- :func:`to_see_inputs` turns it into inputs of the SEE engine (:mod:`emissions.see`);
  :func:`compare` sets the template's own SEE against the engine's.
- :func:`export_summary` writes a ``Summary_Communication`` sheet in the Commission layout.

No Django imports: pure calculation and file handling.
"""

from .compare import Comparison, ComparisonRow, Difference, compare, to_see_inputs
from .errors import Problem, TemplateError
from .export import export_summary
from .model import (
    CellMap,
    GoodsCategory,
    InstallationData,
    InstallationSummary,
    ParsedTemplate,
    PrecursorUse,
    ProcessData,
    ProcessDefinition,
    ProcessSummary,
    ProductRow,
    PurchasedPrecursorData,
    PurchasedPrecursorDefinition,
    RouteAmount,
    SummaryCommunication,
    Verifier,
)
from .reader import DEFAULT_MAX_BYTES, SEE_PLAUSIBLE_MAX, read_template, sector_of_cn

__all__ = [
    "CellMap",
    "DEFAULT_MAX_BYTES",
    "SEE_PLAUSIBLE_MAX",
    "Comparison",
    "ComparisonRow",
    "Difference",
    "GoodsCategory",
    "InstallationData",
    "InstallationSummary",
    "ParsedTemplate",
    "PrecursorUse",
    "Problem",
    "ProcessData",
    "ProcessDefinition",
    "ProcessSummary",
    "ProductRow",
    "PurchasedPrecursorData",
    "PurchasedPrecursorDefinition",
    "RouteAmount",
    "SummaryCommunication",
    "TemplateError",
    "Verifier",
    "compare",
    "export_summary",
    "read_template",
    "sector_of_cn",
    "to_see_inputs",
]
