"""Import of the Commission's transitional CBAM quarterly report XML (QReport, [R956] Art 35).

- :func:`parse_qreport` reads a report safely into frozen dataclasses (:mod:`.model`).
- :func:`validate_qreport` checks it against the Commission XSD.
- :func:`suppliers_from_qreport` summarises operators → installations → goods for pre-filling.
- Problems are :class:`Problem` values; :class:`QReportError` (a ``ValueError``) carries them.

Pure Python (lxml, xmlschema): no Django import.
"""

from .errors import Problem, QReportError
from .model import QReport, SupplierSummary, suppliers_from_qreport
from .parser import DEFAULT_MAX_BYTES, NAMESPACE, parse_qreport
from .validate import validate_qreport

__all__ = [
    "DEFAULT_MAX_BYTES",
    "NAMESPACE",
    "Problem",
    "QReport",
    "QReportError",
    "SupplierSummary",
    "parse_qreport",
    "suppliers_from_qreport",
    "validate_qreport",
]
