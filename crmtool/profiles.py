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
    "yonyou": Profile(
        "yonyou",
        "Yonyou (用友) dealer DMS: coded 维修类型 (REPAIR_TYPE_CODE) and 收费区分",
        columns={"repair_orders": {
            "ro_type": ["维修类型代码", "维修类型编码", "REPAIR_TYPE_CODE"],
            "ro_id": ["工单号码", "RO_NO"],
            "settle_date": ["结算时间", "BALANCE_TIME"],
            "open_date": ["开单时间", "RO_CREATE_DATE"],
            "mileage_km": ["进厂行驶里程", "IN_MILEAGE"],
            "advisor": ["服务工程师", "SERVICE_ADVISOR"],
        }},
        values={
            "ro_type": {
                "maintenance": ["CGBY"],  # 常规保养
                "first_service": ["SCBY"],  # 首次保养
                "repair": ["PTWX"],  # 普通维修
                "body_paint": ["BJPQ"],  # 钣金喷漆
                "warranty": ["BXIU", "SBWS", "SHYX"],  # 保修, 三包维修, 善意维修
                "pds": ["SQWX", "PDI"],  # PDI检查 (售前维修)
                "internal": ["NBXL"],  # 内部修理
                "other": ["FUWU", "XCZH"],  # 服务活动, 精品装潢
            },
            "payer": {
                "customer": ["S", "ZF"],  # 自费
                "warranty": ["B", "BX", "SP"],  # 保修 / 索赔
                "insurance": ["I", "BXGS"],  # 保险
                "internal": ["N", "NB"],  # 内部
            },
        },
    ),
    "infodms": Profile(
        "infodms",
        "InfoDMS-based OEM dealer portals (e.g. 重庆重汽): 工单开据日期 / 工单结算日期 history",
        columns={"repair_orders": {
            "open_date": ["工单开据日期", "开据日期"],
            "settle_date": ["工单结算日期", "结算日期时间"],
            "ro_type": ["工单类型名称"],
            "dealer_code": ["经销商编号", "服务商代码", "服务商编码"],
        }},
        values={"ro_type": {
            "first_service": ["首次保养", "强制保养", "强保"],
            "maintenance": ["定期保养", "常规保养"],
            "repair": ["一般维修", "普通维修"],
            "warranty": ["索赔维修", "三包索赔"],
        }},
    ),
}


def profile_of(name: str) -> Profile | None:
    """The profile named in the config ("" = none)."""
    return PROFILES.get(name) if name else None
