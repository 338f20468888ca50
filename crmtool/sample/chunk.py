"""One chunk of the sample as rows: owners, vehicles, repair orders written the way real
exports write them (blank own dealer codes, '3.2万', '￥1,234.50'), leads, and in chunk 0 the
planted defects that the loader must survive."""

from __future__ import annotations

from datetime import date

from .world import ADVISORS, CONSULTANTS, DEFEAT, END, OWN, SOURCES, Chunk, Ro, World, ds

# Insurance-paid body repairs in the last 30 days: exact band edges in chunk 0.
_EDGE_AMOUNTS = (5000.0, 7800.0, 10000.0, 15600.0, 20000.0, 26800.0, 4999.0)


def _money(x: float) -> str:
    return f"{x:.2f}"


def _yen(x: float) -> str:
    return f"￥{x:,.2f}"


def build_chunk(seed: int, chunk_no: int, vi0: int, n: int, density: float = 1.0) -> Chunk:
    """Vehicles vi0 .. vi0+n-1 with their owners, repair orders and leads; density > 1 makes
    visits that many times more frequent (the large size's ten repair orders per vehicle)."""
    w = World(seed, chunk_no, vi0, n, density)
    r, out = w.rng, w.out
    owners: list[tuple[str, str]] = []  # (customer id, phone) of this chunk
    pool: list[tuple[int, str, list[Ro]]] = []  # (vi, vin, ros) for planting
    for vi in range(vi0, vi0 + n):
        row, ros, behaviour = w.simulate(vi)
        if owners and r.random() < 0.08:  # a second car of an owner
            cid = owners[-1 - r.randint(0, min(5, len(owners) - 1))][0]
        else:
            cid, phone = f"C{vi + 1:07d}", w.phone()
            if owners and r.random() < 0.004:  # two customer ids, one person: merge by phone
                phone = owners[-1][1]
                out.count("shared_phone")
            owners.append((cid, phone))
            out.customers.append(w.customer(cid, w.written_phone(phone)))
        row[2] = cid
        sale = date.fromisoformat(row[6]).toordinal()
        region = "杭州" if r.random() < 0.9 else r.choice(("宁波", "绍兴", "湖州"))
        row[1] = "无牌照" if END - sale < 30 or r.random() < 0.03 else w.plate(region)
        out.vehicles.append(row)
        out.count("behaviour_" + behaviour)
        if behaviour in ("loyal", "general", "cross", "commercial") and r.random() < 0.012:
            lo, hi = r.choice(((5000, 9999), (10000, 20000), (20001, 38000)))
            total = round(r.uniform(lo, hi), 2)
            parts = round(total * 0.6, 2)
            ros.append(
                Ro(
                    END - r.randint(0, 29),
                    OWN,
                    "钣喷",
                    "保险",
                    round(total - parts, 2),
                    parts,
                    open_gap=5,
                )
            )
        pool.append((vi, row[0], ros))
    if chunk_no == 0:
        _plant(w, pool)
        _plant_desk(out)
    for vi, vin, ros in pool:
        for k, o in enumerate(sorted(ros, key=lambda o: o.day)):
            out.ros.append((o.day, _ro_row(w, o, vi, k, vin)))
    last30 = ds(END - 29)
    for _, row in out.ros:  # own insurance-paid orders >= 5,000 in the last 30 days, by band
        if row[7] == "保险" and row[4] >= last30 and row[1] in (OWN, ""):
            t = float(row[10].replace("￥", "").replace(",", ""))
            if t >= 5000:
                band = "5k_10k" if t < 10000 else "10k_20k" if t <= 20000 else "20k+"
                out.count("insurance_30d_" + band)
    if chunk_no == 0:  # one row with a field fewer (the advisor cell lost)
        row = next(row for _, row in out.ros if row[4][:7] == "2021-03" and row[11])
        del row[11]
        out.count("wrong_field_count")
    for i in range(vi0 * 3 // 10, (vi0 + n) * 3 // 10):
        out.leads.append(_lead(w, i))
    _callbacks(w)
    return out


def _callbacks(w: World) -> None:
    """3DC callbacks of own orders settled in the last 45 days (a few dissatisfied: the care
    complaints list), three days after the settlement, up to as_of."""
    r, out = w.rng, w.out
    owner = {v[0]: v[2] for v in out.vehicles}
    for day, row in out.ros:
        if row[1] not in (OWN, "") or not END - 45 <= day <= END - 3 or r.random() < 0.4:
            continue
        result = r.choices(["满意", "一般", "不满意", "未接通"], [80, 8, 6, 6])[0]
        note = "对维修质量不满意,要求回电" if result == "不满意" else ""
        out.contacts.append(
            [
                f"HF{row[0]}",
                ds(day + 3),
                row[2],
                owner.get(row[2], ""),
                row[0],
                "电话",
                "回访",
                result,
                note,
            ]
        )


def _ro_row(w: World, o: Ro, vi: int, k: int, vin: str) -> list[str]:
    r, out = w.rng, w.out
    ym = ds(o.day)[2:7].replace("-", "")
    own = o.dealer == OWN
    ro_id = f"{'WO' if own else o.dealer + 'R'}{ym}{vi:07d}{k:02d}"
    dealer = (
        o.dealer_text
        if o.dealer_text is not None
        else ("" if own and r.random() < 0.08 else o.dealer)
    )
    if own and dealer == "":
        out.count("blank_dealer_code")
    total = round(o.labor + o.parts, 2)
    if o.total_text is None and r.random() < 0.03:
        o.total_text = _yen(total)
        out.count("amount_yen")
    return [
        ro_id,
        dealer,
        vin,
        o.open_text if o.open_text is not None else ds(o.day - o.open_gap),
        o.settle_text if o.settle_text is not None else ds(o.day),
        o.mileage_text if o.mileage_text is not None else str(o.mileage),
        o.kind,
        o.payer,
        _money(o.labor),
        _money(o.parts),
        o.total_text if o.total_text is not None else _money(total),
        r.choice(ADVISORS) if own else "",
    ]


def _lead(w: World, i: int) -> list[str]:
    r = w.rng
    created = date(2019, 1, 1).toordinal() + min(
        3 * 365 - 1, int(r.triangular(0, 3 * 365, 3 * 365))
    )
    status = r.choices(["跟进中", "成交", "战败"], [35, 30, 35])[0]
    follow = min(END, created + r.randint(0, 60))
    visited = "是" if status == "成交" or r.random() < 0.4 else "否"
    return [
        f"L{i + 1:08d}",
        ds(created),
        r.choice(SOURCES),
        r.choice("HABC"),
        r.choice(CONSULTANTS),
        status,
        ds(follow) if r.random() < 0.9 else "",
        visited,
        w.written_phone(w.phone()),
        r.choice(DEFEAT) if status == "战败" else "",
    ]


def _plant_desk(out: Chunk) -> None:
    """The people the README and the help look up: plate 浙A·12345 (its owner's phone
    13812345678) and phone 138-0013-8000 (13800138000)."""
    car = next(v for v in out.vehicles if v[7] == "自店" and v[11] == "" and v[1][:2] == "浙A")
    car[1] = "浙A·12345"
    owner = next(c for c in out.customers if c[0] == car[2])
    owner[2] = "13812345678"
    other = next(c for c in out.customers if c[0] != car[2] and len(c[2]) == 11 and c[2].isdigit())
    other[2] = "13800138000"


def _plant(w: World, pool: list[tuple[int, str, list[Ro]]]) -> None:
    """The defects of chunk 0, each counted in the manifest."""
    r, out = w.rng, w.out
    live = [(vi, vin, ros) for vi, vin, ros in pool if len(ros) >= 3]
    picks = iter(r.sample(live, 40))

    def add(ro: Ro) -> Ro:
        ros = next(picks)[2]
        # the odometer as at the previous order: never a rollback, never a jump
        ro.mileage = max((o.mileage for o in ros if o.day <= ro.day), default=0)
        ros.append(ro)
        return ro

    for amount in _EDGE_AMOUNTS:  # insurance band edges in the last 30 days
        ro = add(Ro(END - r.randint(0, 29), OWN, "钣喷", "保险", round(amount * 0.4), 0.0, 4))
        ro.parts = round(amount - ro.labor, 2)
    for _ in range(3):
        add(Ro(END - r.randint(60, 900), OWN, "一般维修", "自费", 320.0, 188.5)).settle_text = ""
        out.count("missing_settle_date")
    add(
        Ro(
            date(2021, 2, 27).toordinal(),
            OWN,
            "定期保养",
            "自费",
            180.0,
            420.0,
            open_text="2021-02-30",
        )
    ).settle_text = "2021-02-30"
    out.count("impossible_date")
    for _ in range(2):
        add(Ro(END - r.randint(30, 1200), OWN, "15K保养", "自费", 260.0, 540.0))
        out.count("unknown_ro_type")
    for vi, vin, ros in [next(picks) for _ in range(3)]:  # wrong VIN check digit
        row = next(v for v in out.vehicles if v[0] == vin)
        bad = vin[:8] + ("0" if vin[8] != "0" else "1") + vin[9:]
        row[0] = bad
        pool[[p[0] for p in pool].index(vi)] = (vi, bad, ros)
        out.count("bad_vin_check_digit")
    wan = 0
    for _, _, ros in live:  # readings written as '3.2万' (floored, so never a rollback)
        ros.sort(key=lambda o: o.day)
        for a, b in zip(ros, ros[1:], strict=False):
            f = b.mileage // 1000 * 1000
            if wan < 4 and b.mileage > 20000 and a.mileage < f and b.kind != "PDS":
                b.mileage_text, wan = f"{f / 10000:g}万", wan + 1
                out.count("mileage_wan")
                break
    for _, _, ros in live[::-1]:  # one odometer rollback
        if len(ros) >= 4 and ros[-2].mileage > 10000:
            ros[-2].mileage = ros[-3].mileage // 2
            out.count("mileage_rollback")
            break
    odd = ["0571-86012345", "1381234567", "11111111111"]
    for row in out.customers[5:8]:
        row[2] = odd.pop()
        out.count("odd_phone")


def overlap_rows(chunk: Chunk, changed: bool) -> list[list[str]]:
    """The repair orders of December 2020 again, as the 2021 export repeats them; in chunk 0
    one of them changed (a different amount in the newer export)."""
    rows = [list(row) for _, row in chunk.ros if row[4][:7] == "2020-12"]
    if changed:
        for row in rows:
            if row[0].startswith("WO") and row[7] == "自费" and not row[10].startswith("￥"):
                labor = float(row[8]) + 100
                row[8], row[10] = _money(labor), _money(labor + float(row[9]))
                chunk.count("changed_ro")
                break
    chunk.count("overlap_rows", len(rows))
    return rows
