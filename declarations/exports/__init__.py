"""Exports of the annual CBAM declaration: a registry of file formats.

Every format is an *exporter*: a key (``pdf``, ``csv``, ``xlsx``, ``json``), a label, a media
type, a file extension and a function that turns a declaration into the file's bytes (or, for a
file that can be large, an iterable of its pieces of bytes: the job writes them to disk as they
come). The pages, the API and the background job only ever go through this registry, so a new
format appears everywhere at once.

Adding a format (for example the Commission's declaration XML once its schema is published)
is one decorated function in a module imported at the end of this file::

    from declarations.exports import exporter
    from declarations.exports.document import document_for

    @exporter("xml", label=_("Commission XML"), media_type="application/xml", extension="xml")
    def declaration_xml(declaration) -> bytes:
        document = document_for(declaration)  # the same figures as every other format
        ...
        return xml_bytes

Build the file from :func:`declarations.exports.document.document_for`: it reads a filed
declaration's frozen snapshot (never live data) and a draft's current groups, so every format
shows the same numbers. Its ``groups`` are formatted as they are walked
(:class:`~declarations.exports.document.GroupSequence`): write each one out rather than keep them.
Registering a key twice replaces the earlier exporter (tests use this).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class Exporter:
    key: str
    label: str
    media_type: str
    extension: str
    render: Callable[..., bytes | Iterable[bytes]]
    description: str = ""
    #: Whether the format shows the groups' traces (the job then reads them for it).
    traces: bool = True

    def content(self, declaration) -> bytes:
        """The whole file in memory (for small files and tests; the job writes the pieces to disk)."""
        rendered = self.render(declaration)
        return rendered if isinstance(rendered, bytes | bytearray) else b"".join(rendered)

    def file_name(self, declaration) -> str:
        org = getattr(declaration.organisation, "eori", "") or f"org{declaration.organisation_id}"
        status = "" if declaration.status == "filed" else f"-{declaration.status}"
        return f"cbam-declaration-{org}-{declaration.year}-v{declaration.version}{status}.{self.extension}"


_REGISTRY: dict[str, Exporter] = {}
#: Exporters that write group by group report their progress every this many groups.
PROGRESS_EVERY = 1000
_PROGRESS: ContextVar[Callable[[int, int | None, str], None] | None] = ContextVar("export_progress", default=None)


def report_progress(done: int, total: int | None, message: str) -> None:
    """Tell the export job how far the file has got (``done`` of ``total`` of the exporter's own
    steps); nothing outside an export job."""
    report = _PROGRESS.get()
    if report is not None:
        report(done, total, message)


@contextlib.contextmanager
def progress_to(report: Callable[[int, int | None, str], None]) -> Iterator[None]:
    """Within the block, :func:`report_progress` calls ``report``."""
    token = _PROGRESS.set(report)
    try:
        yield
    finally:
        _PROGRESS.reset(token)


def exporter(key: str, *, label, media_type: str, extension: str, description="", traces: bool = True) -> Callable:
    """Register ``func(declaration) -> bytes`` (or an iterable of pieces of bytes) as the exporter
    of format ``key`` (``traces=False`` for a format without the groups' traces: it reads
    ``document_for(declaration, traces=False)``)."""

    def register(func: Callable[..., bytes]) -> Callable[..., bytes]:
        _REGISTRY[key] = Exporter(
            key=key,
            label=label,
            media_type=media_type,
            extension=extension.lstrip("."),
            render=func,
            description=description,
            traces=traces,
        )
        return func

    return register


def unregister(key: str) -> None:
    _REGISTRY.pop(key, None)


def exporters() -> list[Exporter]:
    """The registered formats, in registration order (PDF first)."""
    return list(_REGISTRY.values())


def exporter_keys() -> list[str]:
    return list(_REGISTRY)


def get_exporter(key: str) -> Exporter:
    """The exporter of ``key``; an unknown format is a ``ValidationError`` on the ``format`` field."""
    try:
        return _REGISTRY[key]
    except (KeyError, TypeError):
        raise ValidationError(
            {
                "format": _("Unknown export format %(key)r: choose one of %(keys)s.")
                % {"key": key, "keys": ", ".join(_REGISTRY)}
            }
        ) from None


# The built-in formats register themselves on import.
from . import pdf, tabular, json_format  # noqa: E402, F401, I001
