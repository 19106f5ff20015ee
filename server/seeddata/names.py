"""Chinese personal names, phone numbers, place names and addresses.

Surnames are weighted by their approximate share of China's population; given names are drawn
from characters common in the generations born 1925–1995. Place names are made of two-character
stems of the usual kind (清河, 龙泉 …); unit names follow the county's own style (某某县财政局).
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from server.seeddata.common import cumulative, pick

SURNAMES: tuple[tuple[str, float], ...] = (
    ("王", 7.12), ("李", 7.0), ("张", 6.74), ("刘", 5.1), ("陈", 4.61), ("杨", 3.22), ("黄", 2.45),
    ("赵", 2.29), ("吴", 2.05), ("周", 1.98), ("徐", 1.6), ("孙", 1.51), ("马", 1.45), ("朱", 1.34),
    ("胡", 1.31), ("郭", 1.16), ("何", 1.14), ("高", 1.08), ("林", 1.08), ("罗", 1.0), ("郑", 0.98),
    ("梁", 0.85), ("谢", 0.81), ("宋", 0.76), ("唐", 0.75), ("许", 0.71), ("韩", 0.69), ("冯", 0.66),
    ("邓", 0.66), ("曹", 0.63), ("彭", 0.62), ("曾", 0.6), ("肖", 0.58), ("田", 0.56), ("董", 0.53),
    ("袁", 0.52), ("潘", 0.51), ("于", 0.51), ("蒋", 0.49), ("蔡", 0.49), ("余", 0.48), ("杜", 0.46),
    ("叶", 0.46), ("程", 0.45), ("苏", 0.44), ("魏", 0.43), ("吕", 0.43), ("丁", 0.41), ("任", 0.41),
    ("沈", 0.4), ("姚", 0.39), ("卢", 0.39), ("姜", 0.38), ("崔", 0.37), ("钟", 0.37), ("谭", 0.36),
    ("陆", 0.35), ("汪", 0.34), ("范", 0.34), ("金", 0.34), ("石", 0.33), ("廖", 0.32), ("贾", 0.32),
    ("夏", 0.31), ("韦", 0.3), ("付", 0.3), ("方", 0.3), ("白", 0.29), ("邹", 0.29), ("孟", 0.29),
    ("熊", 0.28), ("秦", 0.28), ("邱", 0.27), ("江", 0.27), ("尹", 0.26), ("薛", 0.26), ("闫", 0.26),
    ("段", 0.25), ("雷", 0.25), ("侯", 0.24), ("龙", 0.24), ("史", 0.24), ("陶", 0.23), ("黎", 0.23),
    ("贺", 0.23), ("顾", 0.22), ("毛", 0.22), ("郝", 0.22), ("龚", 0.21), ("邵", 0.21), ("万", 0.21),
    ("钱", 0.21), ("严", 0.2), ("覃", 0.2), ("武", 0.2), ("戴", 0.19), ("莫", 0.19), ("孔", 0.19),
    ("向", 0.18), ("汤", 0.18), ("欧阳", 0.05), ("诸葛", 0.01), ("司马", 0.01),
)
_SURNAME_CHARS = tuple(s for s, _ in SURNAMES)
_SURNAME_CUM = tuple(cumulative([w for _, w in SURNAMES]))

_MALE = (
    "国建明德华文志永荣福光学忠正世家兴振立新民保树春海成祥昌贵林军强平伟庆生发先绍宗培鸿云岳"
    "清良仁义胜武汉东俊洪顺喜根启有金铭贤达远彬斌刚毅勇涛峰杰鹏亮"
)
_FEMALE = "秀英兰芳珍玉桂凤华淑琴梅丽霞云红敏静萍莲翠琼爱芬素月娟惠美珠春菊燕秋慧蓉琳佳雪艳玲洁"
_ERA_MALE = ("建国", "国庆", "跃进", "卫东", "红军", "援朝", "解放", "建华", "胜利", "抗美", "新民", "卫国")
_ERA_FEMALE = ("建英", "红梅", "秀英", "桂英", "玉兰", "淑珍", "凤英", "卫红", "爱华", "素珍")


def surname(rng: random.Random) -> str:
    return rng.choices(_SURNAME_CHARS, cum_weights=_SURNAME_CUM, k=1)[0]


def given_name(rng: random.Random, sex: str) -> str:
    r = rng.random()
    if r < 0.08:
        return pick(rng, _ERA_MALE if sex == "male" else _ERA_FEMALE)
    pool = _MALE if sex == "male" else _FEMALE
    if r < 0.3:
        return pick(rng, pool)
    return pick(rng, pool) + pick(rng, pool)


def person_name(rng: random.Random, sex: str, family: str | None = None) -> str:
    return (family or surname(rng)) + given_name(rng, sex)


_MOBILE_PREFIXES = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153", "155",
    "156", "157", "158", "159", "166", "173", "175", "176", "177", "180", "181", "182", "183", "185",
    "186", "187", "188", "189", "191", "198", "199",
)


def mobile(rng: random.Random) -> str:
    return pick(rng, _MOBILE_PREFIXES) + f"{rng.getrandbits(30) % 100_000_000:08d}"


_FIRST = "东西南北清白金石龙凤云青宁安平永富华新长兴宜德昌泰和丰临阳会宣罗师陆马曲沾麒富巧鲁"
_SECOND = "川山河江源宁安平阳水城泉溪林峰州口桥坪沙泽威良靖宗益营屏丰乐武"


def place_stems(rng: random.Random, n: int, avoid: Sequence[str] = ()) -> list[str]:
    """``n`` distinct two-character place-name stems."""
    seen = set(avoid)
    out: list[str] = []
    while len(out) < n:
        s = pick(rng, _FIRST) + pick(rng, _SECOND)
        if s[0] != s[1] and s not in seen:
            seen.add(s)
            out.append(s)
    return out


COUNTY_DEPARTMENTS: tuple[str, ...] = (
    "{L}委办公室", "{L}人民政府办公室", "{L}委组织部", "{L}委宣传部", "{L}纪委监委", "{L}人大常委会办公室",
    "{L}政协办公室", "{L}发展和改革局", "{L}教育体育局", "{L}公安局", "{L}民政局", "{L}司法局", "{L}财政局",
    "{L}人力资源和社会保障局", "{L}自然资源局", "{L}住房和城乡建设局", "{L}交通运输局", "{L}水务局",
    "{L}农业农村局", "{L}林业和草原局", "{L}商务局", "{L}文化和旅游局", "{L}卫生健康局", "{L}退役军人事务局",
    "{L}应急管理局", "{L}审计局", "{L}市场监督管理局", "{L}统计局", "{L}医疗保障局", "{L}人民法院",
    "{L}人民检察院", "{L}供销合作社", "{L}粮食和物资储备局", "{L}人民医院", "{L}第一中学", "{L}总工会",
    "{L}妇联", "{L}融媒体中心", "{L}税务局", "{L}工业和信息化局",
)
_TOWNSHIP_ORGANS = ("人民政府", "中心学校", "卫生院", "农业综合服务中心", "财政所", "供销社", "粮管所",
                    "信用社", "派出所", "林业站", "水利站", "文化站")
_ENTERPRISES = ("水泥厂", "食品公司", "酒厂", "农机公司", "百货公司", "运输公司", "化肥厂", "印刷厂")


def department_name(stem: str, level_char: str, pattern: str) -> str:
    """``清河`` + ``县`` + ``{L}财政局`` -> ``清河县财政局``."""
    return stem + pattern.replace("{L}", level_char)


def former_employer(rng: random.Random, unit_name: str, county: str, is_township: bool) -> str:
    r = rng.random()
    if is_township:
        base = unit_name.removesuffix("人民政府")
        if r < 0.12:
            return f"原{county}{pick(rng, _ENTERPRISES)}"
        return base + pick(rng, _TOWNSHIP_ORGANS)
    if r < 0.08:
        return f"原四冶{pick(rng, ('一公司', '二公司', '机电公司', '建安公司'))}(改制)"
    if r < 0.15:
        return f"原{county}{pick(rng, _ENTERPRISES)}"
    return unit_name


_ROADS = ("人民路", "建设路", "解放路", "团结路", "文化路", "新华街", "胜利路", "中山路", "和平路", "振兴路",
          "环城路", "滨河路", "东风路", "光明路", "幸福路", "学府路", "育才路", "兴隆街")
_VILLAGE = "龙坪水塘桥湾沟田坝营寨岭冲箐"


def town_address(rng: random.Random, county: str, town: str) -> str:
    return (f"{county}{town}{pick(rng, _ROADS)}{1 + int(rng.random() * 300)}号"
            f"{1 + int(rng.random() * 12)}栋{1 + int(rng.random() * 4)}单元"
            f"{1 + int(rng.random() * 7)}0{1 + int(rng.random() * 4)}室")


def village_address(rng: random.Random, county: str, town: str) -> str:
    village = pick(rng, _FIRST) + pick(rng, _VILLAGE)
    return f"{county}{town}{village}村{1 + int(rng.random() * 12)}组{1 + int(rng.random() * 80)}号"


def institution_address(rng: random.Random, county: str, hospital: bool) -> str:
    if hospital:
        return f"{county}人民医院住院部{1 + int(rng.random() * 12)}病区"
    return f"{county}{pick(rng, ('社会福利中心', '康养中心', '颐养院', '老年公寓'))}"


def far_address(rng: random.Random, stems: Sequence[str]) -> str:
    """An address in another city (children who moved away)."""
    city = pick(rng, ("昆明市", "成都市", "重庆市", "贵阳市", "广州市", "深圳市", "上海市", "北京市"))
    return f"{city}{pick(rng, stems)}区{pick(rng, _ROADS)}{1 + int(rng.random() * 500)}号"
