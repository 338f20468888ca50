"""`crmtool find` and `crmtool forget`: the service desk's lookup and deletion on request."""

from __future__ import annotations

import json
import sys
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table

from ..errors import CrmError, UsageError
from ..output.labels import check_lang, column_label, headers, value_domain, value_label, words
from . import notice
from .app import State, app, err, state
from .lazy import lazy
from .options import LangOpt, WideOpt

if TYPE_CHECKING:  # exact types for mypy; forget is imported lazily at run time
    import duckdb

    from .. import forget as forgetting
else:
    forgetting = lazy("crmtool.forget")

db = lazy("crmtool.db")
finder = lazy("crmtool.find")
pii = lazy("crmtool.output.pii")


def _text(value: Any, column: str, lang: str) -> str:
    """A card's value as people read it: codes labelled, is_own 本店/他店, numbers short."""
    if value is None:
        return ""
    if column == "is_own":
        return value_label("is_own", value, lang)
    if isinstance(value, float):
        return f"{value:,.2f}" if column.endswith("amount") else f"{value:g}"
    domain = value_domain(column)
    return value_label(domain, value, lang) if domain else str(value)


def _table(
    title: str, rows: list[dict[str, Any]], cols: list[str], lang: str, width: int | None
) -> Table:
    """A card's table; within `width` cells only the whole columns that fit (never a cut
    VIN, date or amount), the rest counted in the title."""
    from rich.cells import cell_len

    from ..output.layout import fit

    labels = headers(cols, lang, "find")
    cells = [[_text(r.get(c), c, lang) for c in cols] for r in rows]
    widths = [
        max([cell_len(h)] + [cell_len(row[j]) for row in cells]) for j, h in enumerate(labels)
    ]
    shown = fit(cols, widths, width, "find")[0] if width else list(range(len(cols)))
    shown.sort()
    hidden = len(cols) - len(shown)
    if hidden:
        title += words(lang)["more_columns_find"].format(n=hidden)
    t = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
    for j in shown:
        t.add_column(labels[j], no_wrap=True, min_width=widths[j])
    for row in cells:
        t.add_row(*(row[j] for j in shown))
    return t


def _reminder(r: dict[str, Any], lang: str) -> str:
    """One open reminder in words (the JSON keeps its English `detail`)."""
    if "due_service" not in r and "warranty_end" not in r and "reason" not in r:
        return str(r.get("detail", ""))
    zh = lang == "zh"
    if r["kind"] == "maintenance":
        svc = value_label("due_service", r["due_service"], lang)
        by = value_label("due_by", r["due_by"], lang)
        if zh:
            return f"{svc}{'已超期' if r['overdue'] else '到期'} {r['due_date']}（{by}）"
        return f"{svc} {'overdue' if r['overdue'] else 'due'} {r['due_date']} ({by})"
    if r["kind"] == "warranty":
        return (
            f"保修截止 {r['warranty_end']}（剩余 {r['days_left']} 天）"
            if zh
            else f"warranty ends {r['warranty_end']} ({r['days_left']} days)"
        )
    status = value_label("status", r["status"], lang)
    reason = value_label("reason", r["reason"], lang)
    other = r.get("other_dealer_name")
    if zh:
        return f"{status}：{reason}" + (f"（去向 {other}）" if other else "")
    return f"{status}: {reason}" + (f" to {other}" if other else "")


