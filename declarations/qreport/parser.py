"""Safe reading of the Commission's transitional CBAM quarterly report XML (QReport v17.03).

Security: the file is size-checked before any byte is parsed; a document with a DOCTYPE or
ENTITY declaration is refused outright (no legitimate QReport has one, and they carry the
"billion laughs" and external-entity attacks); lxml runs with entity resolution, DTD loading and
network access off and with libxml2's default size limits (``huge_tree=False``).

Strictness: :func:`parse_qreport` is a reader, not the schema. It checks what the portal
relies on when it imports a report:

- the root ``QReport`` element in the namespace :data:`NAMESPACE` (a document without the
  namespace is refused: it is not a Commission report, and guessing would hide a wrong file);
- presence of the identifiers and values it reads (reporting period, year, declarant, each good's
  item number, CN code, origin, quantities and totals, each installation's ids, names and
  emissions). The header ``DraftReportId``, ``TotalImported`` and ``TotalEmissions`` are
  optional here because the Commission's own sample omits them; ``CommodityCode`` is required
  here although optional in the schema, because nothing can be pre-filled without a CN code;
- the type of every value read: numbers in XML notation with a dot as decimal separator ("1,5"
  and "1,000" are refused: guessing could be out by a factor of 1000), whole numbers, two-letter
  country and three-letter currency codes (upper-cased), coordinates within ±90/±180, and an
  8-digit CN code (``HsCode`` + the two ``CnCode`` digits; a full 8-digit ``CnCode`` that
  starts with the HS code, as in the Commission sample, is accepted).

Length limits, code lists, element order and value ranges such as the four-digit ``Year`` are
left to :func:`declarations.qreport.validate.validate_qreport` against the XSD, so a historic
report that is readable but not perfectly schema-valid can still be imported (the Commission
sample, with ``Year`` 20229, parses with ``year == 20229``).

All problems are collected and raised together as one :class:`QReportError`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, TypeVar

from lxml import etree

from .errors import DOCUMENT, REPEATABLE_ELEMENTS, Problem, QReportError
from .model import (
    Address,
    CarbonPriceDue,
    Commodity,
    Contact,
    DirectEmissions,
    EmissionsTotals,
    GoodsEmissions,
    ImportedGood,
    ImportedQuantity,
    IndirectEmissions,
    Installation,
    InstallationAddress,
    Measure,
    Operator,
    Party,
    Procedure,
    ProductCovered,
    ProductionMethod,
    QReport,
    QualifyingParameter,
)

__all__ = [
    "DEFAULT_MAX_BYTES",
    "NAMESPACE",
    "Source",
    "element_path",
    "load_xml",
    "parse_qreport",
    "read_source",
]

NAMESPACE = "http://xmlns.ec.eu/BusinessObjects/CBAM/Types/V1"
ROOT = "QReport"

#: Default upper bound for a report file. Attachments travel base64-encoded inside the XML, so
#: real reports can reach tens of megabytes.
DEFAULT_MAX_BYTES = 50 * 1024 * 1024

Source = bytes | bytearray | memoryview | str | os.PathLike[str] | IO[bytes]

_T = TypeVar("_T")

_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_WHOLE = re.compile(r"\d+")
_COUNTRY = re.compile(r"[A-Za-z]{2}")
_CURRENCY = re.compile(r"[A-Za-z]{3}")
_LXML_POSITION = re.compile(r", line \d+, column \d+$")
# DOCTYPE/ENTITY declarations in the encodings a report may use (UTF-8 and other ASCII
# supersets, UTF-16 either way round).
_FORBIDDEN_DECLARATIONS = tuple(
    marker.encode(encoding)
    for marker in ("<!DOCTYPE", "<!ENTITY")
    for encoding in ("ascii", "utf-16-le", "utf-16-be")
)


# --------------------------------------------------------------------------------------------
# Reading bytes and parsing safely (shared with validate.py)
# --------------------------------------------------------------------------------------------


def _size_text(size: int) -> str:
    for unit, factor in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= factor:
            return f"{size / factor:.1f} {unit}"
    return f"{size} bytes"


def _too_large(size: int, max_bytes: int) -> QReportError:
    return QReportError(
        [Problem(DOCUMENT, f"The file is {_size_text(size)}; the limit is {_size_text(max_bytes)}.")]
    )


def read_source(source: Source, *, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """Return the bytes of ``source``, refusing it by size before reading when the size is known.

    ``source`` is the XML as ``bytes``, a file path (``str`` or path object) or a binary file
    object (an uploaded file's declared ``size`` is checked first). At most ``max_bytes + 1``
    bytes are ever read.
    """
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        if len(data) > max_bytes:
            raise _too_large(len(data), max_bytes)
        return data
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        try:
            size = path.stat().st_size
            if size > max_bytes:
                raise _too_large(size, max_bytes)
            with path.open("rb") as handle:
                data = handle.read(max_bytes + 1)
        except OSError as exc:
            raise QReportError(
                [Problem(DOCUMENT, f"The file cannot be read: {exc.strerror or exc}.")]
            ) from None
    else:
        declared = getattr(source, "size", None)
        if isinstance(declared, int) and declared > max_bytes:
            raise _too_large(declared, max_bytes)
        data = source.read(max_bytes + 1)
        if isinstance(data, str):
            raise QReportError([Problem(DOCUMENT, "The file must be opened in binary mode.")])
    if len(data) > max_bytes:
        raise _too_large(len(data), max_bytes)
    return data


def _hardened_parser() -> etree.XMLParser:
    # A new parser per document: lxml parsers are not thread-safe and keep an error log.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def load_xml(data: bytes) -> etree._Element:
    """Parse ``data`` with the hardened parser and return the root element.

    Raises :class:`QReportError` for a DOCTYPE/ENTITY declaration (before parsing), for XML
    that is not well-formed (with line and column) and for an empty document.
    """
    if not data.strip():
        raise QReportError([Problem(DOCUMENT, "The file is empty.")])
    if any(marker in data for marker in _FORBIDDEN_DECLARATIONS):
        raise QReportError(
            [
                Problem(
                    DOCUMENT,
                    "The file contains a DOCTYPE or ENTITY declaration; quarterly reports never "
                    "need one and such files are refused for security.",
                )
            ]
        )
    try:
        root = etree.fromstring(data, _hardened_parser())
    except etree.XMLSyntaxError as exc:
        line, column = exc.position if exc.position else (exc.lineno, None)
        message = _LXML_POSITION.sub("", exc.msg or str(exc)).rstrip(".")
        raise QReportError(
            [Problem(DOCUMENT, f"The file is not well-formed XML: {message}.", line, column)]
        ) from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:  # second line of defence
        raise QReportError([Problem(DOCUMENT, "The file contains a DOCTYPE declaration and is refused.")])
    return root


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def element_path(element: etree._Element) -> str:
    """The location of ``element`` in the style of :mod:`.errors` (repeatable elements indexed)."""
    steps = []
    node: etree._Element | None = element
    while node is not None:
        name = _local(node.tag)
        parent = node.getparent()
        if parent is not None:
            same = [sibling for sibling in parent.iterchildren(node.tag)]
            if name in REPEATABLE_ELEMENTS or len(same) > 1:
                name += f"[{same.index(node) + 1}]"
        steps.append(name)
        node = parent
    return "/" + "/".join(reversed(steps))


# --------------------------------------------------------------------------------------------
# Reading the report
# --------------------------------------------------------------------------------------------


def _q(name: str) -> str:
    return f"{{{NAMESPACE}}}{name}"


class _Invalid(Exception):
    """A required part could not be built; its problem is already recorded."""


class _Reader:
    """Walks the tree, records problems with their locations and builds the model."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    # -- problems ---------------------------------------------------------------------------

    def problem(self, path: str, message: str, element: etree._Element | None = None) -> None:
        line = element.sourceline if element is not None else None
        self.problems.append(Problem(path, message, line))

    # -- navigation -------------------------------------------------------------------------

    def child(
        self, parent: etree._Element, path: str, name: str, *, required: bool = False
    ) -> tuple[etree._Element | None, str]:
        found = parent.find(_q(name))
        child_path = f"{path}/{name}"
        if found is None and required:
            self._missing(parent, child_path, name)
        return found, child_path

    def children(
        self, parent: etree._Element, path: str, name: str, *, required: bool = False
    ) -> list[tuple[etree._Element, str]]:
        found = list(parent.iterchildren(_q(name)))
        if not found and required:
            self._missing(parent, f"{path}/{name}[1]", name)
        return [(element, f"{path}/{name}[{index}]") for index, element in enumerate(found, start=1)]

    def _missing(self, parent: etree._Element, path: str, name: str) -> None:
        if parent.find(name) is not None:
            self.problem(path, f"The element is not in the namespace {NAMESPACE}.", parent.find(name))
        else:
            self.problem(path, "Required element is missing.", parent)

    # -- values -----------------------------------------------------------------------------

    def _value(
        self,
        parent: etree._Element,
        path: str,
        name: str,
        convert: Callable[[str], _T],
        what: str,
        required: bool,
    ) -> _T | None:
        element, value_path = self.child(parent, path, name, required=required)
        if element is None:
            return None
        text = (element.text or "").strip()
        if not text:
            if required:
                self.problem(value_path, "Required value is empty.", element)
            return None
        try:
            return convert(text)
        except ValueError as exc:
            detail = f" ({exc})" if str(exc) else ""
            self.problem(value_path, f"“{text}” is not {what}{detail}.", element)
            return None

    def text(self, parent: etree._Element, path: str, name: str, *, required: bool = False) -> str | None:
        return self._value(parent, path, name, str, "text", required)

    def decimal(
        self,
        parent: etree._Element,
        path: str,
        name: str,
        *,
        required: bool = False,
        non_negative: bool = False,
        bounds: tuple[Decimal, Decimal] | None = None,
    ) -> Decimal | None:
        def convert(text: str) -> Decimal:
            if "," in text:
                raise ValueError("use a dot as the decimal separator and no thousands separator")
            if not _DECIMAL.fullmatch(text):
                raise ValueError("")
            try:
                value = Decimal(text)
            except InvalidOperation:  # pragma: no cover - the pattern admits only valid numbers
                raise ValueError("") from None
            if non_negative and value < 0:
                raise ValueError("must not be negative")
            if bounds is not None and not bounds[0] <= value <= bounds[1]:
                raise ValueError(f"must be between {bounds[0]} and {bounds[1]}")
            return value

        return self._value(parent, path, name, convert, "a number", required)

    def whole(self, parent: etree._Element, path: str, name: str, *, required: bool = False) -> int | None:
        def convert(text: str) -> int:
            if not _WHOLE.fullmatch(text):
                raise ValueError("")
            return int(text)

        return self._value(parent, path, name, convert, "a whole number", required)

    def code(
        self,
        parent: etree._Element,
        path: str,
        name: str,
        pattern: re.Pattern[str],
        what: str,
        *,
        required: bool = False,
    ) -> str | None:
        def convert(text: str) -> str:
            if not pattern.fullmatch(text):
                raise ValueError("")
            return text.upper()

        return self._value(parent, path, name, convert, what, required)

    def country(self, parent: etree._Element, path: str, name: str, *, required: bool = False) -> str | None:
        return self.code(parent, path, name, _COUNTRY, "a 2-letter country code (e.g. TR)", required=required)

    def datetime(self, parent: etree._Element, path: str, name: str) -> datetime | None:
        return self._value(
            parent, path, name, datetime.fromisoformat, "a date and time (e.g. 2023-08-08T08:21:14Z)", False
        )

    @staticmethod
    def need(value: _T | None) -> _T:
        """A required value that failed (its problem is recorded) makes its parent unbuildable."""
        if value is None:
            raise _Invalid
        return value

    def optional(self, build: Callable[[], _T]) -> _T | None:
        try:
            return build()
        except _Invalid:
            return None

    # -- parts ------------------------------------------------------------------------------

    def address(self, parent: etree._Element, path: str, name: str, *, required: bool) -> Address | None:
        element, p = self.child(parent, path, name, required=required)
        if element is None:
            return None
        country = self.country(element, p, "Country", required=True)
        # Read every field before giving up so that all problems are reported.
        fields = {
            "subdivision": self.text(element, p, "SubDivision"),
            "city": self.text(element, p, "City"),
            "street": self.text(element, p, "Street"),
            "street_additional_line": self.text(element, p, "StreetAdditionalLine"),
            "number": self.text(element, p, "Number"),
            "postcode": self.text(element, p, "Postcode"),
            "po_box": self.text(element, p, "POBox"),
        }
        if country is None:
            return None
        return Address(country=country, **fields)

    def party(
        self, parent: etree._Element, path: str, name: str, address_name: str, *, required: bool
    ) -> Party | None:
        element, p = self.child(parent, path, name, required=required)
        if element is None:
            return None
        identification = self.text(element, p, "IdentificationNumber", required=True)
        party_name = self.text(element, p, "Name", required=True)
        role = self.text(element, p, "Role") if name == "Declarant" else None
        address = self.address(element, p, address_name, required=True)
        if identification is None or party_name is None:
            return None
        return Party(identification_number=identification, name=party_name, address=address, role=role)

    def measure(
        self, parent: etree._Element, path: str, name: str, *, with_indicator: bool = False
    ) -> Measure | None:
        element, p = self.child(parent, path, name, required=True)
        return None if element is None else self.measure_element(element, p, with_indicator=with_indicator)

    def measure_element(
        self, element: etree._Element, p: str, *, with_indicator: bool = False
    ) -> Measure | None:
        indicator = self.whole(element, p, "Indicator", required=True) if with_indicator else None
        net_mass = self.decimal(element, p, "NetMass", non_negative=True)
        supplementary = self.decimal(element, p, "SupplementaryUnits", non_negative=True)
        unit = self.text(element, p, "MeasurementUnit", required=True)
        if unit is None or (with_indicator and indicator is None):
            return None
        return Measure(
            net_mass=net_mass, supplementary_units=supplementary, measurement_unit=unit, indicator=indicator
        )

    def totals(
        self, parent: etree._Element, path: str, name: str, *, per_unit: bool
    ) -> EmissionsTotals | None:
        element, p = self.child(parent, path, name, required=True)
        if element is None:
            return None
        emissions_per_unit = self.decimal(element, p, "EmissionsPerUnit", required=True) if per_unit else None
        overall = self.decimal(element, p, "OverallEmissions", required=True)
        direct = self.decimal(element, p, "TotalDirect", required=True)
        indirect = self.decimal(element, p, "TotalIndirect", required=True)
        unit = self.text(element, p, "MeasurementUnit", required=True)
        try:
            return EmissionsTotals(
                overall_emissions=self.need(overall),
                total_direct=self.need(direct),
                total_indirect=self.need(indirect),
                measurement_unit=self.need(unit),
                emissions_per_unit=self.need(emissions_per_unit) if per_unit else None,
            )
        except _Invalid:
            return None

    def commodity(self, good: etree._Element, path: str) -> Commodity | None:
        element, p = self.child(good, path, "CommodityCode", required=True)
        if element is None:
            return None
        hs_code = self.text(element, p, "HsCode", required=True)
        cn_code = self.text(element, p, "CnCode", required=True)
        details, details_path = self.child(element, p, "CommodityDetails")
        description = self.text(details, details_path, "Description") if details is not None else None
        if hs_code is None or cn_code is None:
            return None
        hs_digits, cn_digits = re.sub(r"\s", "", hs_code), re.sub(r"\s", "", cn_code)
        if not re.fullmatch(r"\d{6}", hs_digits):
            self.problem(f"{p}/HsCode", f"“{hs_code}” is not a 6-digit HS code.", element)
            return None
        if re.fullmatch(r"\d{2}", cn_digits):
            cn8 = hs_digits + cn_digits
        elif re.fullmatch(r"\d{8}", cn_digits):
            # Some reports (including the Commission's sample) repeat the full CN code here.
            if not cn_digits.startswith(hs_digits):
                self.problem(
                    f"{p}/CnCode", f"“{cn_code}” does not start with the HS code {hs_digits}.", element
                )
                return None
            cn8 = cn_digits
        else:
            self.problem(
                f"{p}/CnCode", f"“{cn_code}” is neither the 2 CN digits nor an 8-digit CN code.", element
            )
            return None
        return Commodity(hs_code=hs_digits, cn_code=cn_digits, cn8=cn8, description=description)

    def quantity(self, element: etree._Element, p: str) -> ImportedQuantity | None:
        sequence = self.whole(element, p, "SequenceNumber", required=True)
        procedure_element, procedure_path = self.child(element, p, "Procedure", required=True)
        procedure = None
        if procedure_element is not None:
            requested = self.text(procedure_element, procedure_path, "RequestedProc", required=True)
            previous = self.text(procedure_element, procedure_path, "PreviousProc")
            procedure = Procedure(requested, previous) if requested is not None else None
        area_element, area_path = self.child(element, p, "ImportArea", required=True)
        import_area = self.text(area_element, area_path, "ImportArea") if area_element is not None else None
        measures = [
            self.measure_element(measure, measure_path, with_indicator=True)
            for measure, measure_path in self.children(element, p, "MeasureProcedureImported", required=True)
        ]
        special, special_path = self.child(element, p, "SpecialReferences")
        special_text = (
            self.text(special, special_path, "AdditionalInformation") if special is not None else None
        )
        if sequence is None or procedure is None or not measures or None in measures:
            return None
        return ImportedQuantity(
            sequence_number=sequence,
            procedure=procedure,
            import_area=import_area,
            measures=tuple(m for m in measures if m is not None),
            special_references=special_text,
        )

    def operator(self, element: etree._Element, p: str) -> Operator | None:
        operator_id = self.text(element, p, "OperatorId", required=True)
        name = self.text(element, p, "OperatorName", required=True)
        address = self.address(element, p, "OperatorAddress", required=True)
        contacts = tuple(
            Contact(
                name=self.text(contact, contact_path, "Name"),
                phone=self.text(contact, contact_path, "Phone"),
                email=self.text(contact, contact_path, "Email"),
            )
            for contact, contact_path in self.children(element, p, "ContactDetails")
        )
        if operator_id is None or name is None:
            return None
        return Operator(operator_id=operator_id, name=name, address=address, contacts=contacts)

    def installation(self, element: etree._Element, p: str) -> Installation | None:
        installation_id = self.text(element, p, "InstallationId", required=True)
        name = self.text(element, p, "InstallationName", required=True)
        activity = self.text(element, p, "EconomicActivity")
        address_element, a = self.child(element, p, "Address", required=True)
        address = None
        if address_element is not None:
            country = self.country(address_element, a, "EstablishmentCountry", required=True)
            fields = {
                "subdivision": self.text(address_element, a, "SubDivision"),
                "city": self.text(address_element, a, "City"),
                "street": self.text(address_element, a, "Street"),
                "street_additional_line": self.text(address_element, a, "StreetAdditionalLine"),
                "number": self.text(address_element, a, "Number"),
                "postcode": self.text(address_element, a, "Postcode"),
                "po_box": self.text(address_element, a, "POBox"),
                "plot_parcel_number": self.text(address_element, a, "PlotParcelNumber"),
                "unlocode": self.text(address_element, a, "UNLOCODE"),
                "latitude": self.decimal(address_element, a, "Latitude", bounds=(Decimal(-90), Decimal(90))),
                "longitude": self.decimal(
                    address_element, a, "Longitude", bounds=(Decimal(-180), Decimal(180))
                ),
                "coordinates_type": self.text(address_element, a, "CoordinatesType"),
            }
            if country is not None:
                address = InstallationAddress(country=country, **fields)
        if installation_id is None or name is None:
            return None
        return Installation(
            installation_id=installation_id, name=name, economic_activity=activity, address=address
        )

    def direct(self, element: etree._Element, p: str) -> DirectEmissions:
        return DirectEmissions(
            determination_type=self.text(element, p, "DeterminationType"),
            determination_type_electricity=self.text(element, p, "DeterminationTypeElectricity"),
            applicable_reporting_type_methodology=self.text(element, p, "ApplicableReportingTypeMethodology"),
            applicable_reporting_methodology=self.text(element, p, "ApplicableReportingMethodology"),
            specific_embedded_emissions=self.decimal(element, p, "SpecificEmbeddedEmissions"),
            other_source_indication=self.text(element, p, "OtherSourceIndication"),
            emission_factor_source_electricity=self.text(element, p, "EmissionFactorSourceElectricity"),
            emission_factor=self.decimal(element, p, "EmissionFactor"),
            electricity_imported=self.decimal(element, p, "ElectricityImported"),
            total_embedded_electricity_imported=self.decimal(element, p, "TotalEmbeddedElectricityImported"),
            measurement_unit=self.text(element, p, "MeasurementUnit"),
            emission_factor_source_value=self.text(element, p, "EmissionFactorSourceValue"),
            justification=self.text(element, p, "Justification"),
            conditionality_fulfillment=self.text(element, p, "ConditionalityFulfillment"),
        )

    def indirect(self, element: etree._Element, p: str) -> IndirectEmissions | None:
        determination = self.text(element, p, "DeterminationType", required=True)
        factor_source = self.text(element, p, "EmissionFactorSource")
        factor = self.decimal(element, p, "EmissionFactor")
        see = self.decimal(element, p, "SpecificEmbeddedEmissions", required=True)
        unit = self.text(element, p, "MeasurementUnit")
        consumed = self.decimal(element, p, "ElectricityConsumed", non_negative=True)
        source = self.text(element, p, "ElectricitySource")
        other = self.text(element, p, "OtherSourceIndication")
        factor_value = self.text(element, p, "EmissionFactorSourceValue")
        if determination is None or see is None:
            return None
        return IndirectEmissions(
            determination_type=determination,
            emission_factor_source=factor_source,
            emission_factor=factor,
            specific_embedded_emissions=see,
            measurement_unit=unit,
            electricity_consumed=consumed,
            electricity_source=source,
            other_source_indication=other,
            emission_factor_source_value=factor_value,
        )

    def parameters(self, element: etree._Element, p: str, name: str) -> tuple[QualifyingParameter, ...]:
        result = []
        for parameter, pp in self.children(element, p, name):
            sequence = self.whole(parameter, pp, "SequenceNumber", required=True)
            determination = self.text(parameter, pp, "DeterminationType")
            parameter_id = self.text(parameter, pp, "ParameterId", required=True)
            parameter_name = self.text(parameter, pp, "ParameterName")
            description = self.text(parameter, pp, "Description")
            value_type = self.text(parameter, pp, "ParameterValueType")
            value = self.text(parameter, pp, "ParameterValue", required=True)
            info = self.text(parameter, pp, "AdditionalInformation")
            if sequence is None or parameter_id is None or value is None:
                continue
            result.append(
                QualifyingParameter(
                    sequence,
                    determination,
                    parameter_id,
                    parameter_name,
                    description,
                    value_type,
                    value,
                    info,
                )
            )
        return tuple(result)

    def production_method(self, element: etree._Element, p: str) -> ProductionMethod | None:
        sequence = self.whole(element, p, "SequenceNumber", required=True)
        method_id = self.text(element, p, "MethodId", required=True)
        method_name = self.text(element, p, "MethodName")
        steel_mill = self.text(element, p, "SteelMillNumber")
        info = self.text(element, p, "AdditionalInformation")
        direct = self.parameters(element, p, "DirectQualifyingParameters")
        indirect = self.parameters(element, p, "IndirectQualifyingParameters")
        if sequence is None or method_id is None:
            return None
        return ProductionMethod(sequence, method_id, method_name, steel_mill, info, direct, indirect)

    def carbon_price(self, element: etree._Element, p: str) -> CarbonPriceDue | None:
        sequence = self.whole(element, p, "SequenceNumber", required=True)
        instrument = self.text(element, p, "InstrumentType", required=True)
        legal_act = self.text(element, p, "LegalActDescription")
        amount = self.decimal(element, p, "Amount", required=True)
        currency = self.code(
            element, p, "Currency", _CURRENCY, "a 3-letter currency code (e.g. USD)", required=True
        )
        exchange_rate = self.text(element, p, "ExchangeRate")
        amount_eur = self.decimal(element, p, "EURO", required=True)
        country = self.country(element, p, "Country", required=True)
        products = []
        for product, pp in self.children(element, p, "ProductsCovered"):
            product_sequence = self.whole(product, pp, "SequenceNumber", required=True)
            product_type = self.text(product, pp, "Type", required=True)
            cn = self.text(product, pp, "CN")
            covered = self.decimal(product, pp, "QuantityCovered", required=True, non_negative=True)
            free = self.decimal(product, pp, "QuantityCoveredFreeAloc", required=True, non_negative=True)
            supplementary = self.text(product, pp, "SupplementaryInformation")
            info = self.text(product, pp, "AdditionalInformation")
            measure_element, mp = self.child(product, pp, "Measure")
            measure = self.measure_element(measure_element, mp) if measure_element is not None else None
            if None in (product_sequence, product_type, covered, free):
                continue
            products.append(
                ProductCovered(
                    product_sequence, product_type, cn, covered, free, supplementary, info, measure
                )
            )
        try:
            return CarbonPriceDue(
                sequence_number=self.need(sequence),
                instrument_type=self.need(instrument),
                legal_act_description=legal_act,
                amount=self.need(amount),
                currency=self.need(currency),
                exchange_rate=exchange_rate,
                amount_eur=self.need(amount_eur),
                country=self.need(country),
                products_covered=tuple(products),
            )
        except _Invalid:
            return None

    def goods_emissions(self, element: etree._Element, p: str) -> GoodsEmissions | None:
        sequence = self.whole(element, p, "SequenceNumber", required=True)
        production_country = self.country(element, p, "ProductionCountry")
        operator_element, op = self.child(element, p, "InstallationOperator")
        operator = self.operator(operator_element, op) if operator_element is not None else None
        installation_element, ip = self.child(element, p, "Installation")
        installation = (
            self.installation(installation_element, ip) if installation_element is not None else None
        )
        produced = self.measure(element, p, "ProducedMeasure")
        installation_emissions = self.totals(element, p, "InstallationEmissions", per_unit=False)
        direct_element, dp = self.child(element, p, "DirectEmissions", required=True)
        direct = self.direct(direct_element, dp) if direct_element is not None else None
        indirect_element, xp = self.child(element, p, "IndirectEmissions")
        indirect = self.indirect(indirect_element, xp) if indirect_element is not None else None
        methods = [
            self.production_method(m, mp) for m, mp in self.children(element, p, "ProdMethodQualifyingParams")
        ]
        prices = [self.carbon_price(c, cp) for c, cp in self.children(element, p, "CarbonPriceDue")]
        remarks = [
            self.text(r, rp, "AdditionalInformation")
            for r, rp in self.children(element, p, "RemarksEmissions")
        ]
        try:
            return GoodsEmissions(
                sequence_number=self.need(sequence),
                production_country=production_country,
                operator=operator,
                installation=installation,
                produced_measure=self.need(produced),
                installation_emissions=self.need(installation_emissions),
                direct=self.need(direct),
                indirect=indirect,
                production_methods=tuple(m for m in methods if m is not None),
                carbon_prices_due=tuple(c for c in prices if c is not None),
                remarks=tuple(r for r in remarks if r is not None),
                path=p,
            )
        except _Invalid:
            return None

    def imported_good(self, element: etree._Element, p: str) -> ImportedGood | None:
        item_number = self.whole(element, p, "ItemNumber", required=True)
        representative = self.party(element, p, "Representative", "RepresentativeAddress", required=False)
        importer = self.party(element, p, "Importer", "ImporterAddress", required=False)
        commodity = self.commodity(element, p)
        origin_element, origin_path = self.child(element, p, "OriginCountry", required=True)
        origin = (
            self.country(origin_element, origin_path, "Country", required=True)
            if origin_element is not None
            else None
        )
        quantities = [
            self.quantity(q, qp) for q, qp in self.children(element, p, "ImportedQuantity", required=True)
        ]
        measure_imported = self.measure(element, p, "MeasureImported")
        total = self.totals(element, p, "TotalEmissions", per_unit=True)
        remarks_element, remarks_path = self.child(element, p, "Remarks")
        remarks = (
            self.text(remarks_element, remarks_path, "AdditionalInformation")
            if remarks_element is not None
            else None
        )
        emissions = [
            self.goods_emissions(g, gp)
            for g, gp in self.children(element, p, "GoodsEmissions", required=True)
        ]
        if None in quantities or None in emissions:
            return None
        try:
            return ImportedGood(
                item_number=self.need(item_number),
                commodity=self.need(commodity),
                origin_country=self.need(origin),
                quantities=tuple(q for q in quantities if q is not None),
                measure_imported=self.need(measure_imported),
                total_emissions=self.need(total),
                goods_emissions=tuple(g for g in emissions if g is not None),
                importer=importer,
                representative=representative,
                remarks=remarks,
                path=p,
            )
        except _Invalid:
            return None

    def report(self, root: etree._Element) -> QReport | None:
        p = f"/{ROOT}"
        submission_date = self.datetime(root, p, "SubmissionDate")
        draft_report_id = self.text(root, p, "DraftReportId")
        report_id = self.text(root, p, "ReportId")
        period = self.text(root, p, "ReportingPeriod", required=True)
        year = self.whole(root, p, "Year", required=True)
        total_imported = self.whole(root, p, "TotalImported")
        total_emissions = self.decimal(root, p, "TotalEmissions")
        declarant = self.party(root, p, "Declarant", "ActorAddress", required=True)
        representative = self.party(root, p, "Representative", "RepresentativeAddress", required=False)
        importer = self.party(root, p, "Importer", "ImporterAddress", required=False)
        authority_element, authority_path = self.child(root, p, "NationalCompetentAuth")
        authority = (
            self.text(authority_element, authority_path, "ReferenceNumber")
            if authority_element is not None
            else None
        )
        remarks_element, remarks_path = self.child(root, p, "Remarks")
        remarks = (
            self.text(remarks_element, remarks_path, "AdditionalInformation")
            if remarks_element is not None
            else None
        )
        goods = [self.imported_good(g, gp) for g, gp in self.children(root, p, "ImportedGood", required=True)]
        if self.problems:
            return None
        return QReport(
            reporting_period=self.need(period),
            year=self.need(year),
            declarant=self.need(declarant),
            imported_goods=tuple(g for g in goods if g is not None),
            submission_date=submission_date,
            draft_report_id=draft_report_id,
            report_id=report_id,
            total_imported=total_imported,
            total_emissions=total_emissions,
            importer=importer,
            representative=representative,
            national_competent_authority=authority,
            remarks=remarks,
        )


def check_root(root: etree._Element) -> None:
    """Refuse a document whose root is not ``QReport`` in :data:`NAMESPACE`."""
    qname = etree.QName(root)
    if qname.localname == ROOT and qname.namespace == NAMESPACE:
        return
    if qname.localname == ROOT and qname.namespace is None:
        message = (
            f'The root element <QReport> has no namespace; a quarterly report declares xmlns="{NAMESPACE}".'
        )
    elif qname.localname == ROOT:
        message = f"The root element <QReport> is in the namespace {qname.namespace}, expected {NAMESPACE}."
    else:
        message = f"The root element is <{qname.localname}>, expected <QReport> in the namespace {NAMESPACE}."
    raise QReportError([Problem(f"/{qname.localname}", message, root.sourceline)])


def parse_qreport(source: Source, *, max_bytes: int = DEFAULT_MAX_BYTES) -> QReport:
    """Read a transitional CBAM quarterly report ([R956] Art 35; IR 2023/1773) into a :class:`QReport`.

    ``source``: the XML as ``bytes``, a file path, or a binary file object. Raises
    :class:`QReportError` listing every problem found (see the module docstring for what is
    checked here and what is left to schema validation).
    """
    root = load_xml(read_source(source, max_bytes=max_bytes))
    check_root(root)
    reader = _Reader()
    try:
        report = reader.report(root)
    except _Invalid:  # pragma: no cover - every _Invalid is preceded by a recorded problem
        report = None
    if reader.problems or report is None:
        raise QReportError(reader.problems or [Problem(DOCUMENT, "The report could not be read.")])
    return report
