"""Issue 7: property tests missing from tests/test_parsers.py (which already covers amounts,
dates incl. format-then-parse round trips, mileage, VINs and phones): header matching and the
reader on arbitrary bytes."""

from __future__ import annotations

import tempfile
from pathlib import Path

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmtool import schema
from crmtool.errors import CrmError
from crmtool.load import ingest, readers

ALIASES = [(t, f.name, h) for t, fields in schema.TABLES.items() for f in fields for h in f.headers]
FULL = str.maketrans({"(": "（", ")": "）", "_": "＿"})


def _variant(header: str, data: st.DataObject) -> str:
    """The header as an export may spell it: any case, full-width brackets, spaces around and
    between characters."""
    chars = [c.upper() if data.draw(st.booleans()) else c.lower() for c in header]
    if data.draw(st.booleans()):
        chars = [c.translate(FULL) for c in chars]
    spaced = "".join(c + data.draw(st.sampled_from(["", "", " ", "\u3000"])) for c in chars)
    return data.draw(st.sampled_from(["", " ", "\t"])) + spaced


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(ALIASES), st.data())
def test_every_alias_is_recognised_in_any_spelling(alias, data):
    table, field, header = alias
    fields = ingest.map_headers([_variant(header, data)], table, None)
    assert field in fields


@given(st.text(max_size=30))
def test_normalise_header_is_idempotent_and_space_free(text):
    once = schema.normalise_header(text)
    assert schema.normalise_header(once) == once
    assert not any(c.isspace() for c in once)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.binary(max_size=400),
    st.sampled_from([b"", "工单号,VIN,结算日期\n".encode(), "客户编号,手机\n".encode("gbk")]),
)
def test_reader_raises_only_crmerror_on_arbitrary_bytes(data, head):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "x.csv"
        path.write_bytes(head + data)
        con = duckdb.connect()
        try:
            sheets = readers.read_file(con, path, recognise=ingest.recogniser(None))
        except CrmError as e:
            assert "\n" not in str(e).split(": ", 1)[0]
        else:
            for s in sheets:  # what was read adds up
                rows = con.execute(f"SELECT count(*) FROM {s.table}").fetchall()[0][0]
                assert s.read == rows + len(s.malformed) + len(s.totals) + len(s.repeated)
        finally:
            con.close()
