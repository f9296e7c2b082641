"""Validation of a quarterly report against the Commission's QReport XSD, with xmlschema.

The Commission ships the schema as two files: the main ``QReport`` schema, which includes
``stypes.xsd`` (the simple types) by that relative name. :func:`validate_qreport` takes the main
file's path (from a setting) and finds each included file next to it, either under the included
name or under the main file's name with ``QReport`` replaced by ``stypes`` (how the files are
published: ``..._QReport_v17.03.xsd`` / ``..._stypes_v17.03.xsd``). Both are copied into a
temporary folder under the names the schema expects and compiled once per file version; the
schema is loaded sandboxed (no network, nothing outside that folder).

The document is read with the same size limit and hardened parser as
:func:`declarations.qreport.parser.parse_qreport`, so a malformed or unsafe file yields the same
problems here (returned, not raised).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path, PurePosixPath

import xmlschema
from lxml import etree

from .errors import Problem, QReportError
from .parser import DEFAULT_MAX_BYTES, Source, element_path, load_xml, read_source

__all__ = ["schema_for", "validate_qreport"]

_XS = "http://www.w3.org/2001/XMLSchema"
_NAMESPACED = re.compile(r"\{[^}]*\}")


def _included_locations(xsd_path: Path) -> list[str]:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    tree = etree.parse(str(xsd_path), parser)
    return [
        node.get("schemaLocation")
        for node in tree.getroot().iterchildren(f"{{{_XS}}}include", f"{{{_XS}}}import", f"{{{_XS}}}redefine")
        if node.get("schemaLocation")
    ]


def _find_included(xsd_path: Path, location: str, stypes_path: Path | None) -> Path:
    relative = PurePosixPath(location)
    if relative.is_absolute() or ".." in relative.parts or "://" in location or len(relative.parts) != 1:
        raise ValueError(
            f"The schema {xsd_path.name} includes “{location}”: only a file next to it is supported."
        )
    if stypes_path is not None and location == "stypes.xsd":
        return stypes_path
    candidates = [xsd_path.with_name(location)]
    if location == "stypes.xsd" and "QReport" in xsd_path.name:
        candidates.append(xsd_path.with_name(xsd_path.name.replace("QReport", "stypes")))
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    looked = ", ".join(c.name for c in candidates)
    raise FileNotFoundError(
        f"The schema {xsd_path} includes “{location}”, not found next to it (looked for {looked})."
    )


def _version(path: Path) -> tuple[str, int, int]:
    stat = path.stat()
    return (str(path.resolve()), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=8)
def _compile(
    main: tuple[str, int, int], included: tuple[tuple[str, tuple[str, int, int]], ...]
) -> xmlschema.XMLSchema:
    with tempfile.TemporaryDirectory(prefix="qreport-xsd-") as folder:
        target = Path(folder) / Path(main[0]).name
        shutil.copyfile(main[0], target)
        for location, (source, _mtime, _size) in included:
            shutil.copyfile(source, Path(folder) / location)
        schema = xmlschema.XMLSchema(str(target), allow="sandbox", defuse="always")
        schema.build()
    return schema


def schema_for(
    xsd_path: str | os.PathLike[str], *, stypes_path: str | os.PathLike[str] | None = None
) -> xmlschema.XMLSchema:
    """The compiled QReport schema for the main XSD at ``xsd_path`` (cached per file version)."""
    main = Path(xsd_path)
    if not main.is_file():
        raise FileNotFoundError(f"The QReport schema {main} does not exist.")
    stypes = Path(stypes_path) if stypes_path is not None else None
    included = tuple(
        (location, _version(_find_included(main, location, stypes))) for location in _included_locations(main)
    )
    return _compile(_version(main), included)


def _message(error: xmlschema.XMLSchemaValidationError) -> str:
    reason = _NAMESPACED.sub("", error.reason or str(error.message))
    obj = error.obj
    if obj is not None and not etree.iselement(obj) and not isinstance(obj, xmlschema.XMLResource):
        reason += f" (value: “{obj}”)"
    return reason


def validate_qreport(
    source: Source,
    xsd_path: str | os.PathLike[str],
    *,
    stypes_path: str | os.PathLike[str] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> list[Problem]:
    """Validate a quarterly report against the Commission XSD ([R956] Art 35; IR 2023/1773 Annex).

    Returns the problems found (empty when the report is valid), each with the element
    location, line and reason. A missing or unusable XSD is a configuration error and raises.
    """
    schema = schema_for(xsd_path, stypes_path=stypes_path)
    try:
        root = load_xml(read_source(source, max_bytes=max_bytes))
    except QReportError as exc:
        return exc.problems
    resource = xmlschema.XMLResource(root, allow="none", defuse="always")
    problems = []
    for error in schema.iter_errors(resource):
        element = getattr(error, "invalid_child", None)
        if not etree.iselement(element):
            element = error.elem if etree.iselement(error.elem) else None
        if element is not None:
            path, line = element_path(element), element.sourceline
        else:
            path, line = error.path or "/", error.sourceline
        problems.append(Problem(path, _message(error), line))
    problems.sort(key=lambda p: (p.line or 0, p.path))
    return problems
