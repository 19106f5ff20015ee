"""Short Chinese texts: hobbies, personality and health notes, contact and visit notes, items conveyed.

Constant tuples only; the generator picks from them with its own rng.
"""

from __future__ import annotations

import random

from server.seeddata.common import pick

HOBBIES: tuple[str, ...] = (
    "书法", "太极拳", "京剧", "钓鱼", "象棋", "门球", "广场舞", "摄影", "园艺", "诗词", "二胡", "读书看报",
    "合唱", "绘画", "旅游", "养花", "乒乓球", "健步走", "滇剧", "花灯", "集邮", "围棋", "葫芦丝", "八段锦",
    "地方史志研究", "撰写回忆录", "智能手机学习",
)
PERSONALITY: tuple[str, ...] = (
    "性格开朗,乐于助人", "性格内向,不善言辞", "脾气较急,需耐心沟通", "热心公益,在老同志中威望较高",
    "听力较差,需大声交流", "思想活跃,关心时政", "比较节俭,不愿麻烦组织", "对待遇政策较为关注",
    "喜欢回忆工作经历,愿意讲传统", "性格随和,邻里关系好", "自尊心强,慰问时注意方式",
    "子女不在身边,较为孤单", "记忆力减退,需家属在场", "乐观豁达,积极参加活动",
)
HEALTH_NOTES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("chronic", ("高血压,长期服药", "糖尿病,注射胰岛素", "冠心病,定期复查", "慢阻肺,冬季易发作",
                 "腰椎间盘突出,行动较慢", "高血压、糖尿病", "骨质疏松", "白内障术后视力较差")),
    ("serious", ("肺癌术后,化疗中", "胃癌术后恢复期", "尿毒症,每周透析三次", "心衰,多次住院",
                 "脑梗后遗症,言语不清", "肝硬化,需定期住院")),
    ("bedridden", ("中风后长期卧床,由子女照护", "股骨颈骨折后卧床", "阿尔茨海默病,长期卧床需专人照护",
                   "帕金森病晚期,卧床", "脑出血后偏瘫卧床")),
)
_CONTACT_OK = (
    "身体状况稳定", "精神状态良好", "近期血压偏高,已提醒按时服药", "家属反映老人近况良好", "询问了生活待遇落实情况",
    "老人反映天气转凉,已提醒注意保暖", "告知近期组织生活安排", "老人对组织关心表示感谢", "提醒老人防范电信诈骗",
    "了解到老人近期有就医需求", "询问了医药费报销进度", "老人希望参加老年大学学习",
)
_CONTACT_FAMILY = ("子女反映老人饮食正常", "老伴代为接听,老人正在休息", "家属反映老人近期睡眠不好", "家属告知老人在医院复查")
_CONTACT_MISS = ("电话无人接听,改日再联系", "号码停机,需核实新号码", "家属电话未接通")
VISIT_NOTES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("holiday_birthday", ("送上节日慰问金和慰问品,祝老人节日快乐", "为老人祝寿,送上生日蛋糕和祝福",
                          "春节走访,了解老人过节安排", "重阳节慰问,询问身体和生活情况")),
    ("illness", ("到医院探望,鼓励老人安心治疗", "看望病中的老人,了解治疗和报销情况", "与主治医生沟通病情")),
    ("hardship", ("了解家庭困难情况,协调落实临时救助", "送去慰问金,帮助解决生活困难")),
    ("bereavement", ("参加吊唁,慰问家属", "送去花圈和慰问金,协助办理丧葬事宜", "看望丧偶老人,进行心理疏导")),
    ("complaint", ("听取老人反映的问题,做好解释", "就老人反映的待遇问题进行答复", "记录问题并承诺限期回复")),
    ("new_leader", ("新任领导上门看望,通报单位发展情况", "新任领导走访老干部,听取意见建议")),
    ("routine", ("日常走访,了解老人生活起居", "上门走访,传达上级精神", "走访了解老人需求,更新基本信息")),
)
MUST_ITEMS: tuple[tuple[str, tuple[tuple[str, int], ...]], ...] = (
    # kind, ((item, month it goes out; 0 = any month), ...); {y} is the year of that month
    ("document", (("《关于进一步加强新时代离退休干部党的建设工作的意见》", 0), ("市委老干部局{y}年工作要点", 3),
                  ("《离退休干部生活待遇政策解读》", 0), ("《中国共产党纪律处分条例》学习资料", 0),
                  ("《老年人权益保障法》宣传资料", 0), ("{y}年离退休干部健康体检通知", 4))),
    ("meeting", (("全市离退休干部情况通报会", 12), ("春节团拜会", 1), ("重阳节座谈会", 9), ("“七一”座谈会", 6),
                 ("老干部代表征求意见座谈会", 0), ("县(区)经济社会发展情况通报会", 0))),
    ("guidance", (("党的二十届四中全会精神", 11), ("{y}年全国两会精神", 3), ("省委全会精神", 0),
                  ("市委经济工作会议精神", 1), ("习近平总书记关于老干部工作的重要指示精神", 0))),
)
HELP_DETAILS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("interests", ("协调落实医药费报销", "核实养老金调整情况", "协助办理门诊特殊病认定", "落实高龄津贴")),
    ("hardship", ("协调临时救助金", "联系社区解决用水用电问题", "帮助申请居家适老化改造", "协调送餐服务")),
    ("worries", ("对住房待遇问题有情绪,耐心解释政策", "丧偶后情绪低落,多次上门谈心",
                 "与子女矛盾,协调化解", "对体检安排有意见,解释沟通")),
)
MEETING_TOPICS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("member_assembly", ("传达学习党的二十届四中全会精神", "支部年度工作总结", "学习党章和党规党纪",
                         "讨论支部年度工作计划")),
    ("committee", ("研究支部月度工作", "研究送学上门安排", "研究走访慰问困难党员", "研究发展组织生活创新")),
    ("group", ("学习《习近平谈治国理政》", "交流学习体会", "学习身边老党员先进事迹", "读书读报交流")),
    ("lecture", ("书记讲党课:发挥老党员作用", "党课:坚定理想信念", "党课:中华人民共和国史专题")),
    ("appraisal", ("年度民主评议党员",)),
    ("theme_study", ("主题党日:重温入党誓词", "主题学习:弘扬伟大建党精神", "主题学习:银龄行动",
                     "参观红色教育基地")),
)
EVENT_NOTES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("hospitalised", ("因肺部感染住院", "因心脏不适住院治疗", "摔倒骨折住院", "脑梗住院")),
    ("illness", ("新查出糖尿病", "体检发现肿瘤,待进一步检查", "患带状疱疹")),
    ("hardship", ("家中房屋漏雨需维修", "子女失业,家庭经济困难", "医药费负担重")),
    ("bereavement", ("老伴去世", "本人去世", "子女去世")),
    ("complaint", ("反映医药费报销慢", "反映取暖费未发放", "对体检安排有意见", "反映住房维修问题")),
    ("new_leader", ("单位新任主要领导到任",)),
    ("holiday", ("春节", "重阳节", "“七一”建党节")),
    ("birthday", ("八十寿辰", "九十寿辰", "寿辰")),
)


def choose(rng: random.Random, table: tuple[tuple[str, tuple[str, ...]], ...], key: str) -> str:
    for k, options in table:
        if k == key:
            return pick(rng, options)
    raise KeyError(key)


def hobbies(rng: random.Random) -> str | None:
    if rng.random() < 0.15:
        return None
    return "、".join(rng.sample(HOBBIES, 1 + int(rng.random() * 3)))


def personality(rng: random.Random) -> str | None:
    r = rng.random()
    if r < 0.25:
        return None
    return pick(rng, PERSONALITY) if r < 0.8 else ";".join(rng.sample(PERSONALITY, 2))


def health_note(rng: random.Random, status: str) -> str | None:
    if status == "good":
        return None if rng.random() < 0.8 else "身体健康,坚持锻炼"
    return choose(rng, HEALTH_NOTES, status)


def contact_note(rng: random.Random, reached: bool, family: bool) -> str | None:
    r = rng.random()
    if not reached:
        return pick(rng, _CONTACT_MISS)
    if r < 0.45:
        return None
    return pick(rng, _CONTACT_FAMILY if family and r < 0.7 else _CONTACT_OK)
