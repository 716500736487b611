r"""Synthetic personal data in the real formats: names, phone numbers, ID numbers, addresses.

Every value is invented. Formats follow domain.md §2.4–2.5: mobiles ``1[3-9]\\d{9}``,
Shanghai landlines ``021-`` + 8 digits, 18-character GB 11643 resident ID numbers whose
MOD 11-2 check character is computed with python-stdnum.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from stdnum.cn import ric

# Common surnames, with the ones frequent in Shanghai (沈 陆 顾 钱 朱 徐) near the front.
SURNAMES = tuple(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚"
    "邵万钱严武戴莫孔汤"
)
SURNAME_WEIGHTS = tuple(max(1.0, 12.0 - i * 0.12) for i in range(len(SURNAMES)))
GIVEN_MALE = tuple("伟强磊军洋勇杰涛明超斌刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林建国志文荣根宝兴德")
GIVEN_FEMALE = tuple("芳娜敏静丽艳娟霞秀英华慧巧美玲桂兰凤洁琳素云莲真婷雪颖倩萍红梅珍妹琴月佩")
# fmt: off
MOBILE_PREFIXES = ("130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151",
                   "152", "153", "155", "156", "157", "158", "159", "166", "173", "175", "176",
                   "177", "180", "181", "182", "183", "185", "186", "187", "188", "189", "191",
                   "198", "199")
# fmt: on
# GB/T 2260 county codes that python-stdnum's birthplace table accepts. Jing'an residents born
# before the 2015 merger carry 闸北 (310108) or old 静安 (310106) codes (domain.md §2.5 pitfall).
BIRTHPLACES = ("310106", "310108", "310106", "310108", "310101", "310104", "310105", "310107")


def full_name(rng: random.Random, female: bool | None = None) -> str:
    """A two- or three-character Chinese name."""
    if female is None:
        female = rng.random() < 0.5
    pool = GIVEN_FEMALE if female else GIVEN_MALE
    surname = rng.choices(SURNAMES, SURNAME_WEIGHTS)[0]
    given = rng.choice(pool) + (rng.choice(pool) if rng.random() < 0.7 else "")
    return surname + given


def polite_name(rng: random.Random) -> str:
    """How a 12345 operator records a caller who gives only a surname: 张先生 / 李女士."""
    surname = rng.choices(SURNAMES, SURNAME_WEIGHTS)[0]
    return surname + ("女士" if rng.random() < 0.5 else "先生")


def mobile(rng: random.Random) -> str:
    r"""A mainland mobile number ``1[3-9]\\d{9}``."""
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def landline(rng: random.Random) -> str:
    """A Shanghai fixed line: ``021-`` and 8 digits starting with 5 or 6."""
    return f"021-{rng.choice('56')}{rng.randrange(10**7):07d}"


def resident_id(rng: random.Random, born_from: date, born_to: date, female: bool) -> str:
    """An 18-character resident ID number (GB 11643-1999) with a valid check character.

    Layout: 6-digit birthplace code, ``YYYYMMDD``, 3-digit sequence (odd = male, even =
    female), then the ISO 7064 MOD 11-2 check character from python-stdnum.
    """
    birth = born_from + timedelta(days=rng.randrange((born_to - born_from).days + 1))
    sequence = rng.randrange(0, 500) * 2 + (0 if female else 1)
    body = f"{rng.choice(BIRTHPLACES)}{birth:%Y%m%d}{sequence:03d}"
    # calc_check_digit expects the number with a placeholder in the check position.
    return body + ric.calc_check_digit(body + "0")


def house_address(rng: random.Random, road: str, room: bool = True) -> str:
    """A residential address on ``road``: 弄/号 and usually a 室 (a flat)."""
    lane = rng.randrange(1, 1200)
    text = f"{road}{lane}弄{rng.randrange(1, 40)}号" if rng.random() < 0.7 else f"{road}{lane}号"
    if room:
        # Mostly six-storey 新村 blocks; one address in five is a high-rise.
        floors = 25 if rng.random() < 0.2 else 6
        text += f"{rng.randrange(1, floors + 1)}{rng.randrange(1, 5):02d}室"
    return text


def coarse_address(address: str) -> str:
    """The address without its 室 part (what an operator types in a hurry)."""
    if "号" in address:
        return address[: address.index("号") + 1]
    return address