def _render(card: dict[str, Any], lang: str = "zh", width: int | None = None) -> Panel:
    """One customer card; tables fit `width` (the panel's inside) unless None."""
    t = words(lang)
    zh = lang == "zh"
    sep = "：" if zh else ": "
    p = card["customer"]
    if p:
        title = f"{p['name'] or '?'}  {p['phone'] or ''}  [{p['customer_id']}]"
        born = p["birth_date"] or p["birth_year"]
        facts_line = " · ".join(
            x
            for x in (
                _text(p["gender"], "gender", lang),
                f"{t['card_born']} {born}" if born else "",
                _text(p["area_type"], "area_type", lang),
            )
            if x
        )
    else:
        title, facts_line = t["card_no_owner"], ""
    parts: list[Any] = [
        f"{t['tier']} {card['tier'] or '-'}" + (f" · {facts_line}" if facts_line else "")
    ]
    parts.append(
        _table(
            t["card_vehicles"],
            card["vehicles"],
            [
                "vin",
                "plate",
                "series",
                "sale_date",
                "sale_channel",
                "vehicle_status",
                "tier",
                "status",
            ],
            lang,
            width,
        )
    )
    shown, total = len(card["visits"]), card["visits_total"]
    parts.append(
        _table(
            t["card_visits"].format(shown=shown, total=total),
            card["visits"],
            [
                "settle_date",
                "vin",
                "dealer_code",
                "is_own",
                "ro_type",
                "payer",
                "total_amount",
                "mileage_km",
                "advisor",
            ],
            lang,
            width,
        )
    )
    if card["reminders"]:
        parts.append(
            t["card_reminders"]
            + sep
            + "\n"
            + "\n".join(
                f"  {r['vin']}  {value_label('reminder', r['kind'], lang)}{sep}{_reminder(r, lang)}"
                for r in card["reminders"]
            )
        )
    else:
        parts.append(t["card_reminders"] + sep + t["card_none"])
    if card["last_contact"]:
        lc = card["last_contact"]
        parts.append(
            t["card_last_contact"]
            + sep
            + " · ".join(
                f"{column_label(k, lang)} {_text(v, k, lang)}"
                for k, v in lc.items()
                if v is not None and not k.startswith("_")
            )
        )
    return Panel(Group(*parts), title=title, title_align="left")


@app.command("find")
def find_cmd(
    ctx: typer.Context,
    query: Annotated[
        str,
        typer.Argument(
            help="A plate (浙A·12345, A12345, 12345), a phone in any form, a VIN or its last "
            "6-8 characters, or a name (exact, else prefix)."
        ),
    ],
    fmt: Annotated[
        str,
        typer.Option(
            "--format", "-f", metavar="table|json", help="table (cards) or json (an array)."
        ),
    ] = "table",
    visits: Annotated[
        int | None,
        typer.Option("--visits", min=0, help="Visits shown per card, newest first (default 20)."),
    ] = None,
    mask_pii: Annotated[
        bool,
        typer.Option("--mask-pii", help="Mask the person's phone (138****5678) and name (张*)."),
    ] = False,
    lang: LangOpt = None,
    wide: WideOpt = False,
) -> None:
    """The customer card (客户档案): the person, their vehicles, visits at every dealer, tier,
    status, open reminders and the last contact.

    Examples:

      crmtool find 浙A·12345

      crmtool find 138-0013-8000 --format json
    """
    st = state(ctx)
    if fmt not in ("table", "json"):
        raise UsageError(f"--format takes table or json; got {fmt!r}")
    con = db.connect(st.db, read_only=True, wait=st.wait)
    try:
        notice.check_as_of(st, con, st.as_of or date.today())
        cards = finder.find(
            con,
            st.config,
            query,
            st.as_of or date.today(),
            finder.VISITS_SHOWN if visits is None else visits,
            restore=False,
        )
    finally:
        con.close()
    if not cards:
        raise CrmError(f"no customer or vehicle matches {query!r}")
    if mask_pii:
        cards = [pii.mask_card(card) for card in cards]
    if fmt == "json":
        typer.echo(json.dumps(cards, ensure_ascii=False, default=str, indent=2))
        return
    lang = check_lang(lang or st.config.lang)
    tty = sys.stdout.isatty()
    out = Console(highlight=False, width=None if tty and not wide else 160 if tty else 130)
    inner = out.width - 4 if tty and not wide else None  # the panel's border and padding
    for card in cards:
        out.print(_render(card, lang, inner))


