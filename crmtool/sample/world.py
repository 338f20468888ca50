"""The synthetic dealership's world: one chunk of vehicles (with owners, repair orders and
leads) simulated from a seeded `random.Random`. Rows come back as ready-made field lists;
`crmtool.sample` writes them. Chunks are independent, so they can run in any process."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

AS_OF = date(2021, 12, 31)
START = date(2018, 1, 1)
_BASE = date(2008, 1, 1).toordinal()
_DAYS = [(date.fromordinal(_BASE + i)).isoformat() for i in range(366 * 20)]
D0, END = START.toordinal(), AS_OF.toordinal()

OWN = "D001"
DEALERS = [
    ("D001", "杭州东方大众", "杭州"),
    ("D002", "杭州之江大众", "杭州"),
    ("D003", "杭州萧山大众", "杭州"),
    ("D004", "宁波甬江大众", "宁波"),
    ("D005", "绍兴越州大众", "绍兴"),
    ("D006", "湖州南太湖大众", "湖州"),
]
IN_REGION, OUT_REGION = ["D002", "D003"], ["D004", "D005", "D006"]
# series -> (WMI, VDS prefix, first model year, price scale, models)
SERIES = {
    "朗逸": ("LSV", "AB", 2012, 0.62, ["朗逸 1.5L 自动舒适版", "朗逸 280TSI DSG 豪华版"]),
    "Polo": ("LSV", "PB", 2012, 0.58, ["Polo Plus 1.5L 自动全景乐享版", "Polo 1.5L 手动安驾版"]),
    "迈腾": ("LFV", "MA", 2012, 1.45, ["迈腾 330TSI DSG 豪华型", "迈腾 380TSI DSG 旗舰型"]),
    "途观L": ("LSV", "TL", 2017, 1.5, ["途观L 330TSI 自动两驱智享版", "途观L 380TSI 四驱旗舰版"]),
    "速腾": ("LFV", "SG", 2012, 1.0, ["速腾 280TSI DSG 舒适型", "速腾 1.5L 自动时尚型"]),
    "帕萨特": ("LSV", "PS", 2012, 1.05, ["帕萨特 330TSI 精英版", "帕萨特 380TSI 豪华版"]),
    "探岳": ("LFV", "TY", 2018, 1.1, ["探岳 330TSI 两驱豪华型", "探岳 380TSI 四驱旗舰型"]),
}
_SERIES_W = [
    ("朗逸", 26),
    ("Polo", 10),
    ("迈腾", 14),
    ("途观L", 14),
    ("速腾", 16),
    ("帕萨特", 10),
    ("探岳", 10),
]
OUTLETS = ["临安锦城二网", "富阳富春二网", "桐庐城南二网", "建德新安二网", "淳安千岛湖二网"]
ADVISORS = ["王伟", "李娜", "张敏", "刘洋", "陈静"]
CONSULTANTS = ["赵磊", "孙丽", "周杰", "吴婷", "郑浩"]
SOURCES = ["展厅到店", "汽车之家", "懂车帝", "易车网", "电话来电", "老客户转介绍", "车展"]
DEFEAT = ["价格原因", "购买竞品", "暂缓购买", "联系不上", "购买本品他店"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英华建国文辉鹏飞宇浩婷雪琳晨欣怡俊凯"
JOBS = "企业职员 公务员 个体经营 教师 医生 自由职业 司机 工程师 销售 退休".split()
PLATE_CITY = {"杭州": "浙A", "宁波": "浙B", "绍兴": "浙D", "湖州": "浙E"}
VIN_CHARS = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"
_TR = dict(
    zip(
        "ABCDEFGHJKLMNPRSTUVWXYZ",
        [1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 7, 9, 2, 3, 4, 5, 6, 7, 8, 9],
        strict=True,
    )
)
_TR.update({str(d): d for d in range(10)})
_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
_YEAR_CODE = "ABCDEFGHJKLMNPRSTVWXY"  # 2010 = A ... (no I O Q U Z 0)

# The headers of the exports (names from rules §1).
CUSTOMER_HEAD = "客户编号 客户姓名 联系电话 性别 出生日期 区域类型 职业".split()
VEHICLE_HEAD = (
    "车辆识别代号 车牌号 客户编号 品牌 车系 车型 购车日期 销售渠道 二级网点 使用性质 "
    "保修截止日期 车辆状态"
).split()
RO_HEAD = (
    "工单号 经销商代码 VIN 进厂日期 结算日期 进厂里程 维修类型 付费方式 工时费 材料费 "
    "结算金额 服务顾问"
).split()
LEAD_HEAD = (
    "线索编号 建档日期 信息来源 意向级别 销售顾问 状态 最近跟进日期 是否到店 电话 战败原因"
).split()
DEALER_HEAD = "经销商代码 经销商名称 区域".split()
CONTACT_HEAD = "回访编号 回访日期 VIN 客户编号 工单号 回访方式 回访类型 回访结果 备注".split()


def vin_check_digit(vin17: str) -> str:
    """ISO 3779 / GB 16735 check digit (position 9) of a 17-character VIN."""
    r = sum(_TR[c] * w for c, w in zip(vin17, _WEIGHTS, strict=True)) % 11
    return "X" if r == 10 else str(r)


def ds(ordinal: int) -> str:
    """'YYYY-MM-DD' of a date ordinal (table lookup: this runs millions of times)."""
    return _DAYS[ordinal - _BASE]


def _plus_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 Feb
        return d.replace(year=d.year + years, day=28)


@dataclass
class Ro:
    """One repair order before formatting."""

    day: int  # settle date ordinal
    dealer: str
    kind: str  # 维修类型
    payer: str
    labor: float
    parts: float
    open_gap: int = 0
    mileage: int = 0
    dealer_text: str | None = None  # as written (own rows are sometimes blank)
    mileage_text: str | None = None
    total_text: str | None = None
    settle_text: str | None = None
    open_text: str | None = None


@dataclass
class Chunk:
    """The rows of one chunk, per output file, and the counts of what was planted."""

    customers: list[list[str]] = field(default_factory=list)
    vehicles: list[list[str]] = field(default_factory=list)
    ros: list[tuple[int, list[str]]] = field(default_factory=list)  # (settle ordinal, row)
    leads: list[list[str]] = field(default_factory=list)
    contacts: list[list[str]] = field(default_factory=list)  # 3DC callbacks (issue 8)
    extra_2021: list[list[str]] = field(default_factory=list)  # rows only in the 2021 export
    counts: dict[str, int] = field(default_factory=dict)

    def count(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n


class World:
    """Simulates vehicles vi0 .. vi0+n-1 of a sample with the given seed."""

    def __init__(self, seed: int, chunk_no: int, vi0: int, n: int, density: float = 1.0) -> None:
        self.rng = random.Random(seed * 1_000_003 + chunk_no)
        self.chunk_no, self.vi0, self.n, self.density = chunk_no, vi0, n, density
        self.out = Chunk()

    # --- people -----------------------------------------------------------------------
    def phone(self) -> str:
        r = self.rng
        return f"1{r.choice('3578')}{r.randint(0, 9)}{r.randint(0, 99_999_999):08d}"

    def written_phone(self, p: str) -> str:
        x = self.rng.random()
        if x < 0.7:
            return p
        if x < 0.85:
            return f"{p[:3]} {p[3:7]} {p[7:]}"
        if x < 0.95:
            return f"+86 {p[:3]}-{p[3:7]}-{p[7:]}"
        return f"{p[:3]}-{p[3:7]}-{p[7:]}"

    def customer(self, cid: str, phone: str) -> list[str]:
        r = self.rng
        name = r.choice(SURNAMES) + "".join(r.choice(GIVEN) for _ in range(r.choice((1, 2, 2))))
        year = r.choice(range(1960, 2004))
        born = date(year, 1, 1) + timedelta(r.randint(0, 364))
        birth = "" if r.random() < 0.08 else born.isoformat()
        area = r.choices(["市区", "县城", "乡镇"], [60, 25, 15])[0]
        return [cid, name, phone, "男" if r.random() < 0.65 else "女", birth, area, r.choice(JOBS)]

    # --- vehicles ----------------------------------------------------------------------
    def vin(self, series: str, year: int, vi: int) -> str:
        r = self.rng
        wmi, vds, *_ = SERIES[series]
        body = wmi + vds + "".join(r.choice(VIN_CHARS) for _ in range(3))
        tail = _YEAR_CODE[year - 2010] + r.choice("NSCH") + f"{vi % 1_000_000:06d}"
        v = body + "0" + tail
        return body + vin_check_digit(v) + tail

    def plate(self, region: str) -> str:
        r = self.rng
        chars = [r.choice("0123456789") for _ in range(5)]
        for pos in (0, r.randint(1, 4)):
            if r.random() < 0.3:
                chars[pos] = r.choice("ABCDEFGHJKLMNPRSTUVWXYZ")
        x = r.random()
        sep = "·" if x < 0.6 else ("" if x < 0.9 else " ")
        return f"{PLATE_CITY.get(region, '浙A')}{sep}{''.join(chars)}"

    def amounts(self, kind: str, scale: float, spend: float) -> tuple[str, float, float]:
        """(payer, labor, parts) of a repair order of a kind."""
        r = self.rng
        if kind == "定期保养":
            total = r.uniform(380, 820) * scale * spend
            return "自费", round(total * r.uniform(0.25, 0.4)), round(total * 0.7, 2)
        if kind == "一般维修":
            total = r.triangular(150, 4500, 600) * scale * spend
            return "自费", round(total * 0.45), round(total * 0.55, 2)
        if kind == "钣喷":
            if r.random() < 0.55:
                total = r.triangular(800, 9000, 2500) * scale
                return "保险", round(total * 0.5), round(total * 0.5, 2)
            total = r.uniform(300, 2500) * scale
            return "自费", round(total * 0.6), round(total * 0.4, 2)
        if kind in ("首保", "保修"):
            return (
                "保修",
                round(r.uniform(150, 300)),
                round(r.uniform(80, 1500 if kind == "保修" else 250), 2),
            )
        if kind == "PDS":
            return "内部", round(r.choice((0, 0, 50, 80, 120))), 0.0
        if kind == "内部":
            return "内部", round(r.uniform(100, 800)), round(r.uniform(0, 1500), 2)
        return "自费", 0.0, round(r.choice((0, 0, 68, 118)), 2)  # 服务活动

    def regular_kind(self, in_warranty: bool) -> str:
        x = self.rng.random()
        if x < 0.6:
            return "定期保养"
        if x < 0.72:
            return "一般维修"
        if x < 0.97:
            return "钣喷"
        if x < 0.985:
            return "保修" if in_warranty else "一般维修"
        return "服务活动"

    def timeline(self, first: int, stop: int, lo: int, hi: int, to_stop: bool) -> list[int]:
        """Visit days from `first` every lo..hi days up to `stop` (and on `stop` if to_stop)."""
        days, t = [], first
        lo, hi = max(20, int(lo / self.density)), max(25, int(hi / self.density))
        limit = stop - lo if to_stop else stop
        while t <= limit:
            days.append(t)
            t += self.rng.randint(lo, hi)
        if to_stop and first <= stop:
            days.append(stop)
        return days

    def simulate(self, vi: int) -> tuple[list[str], list[Ro], str]:
        """One vehicle: its row (without owner), its repair orders, and its behaviour."""
        r = self.rng
        series = r.choices([s for s, _ in _SERIES_W], [w for _, w in _SERIES_W])[0]
        first_year = SERIES[series][2]
        x = r.random()
        if x < 0.2:
            sale = date(2021, 1, 1).toordinal() + r.randint(0, 364)
        elif x < 0.23:  # 3-year warranty ends in the 90 days after as_of
            sale = date(2019, 1, 1).toordinal() + r.randint(0, 89)
        elif x < 0.7:
            sale = date(2018, 1, 1).toordinal() + r.randint(0, 3 * 365)
        else:  # never after as_of (探岳 and 途观L came out after 2012)
            start = date(max(first_year, 2012), 1, 1).toordinal()
            sale = start + r.randint(0, min(6 * 365 - 1, END - start))
        sale = max(sale, date(first_year, 1, 1).toordinal())
        new = sale >= date(2021, 1, 1).toordinal()
        y = r.random()
        own_p, sec_p = (0.72, 0.97) if new else (0.52, 0.7)
        channel = "自店" if y < own_p else ("二级网点" if y < sec_p else "他店")
        usage = r.choices(["私家车", "公务车", "营运车"], [86, 8, 6])[0]
        if new:
            behaviour = r.choices(
                ["new_normal", "new_none", "new_direct", "new_later"], [55, 15, 18, 12]
            )[0]
        elif channel == "二级网点" and r.random() < 0.7:
            behaviour = r.choices(["sec_none", "sec_pds", "sec_free"], [55, 25, 20])[0]
        else:
            behaviour = r.choices(
                ["loyal", "general", "drifting", "lost", "cross", "defector", "rare", "cooling"],
                [20, 28, 10, 14, 10, 8, 10, 4],
            )[0]
        if usage == "营运车" and behaviour in ("general", "rare"):
            behaviour = "commercial"
        scale, spend = SERIES[series][3], r.choice((0.55, 0.75, 0.9, 1.0, 1.15, 1.35))
        other = r.choice(IN_REGION) if r.random() < 0.55 else r.choice(OUT_REGION)
        first = max(sale + r.randint(60, 200), D0 + r.randint(0, 150))
        plan: list[tuple[int, str]] = []  # (day, dealer)

        def own(days: list[int]) -> None:
            plan.extend((d, OWN) for d in days)

        if behaviour == "loyal":
            own(self.timeline(first, END, 90, 150, False))
        elif behaviour == "general":
            own(self.timeline(first, END, 150, 330, False))
        elif behaviour == "commercial":
            own(self.timeline(first, END, 35, 80, False))
        elif behaviour == "cooling":  # regular, then a gap far past its rhythm: 流失预警
            own(self.timeline(first, END - r.randint(125, 175), 50, 80, True))
        elif behaviour == "drifting":
            own(self.timeline(first, END - r.randint(185, 360), 120, 240, True))
        elif behaviour == "lost":
            own(self.timeline(first, max(first, END - r.randint(380, 1200)), 120, 300, True))
        elif behaviour == "rare":
            own(sorted({first + r.randint(0, max(0, END - first)) for _ in range(r.randint(1, 2))}))
        elif behaviour == "cross":
            for d in self.timeline(first, END - 40, 80, 200, False):
                plan.append((d, other if r.random() < 0.4 else OWN))
            if r.random() < 0.45:  # active in the last month: own and other-dealer visits
                plan += [(END - r.randint(16, 30), OWN), (END - r.randint(0, 14), other)]
            plan += [(first, OWN), (first + 30, other)] if len(plan) < 2 else []
        elif behaviour == "defector":
            switch = first + r.randint(150, max(151, END - first - 60))
            own(self.timeline(first, switch - 1, 120, 240, False) or [first])
            plan += [(d, other) for d in self.timeline(switch, END, 120, 240, False)]
        elif behaviour in ("new_normal", "new_later", "new_direct") and first <= END:
            kind_dealer = other if behaviour == "new_direct" else OWN
            plan.append((first, kind_dealer))
            after = other if behaviour != "new_normal" else OWN
            plan += [(d, after) for d in self.timeline(first + 120, END, 120, 200, False)]
        elif behaviour == "sec_free" and first <= END:
            plan.append((first, OWN if r.random() < 0.6 else other))
        if channel == "他店" and not any(d == OWN for _, d in plan):
            plan.append((max(first, D0 + 30), OWN))
        plan = sorted((d, dl) for d, dl in plan if D0 <= d <= END)

        warranty_end = _plus_years(date.fromordinal(sale), 3).toordinal()
        ros: list[Ro] = []
        if sale >= D0 and channel != "他店" and behaviour not in ("sec_none", "sec_free"):
            ros.append(
                Ro(max(D0, sale - r.randint(0, 3)), OWN, "PDS", *self.amounts("PDS", scale, spend))
            )
        got_first = sale < D0 - 300
        for d, dealer in plan:
            if not got_first and d - sale <= 300:
                kind = "首保"
            else:
                kind = self.regular_kind(d <= warranty_end)
                if behaviour == "sec_free":
                    kind = "首保" if d - sale <= 300 else "保修"
            got_first = True
            ro = Ro(d, dealer, kind, *self.amounts(kind, scale, spend))
            ro.open_gap = (
                r.randint(2, 9) if kind == "钣喷" else (r.randint(1, 3) if r.random() < 0.2 else 0)
            )
            ros.append(ro)
            if dealer == OWN and kind == "定期保养" and r.random() < 0.1:  # and a repair
                ros.append(Ro(d, OWN, "一般维修", *self.amounts("一般维修", scale, spend)))
        if r.random() < 0.2 and plan:
            d = r.randint(max(D0, sale), END)
            ros.append(Ro(d, OWN, "内部", *self.amounts("内部", scale, spend)))
        ros.sort(key=lambda o: o.day)
        rate = r.uniform(150, 300) if usage == "营运车" else r.uniform(30, 80)
        km, last = 0.0, sale
        for o in ros:
            km += max(0, o.day - last) * rate * r.uniform(0.85, 1.15)
            last = max(last, o.day)
            o.mileage = int(km) + (0 if o.kind == "PDS" else 3)

        sale_d = date.fromordinal(sale)
        row = [
            self.vin(series, sale_d.year, vi),
            "",
            "",
            "大众",
            series,
            r.choice(SERIES[series][4]),
            ds(sale),
            channel,
            r.choice(OUTLETS) if channel == "二级网点" else "",
            usage,
            ds(warranty_end - 1) if r.random() < 0.4 else "",
            "",
        ]
        if r.random() < 0.015:
            row[11] = r.choice(("报废", "过户"))
        return row, ros, behaviour
