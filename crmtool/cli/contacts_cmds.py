"""`crmtool contacts export`: a call list, once per customer, suppression applied; with
--mark the customers on it are recorded as contacted (purpose campaign) so the next list
leaves them out (issue 8)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..errors import CrmError, UsageError
from . import notice
from .app import State, app, state
from .churn_cmds import _month
from .lazy import lazy
from .lists import suppress
from .options import IncludeRecentOpt, ListOutput, list_command, split_csv

if TYPE_CHECKING:  # exact types for mypy; polars is imported lazily at run time
    import polars as pl
else:
    pl = lazy("polars")
campaigns = lazy("crmtool.campaigns")
care = lazy("crmtool.care")
churn = lazy("crmtool.churn")
db = lazy("crmtool.db")
facts = lazy("crmtool.facts")
labels = lazy("crmtool.output.labels")
outputs = lazy("crmtool.output.formats")
segment = lazy("crmtool.segment")
suppression = lazy("crmtool.suppression")

contacts_app = typer.Typer(
    help="Contact history: export a call list and mark it contacted.", no_args_is_help=True
)
app.add_typer(contacts_app, name="contacts")

LISTS = (
    "due",
    "winback",
    "warranty",
    "insurance",
    "churn",
    "segment",
    "callbacks",
    "birthdays",
    "complaints",
)


def build_list(con, st: State, name: str, as_of: date) -> pl.DataFrame:  # noqa: ANN001
    """The rows of a named list, as its own command builds them (before suppression)."""
    cfg = st.config
    if name == "due":
        return campaigns.maintenance_due(con, cfg, _month(None, as_of), as_of).frame
    if name == "winback":
        return campaigns.winback(con, cfg, as_of).frame
    if name == "warranty":
        return campaigns.warranty_expiring(con, cfg, as_of, None).frame
    if name == "insurance":
        return campaigns.insurance_renewal(con, cfg, as_of, None).frame
    if name == "churn":
        return churn.churn_list(con, cfg, as_of, ("lost", "at_risk")).frame
    if name == "segment":
        return segment.segment_list(con, cfg, as_of).frame
    if name == "callbacks":
        return care.callbacks(con, cfg, as_of).frame
    if name == "birthdays":
        return care.birthdays(con, cfg, _month(None, as_of), as_of)
    if name == "complaints":
        return care.complaints(con, cfg, as_of)
    raise UsageError(f"--list must be one of {', '.join(LISTS)}; got {name!r}")


def read_list(path: Path) -> pl.DataFrame:
    """A list written earlier (csv, xlsx, parquet, json); Chinese headers read back."""
    suffix = path.suffix.lower()
    if not path.is_file():
        raise CrmError(f"{path}: no such file")
    if suffix == ".parquet":
        frame = pl.read_parquet(path)
    elif suffix == ".json":
        frame = pl.read_json(path)
    elif suffix in (".xlsx", ".xls"):
        frame = pl.read_excel(path)
    else:
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("gb18030")
        frame = pl.read_csv(text.encode(), infer_schema=False)
    back = {c: labels.column_from_label(c) for c in frame.columns}
    frame = frame.rename(
        {c: en for c, en in back.items() if en and en != c and en not in frame.columns}
    )
    if not {"customer_id", "phone", "vin"} & set(frame.columns):
        raise CrmError("no customer_id, phone or vin column", file=str(path))
    return frame


def mark(con, frame: pl.DataFrame, as_of: date, note: str) -> int:  # noqa: ANN001
    """One contact row (purpose campaign, channel phone, result empty) per row, one
    transaction; marking the same customer twice on one day keeps one row."""

    def col(name: str) -> pl.Expr:
        return (
            pl.col(name).cast(pl.String) if name in frame.columns else pl.lit(None, dtype=pl.String)
        )

    rows = frame.select(customer_id=col("customer_id"), phone=col("phone"), vin=col("vin"))
    rows = rows.with_columns(
        contact_id=pl.lit(f"mark/{as_of.isoformat()}/") + pl.coalesce("customer_id", "phone", "vin")
    )
    rows = rows.filter(pl.col("contact_id").is_not_null()).unique(
        "contact_id", keep="first", maintain_order=True
    )
    con.register("_crm_mark", rows)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM contacts WHERE contact_id IN (SELECT contact_id FROM _crm_mark)")
        con.execute(
            """
            INSERT INTO contacts (contact_id, contact_date, phone, vin, customer_id, channel,
                                  purpose, note, _file, _line)
            SELECT contact_id, $as_of, phone, vin, customer_id, 'phone', 'campaign', $note,
                   'crmtool contacts export', row_number() OVER ()
            FROM _crm_mark""",
            {"as_of": as_of, "note": note},
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.unregister("_crm_mark")
    return rows.height


@contacts_app.command("export")
@list_command
def export_cmd(
    ctx: typer.Context,
    output: ListOutput,
    list_file: Annotated[
        Path | None,
        typer.Argument(
            metavar="[LIST-FILE]", help="A list written earlier (csv, xlsx, parquet, json)."
        ),
    ] = None,
    name: Annotated[
        str | None, typer.Option("--list", help=f"Build this list: {', '.join(LISTS)}.")
    ] = None,
    do_mark: Annotated[
        bool,
        typer.Option(
            "--mark", help="Record a contact (招揽, phone, dated --as-of) per customer listed."
        ),
    ] = False,
    include_recent: IncludeRecentOpt = False,
) -> None:
    """Export a call list once per customer (suppression applied) and, with --mark, record
    the customers as contacted so the next list leaves them out for care.recent_days days.

    Examples:

      crmtool contacts export --list due --mark -o due.xlsx

      crmtool contacts export winback.csv --mark
    """
    st = state(ctx)
    if (list_file is None) == (name is None):
        raise UsageError("give a LIST-FILE or --list NAME (one of them)")
    as_of = st.as_of or date.today()
    con = (
        db.connect(st.db, wait=st.wait, create=False)
        if do_mark
        else db.connect(st.db, read_only=True, wait=st.wait)
    )
    facts.install(con, st.config)
    notice.check_as_of(st, con, as_of)
    frame = read_list(list_file) if list_file else build_list(con, st, name or "", as_of)
    frame = suppression.one_per_customer(suppress(st, con, frame, as_of, include_recent))
    # the rows written are the rows marked: --where/--sort/--limit first, --columns at the end
    frame = outputs.shape(
        frame, where=output.where, sort=split_csv(output.sort) or None, limit=output.limit
    )
    replace(output, where=None, sort=None, limit=None).write(frame, sheet=name or "list")
    if do_mark:
        n = mark(con, frame, as_of, f"crmtool contacts export {name or list_file}")
        st.say(f"marked {n} customer(s) as contacted on {as_of.isoformat()}")