@app.command("forget")
def forget_cmd(
    ctx: typer.Context,
    phone: Annotated[
        str | None,
        typer.Option("--phone", help="The person's full phone (11 digits in any written form)."),
    ] = None,
    customer: Annotated[
        str | None, typer.Option("--customer", help="The person's customer_id.")
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    compact: Annotated[
        bool,
        typer.Option(
            "--compact",
            help="Only rewrite the database file (after a forget whose rewrite "
            "failed or was interrupted).",
        ),
    ] = False,
) -> None:
    """Delete a person's data on request (PIPL 个人信息删除): their customer rows, leads,
    contact history and the rejects/flags naming them; their vehicles and repair orders stay,
    without plate, phone and owner. The database file is then rewritten so that nothing of
    them is left on disk; a later load of an old export skips them.

    Examples:

      crmtool forget --phone 13800138000

      crmtool forget --customer C0000001 --yes
    """
    st = state(ctx)
    if compact:
        if phone is not None or customer is not None:
            raise UsageError("--compact takes no --phone or --customer")
        con = db.connect(st.db, wait=st.wait, create=False)
        _rebuild(con, st.db)
        st.say(f"rewrote {db.db_path(st.db)}")
        return
    if (phone is None) == (customer is None):
        raise UsageError("give exactly one of --phone or --customer")
    con = db.connect(st.db, wait=st.wait, create=False)
    try:
        _forget(st, con, phone, customer, yes)
    finally:
        con.close()


def _rebuild(con: duckdb.DuckDBPyConnection, path: str | None) -> None:
    if str(path) == ":memory:":
        con.close()
        return
    target = db.db_path(path)
    try:
        db.rebuild(con, target)
    except (OSError, duckdb.Error) as e:
        reason = getattr(e, "strerror", None) or str(e).splitlines()[0]
        raise CrmError(
            f"could not rewrite {target}: {reason}; deleted data may remain in its "
            "bytes until `crmtool forget --compact` succeeds"
        ) from None


PROMPT = {
    "zh": (
        "将删除此人的个人信息（车辆与工单保留，但去掉车牌、电话与车主关联）：",
        "客户",
        "车辆",
        "将删除",
        "确认删除？",
    ),
    "en": (
        "This person's data will be deleted (vehicles and repair orders stay, without "
        "plate, phone and owner):",
        "customer",
        "vehicle",
        "will remove",
        "Delete?",
    ),
}


def _preview(
    st: State, con: duckdb.DuckDBPyConnection, person: forgetting.Person, plan: str
) -> str:
    """The person and their vehicles, shown before the question; returns the question."""
    head, cust, veh, remove, ask = PROMPT["en" if st.config.lang == "en" else "zh"]
    lines = [head]
    lines += [
        f"  {cust} {c['customer_id']}  {c['name'] or ''}  {c['phone'] or ''}"
        for c in forgetting.who(con, person)
    ]
    lines += [
        f"  {veh} {v['vin']}  {v['plate'] or ''}  {v['series'] or ''}".rstrip()
        for v in forgetting.vehicles(con, person)
    ]
    lines.append(f"{remove}: {plan}")
    err.print("\n".join(lines), markup=False, highlight=False)
    return ask


def _interactive() -> bool:
    """A person at a terminal can answer the question."""
    return sys.stdin.isatty()


def _forget(
    st: State, con: duckdb.DuckDBPyConnection, phone: str | None, customer: str | None, yes: bool
) -> None:
    person = forgetting.resolve(con, phone=phone, customer_id=customer)
    counts = forgetting.counts(con, person)
    forgetting.require_found(counts, f"{'phone' if phone else 'customer_id'} {phone or customer!r}")
    plan = ", ".join(f"{k} {n}" for k, n in counts.items())
    if not yes:
        if not _interactive():
            raise UsageError(f"would remove: {plan}; pass --yes to confirm without a terminal")
        typer.confirm(_preview(st, con, person, plan), abort=True, err=True)
    done = forgetting.forget(con, person, date.today())
    for k, n in done.items():
        typer.echo(f"{k}: {n}")
    _rebuild(con, st.db)
    st.say(
        f"forgotten: {len(person.customer_ids)} customer id(s), {len(person.phones)} "
        "phone(s) kept only as keyed hashes; later loads skip them; the database file "
        "was rewritten without them"
    )
