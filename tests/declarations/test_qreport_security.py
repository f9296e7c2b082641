"""Hostile and oversized quarterly report files are refused before they can do harm."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from declarations.qreport import QReportError, parse_qreport
from tests.conftest import require_shared_data

NS = "http://xmlns.ec.eu/BusinessObjects/CBAM/Types/V1"

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE QReport [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<QReport xmlns="%s"><ReportingPeriod>&lol9;</ReportingPeriod></QReport>
""".replace(b"%s", NS.encode())

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE QReport [<!ENTITY passwd SYSTEM "file:///etc/passwd">]>
<QReport xmlns="%s"><ReportingPeriod>&passwd;</ReportingPeriod></QReport>
""".replace(b"%s", NS.encode())

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE QReport SYSTEM "http://127.0.0.1:9/evil.dtd">
<QReport xmlns="%s"/>
""".replace(b"%s", NS.encode())


def refused(source, **kwargs):
    with pytest.raises(QReportError) as caught:
        parse_qreport(source, **kwargs)
    (problem,) = caught.value.problems
    return problem


def test_billion_laughs_is_refused_for_its_doctype():
    problem = refused(BILLION_LAUGHS)

    assert problem.path == "/"
    assert "DOCTYPE or ENTITY declaration" in problem.message


def test_external_entity_reading_etc_passwd_is_refused_and_leaks_nothing():
    with pytest.raises(QReportError) as caught:
        parse_qreport(EXTERNAL_ENTITY)

    assert "DOCTYPE or ENTITY declaration" in str(caught.value)
    assert "root:" not in str(caught.value)


def test_external_dtd_is_refused_without_fetching_it():
    assert "DOCTYPE" in refused(EXTERNAL_DTD).message


def test_a_utf16_encoded_doctype_is_refused_too():
    problem = refused(
        EXTERNAL_ENTITY.decode()
        .replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>')
        .encode("utf-16")
    )

    assert "DOCTYPE" in problem.message


def test_bytes_over_the_limit_are_refused_by_size():
    problem = refused(b"<QReport/>" + b" " * 2048, max_bytes=1024)

    assert problem.message == "The file is 2.0 KB; the limit is 1.0 KB."


def test_a_two_gigabyte_file_is_refused_from_its_size_before_reading(tmp_path: Path):
    huge = tmp_path / "huge.xml"
    with huge.open("wb") as handle:
        handle.truncate(2 * 1024**3)  # sparse: nothing is written

    problem = refused(huge, max_bytes=1024)

    assert problem.message == "The file is 2.0 GB; the limit is 1.0 KB."


class ClaimedUpload:
    """An uploaded file declaring 2 GB that must never be read."""

    size = 2 * 1024**3

    def read(self, *_args):
        raise AssertionError("the upload was read although its size is over the limit")


def test_an_upload_claiming_two_gigabytes_is_refused_without_reading_it():
    problem = refused(ClaimedUpload(), max_bytes=1024)

    assert "2.0 GB" in problem.message


def test_a_stream_without_a_declared_size_is_read_only_up_to_the_limit():
    stream = io.BytesIO(b"<QReport>" + b"x" * 10_000)

    problem = refused(stream, max_bytes=1024)

    assert "limit is 1.0 KB" in problem.message
    assert stream.tell() == 1025


def test_a_text_mode_file_is_refused():
    problem = refused(io.StringIO("<QReport/>"))

    assert "binary mode" in problem.message


def test_an_empty_file_is_refused():
    assert refused(b"  \n").message == "The file is empty."


def test_a_missing_file_is_reported_not_raised_as_oserror(tmp_path: Path):
    assert "cannot be read" in refused(tmp_path / "absent.xml").message


def test_the_commission_sample_fits_the_default_limit():
    sample = require_shared_data("cbam_transitional_sample_quarterly_report.xml")

    assert parse_qreport(sample).imported_goods


@pytest.mark.parametrize("document", [BILLION_LAUGHS, EXTERNAL_ENTITY, EXTERNAL_DTD])
def test_the_hardened_parser_alone_neither_expands_nor_fetches_entities(monkeypatch, document):
    from declarations.qreport import parser

    monkeypatch.setattr(parser, "_FORBIDDEN_DECLARATIONS", ())  # switch off the byte pre-check

    with pytest.raises(QReportError) as caught:
        parser.parse_qreport(document)

    message = str(caught.value)
    assert "DOCTYPE" in message or "amplification" in message  # libxml2 stops the expansion itself
    assert "root:" not in message
