"""Vendor profiles: the header names and coded values of one DMS, switched on with one config
line (`profile = "yonyou"`). Sources are listed in docs/rules.md ("Vendor profiles").

A profile adds to the built-in vocabulary (schema.TABLES / schema.CODES); the user's own
`[columns]` and `[values]` still win over it.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    # table -> field -> extra header names
    columns: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    # code kind -> canonical code -> raw values
    values: dict[str, dict[str, list[str]]] = field(default_factory=dict)


PROFILES: dict[str, Profile] = {
    # 维修类型 codes of Yonyou's dealer DMS (GAC-FCA dealers, bellmit/yonyou, as listed in issue
    # 13); the names beside each code are the DMS's own
    "yonyou": Profile(
        "yonyou",
        "Yonyou (用友) dealer DMS: coded 维修类型 (REPAIR_TYPE_CODE)",
        columns={"repair_orders": {"ro_type": ["REPAIR_TYPE_CODE"], "ro_id": ["RO_NO"]}},
        values={
            "ro_type": {
                "maintenance": ["CGBY"],  # 常规保养
                "first_service": ["SCBY"],  # 首次保养
                "repair": ["PTWX"],  # 普通维修
                "body_paint": ["BJPQ"],  # 钣金喷漆
                "warranty": ["BXIU", "SBWS", "SHYX"],  # 保修, 三包维修, 善意维修
                "pds": ["SQWX"],  # PDI检查
                "internal": ["NBXL"],  # 内部修理
                "other": ["FUWU", "XCZH"],  # 服务活动, 精品装潢: known, not reported as unknown
            }
        },
    ),
    # InfoDMS-based OEM portals (dnd2/CQZTDMS, WebContent/jsp/report/dmsReport/CarFix.jsp,
    # 车辆维修履历报表): the exports' field names where a raw dump keeps them
    "infodms": Profile(
        "infodms",
        "InfoDMS-based OEM dealer portals: raw field names of the repair history report",
        columns={
            "repair_orders": {
                "dealer_code": ["DEALER_CODE"],
                "open_date": ["RO_CREATE_DATE"],
                "settle_date": ["FOR_BALANCE_TIME", "BALANCE_TIME"],
                "ro_type": ["REPAIR_TYPE_CODE"],
            }
        },
    ),
}


def profile_of(name: str) -> Profile | None:
    """The profile named in the config ("" = none)."""
    return PROFILES.get(name) if name else None
