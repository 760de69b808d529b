"""A made-up corpus of district reports with planted coinages, for testing discovery.

The generator is deterministic (a seeded ``random.Random``). Paragraphs are built from
report-style sentence templates filled with ordinary policy vocabulary (including the stock
phrases real reports repeat: 高质量发展, 基层治理, 党建引领 …) and, in some sentences, one
planted coinage, written with or without quotation marks.
"""
from __future__ import annotations

import random
from pathlib import Path

import pandas as pd

#: coinage -> how it is written: "quoted", "plain" or "both"
PLANTED = {
    "两在两同": "both",
    "1+5+N": "both",
    "金鸡湖·邻里汇": "quoted",
    "湖畔·初心坊": "plain",
    "三个必到": "plain",
    "红雁驿站": "plain",
    "先锋议事厅": "quoted",
    "246工作法": "plain",
    "一核三化": "plain",
    "链上党建": "both",
    "3+2+X": "plain",
    "银发先锋": "plain",
}

# Ordinary vocabulary is compositional: its parts also occur apart (街道党委, 街道干部, 社区党委 …).
UNITS = ["街道", "社区", "机关", "园区", "村", "企业", "学校", "医院", "区级", "驻区单位"]
ROLES = ["党工委", "党委", "党支部", "党组织", "干部", "党员", "志愿者", "服务中心", "工作人员"]
VERBS = ["深入推进", "持续深化", "全面落实", "扎实开展", "积极探索", "不断完善", "大力实施", "认真贯彻", "统筹推进", "着力打造"]
OBJECTS = ["高质量发展", "基层治理", "党建引领", "乡村振兴", "营商环境", "民生实事", "城市更新", "数字化转型", "社会治理现代化",
           "干部队伍建设", "人才工作", "安全生产", "生态环境保护", "文明城市创建", "公共服务", "产业升级", "作风建设", "服务群众",
           "组织体系建设", "基层党建工作", "共同富裕", "科技创新", "党建品牌", "新就业群体", "两新组织党建", "志愿服务"]
GOALS = ["取得明显成效", "群众满意度不断提升", "形成一批可复制的经验", "为全区发展提供坚强保障", "推动各项工作落地见效",
         "不断增强群众获得感", "有效激发基层活力", "实现整体工作提质增效", "营造良好氛围", "夯实基层基础"]
NUMBERS = ["12", "36", "58", "120", "2.3万", "近百", "400余", "18"]
PLACES = ["东湖街道", "西城社区", "南岸村", "高新区", "湖滨新区"]

TEMPLATES = [
    "{s}{v}{o}，{g}。",
    "今年以来，{p}{v}{o}，累计服务群众{n}人次，{g}。",
    "围绕{o}，{s}{v}{o2}，{g}。",
    "{p}坚持{o}，{v}{o2}，{g}。",
    "{s}把{o}作为重点，{v}{o2}，{g}。",
    "{s}{v}{o}和{o2}，{g}。",
]
COINED = [
    "{s}以{c}为抓手，{v}{o}，{g}。",
    "{p}推出{c}，{v}{o}，{g}。",
    "依托{c}，{s}{v}{o}，累计开展活动{n}场，{g}。",
    "{c}在{p}落地，{s}{v}{o}，{g}。",
    "{s}通过{c}{v}{o}，{g}。",
    "{p}的{c}，{v}{o}，{g}。",
]


def planted_frame(seed: int = 0, n_docs: int = 24, paragraphs: int = 14) -> pd.DataFrame:
    """``doc_id, district, year, text``: ``n_docs`` reports of ``paragraphs`` paragraphs."""
    rng = random.Random(seed)
    rows = []
    # Coinages belong to the district that launched them (two of the twelve are shared).
    owners = {c: {k % 4, (k + 1) % 4} if k % 6 == 0 else {k % 4} for k, c in enumerate(PLANTED)}
    for d in range(n_docs):
        coinages = [c for c in PLANTED if d % 4 in owners[c]]
        paras = []
        for _ in range(paragraphs):
            sentences = []
            for _ in range(rng.randint(2, 4)):
                fill = {"s": rng.choice(UNITS) + rng.choice(ROLES), "v": rng.choice(VERBS), "o": rng.choice(OBJECTS),
                        "o2": rng.choice(OBJECTS), "g": rng.choice(GOALS), "n": rng.choice(NUMBERS), "p": rng.choice(PLACES)}
                if rng.random() < 0.3:
                    coinage = rng.choice(coinages)
                    style = PLANTED[coinage]
                    quoted = style == "quoted" or (style == "both" and rng.random() < 0.5)
                    fill["c"] = f"“{coinage}”" if quoted else coinage
                    sentences.append(rng.choice(COINED).format(**fill))
                else:
                    sentences.append(rng.choice(TEMPLATES).format(**fill))
            paras.append("".join(sentences))
        rows.append({"doc_id": f"r{d:02d}", "district": f"d{d % 4}", "year": 2020 + d % 6, "text": "\n".join(paras)})
    return pd.DataFrame(rows)


def write_planted(folder: Path, seed: int = 0) -> Path:
    """Write the planted corpus as ``folder/planted.csv`` and return its path."""
    path = Path(folder) / "planted.csv"
    planted_frame(seed).to_csv(path, index=False)
    return path


# ---------------------------------------------------------------- planted topics

#: Background themes: each paragraph is written from one theme's words.
TOPIC_THEMES = {
    "环保": ["生态", "环境", "绿色", "污染", "河道", "垃圾", "节能", "湿地", "空气", "水质"],
    "民生": ["教育", "医疗", "养老", "就业", "住房", "居民", "托育", "食堂", "体检", "助餐"],
    "经济": ["企业", "产业", "投资", "项目", "市场", "招商", "税收", "出口", "融资", "集群"],
}
#: The planted theme: frequent in district d0 (and only there often).
PLANTED_THEME = ("数字", ["数据", "平台", "算法", "算力", "智能", "网络", "云端", "芯片", "软件", "数字化"])
#: Words of the 经济 theme before 2021 and from 2021 on: the theme's top terms drift over time.
EARLY = ["工厂", "制造", "厂房", "车间"]
LATE = ["直播", "电商", "跨境", "物流"]
TOPIC_YEARS = (2019, 2020, 2021, 2022)


def topic_frame(seed: int = 0, n_docs: int = 48, paragraphs: int = 6, planted_share: float = 0.5) -> pd.DataFrame:
    """``doc_id, district, year, text``: documents from four districts (d0-d3) over four years,
    every district in every year; paragraphs written from one theme each. The planted theme
    fills ``planted_share`` of d0's paragraphs and 4% of the others'; the 经济 theme uses
    ``EARLY`` words before 2021 and ``LATE`` words after."""
    rng = random.Random(seed)
    rows = []
    for d in range(n_docs):
        district, year = f"d{d % 4}", TOPIC_YEARS[(d // 4) % len(TOPIC_YEARS)]
        paras = []
        for _ in range(paragraphs):
            if rng.random() < (planted_share if district == "d0" else 0.04):
                words = PLANTED_THEME[1]
            else:
                theme = rng.choice(sorted(TOPIC_THEMES))
                words = TOPIC_THEMES[theme] + ((EARLY if year < 2021 else LATE) * 2 if theme == "经济" else [])
            paras.append("，".join(rng.choice(words) for _ in range(14)) + "。")
        rows.append({"doc_id": f"t{d:03d}", "district": district, "year": year, "text": "\n".join(paras)})
    return pd.DataFrame(rows)


def topic_lexicon() -> str:
    """A lexicon whose entries are the theme words (so none is split), one category per theme,
    and a category ``稀有`` whose two terms never occur."""
    themes = {**TOPIC_THEMES, PLANTED_THEME[0]: PLANTED_THEME[1]}
    lines = ["entries:"]
    for theme, words in themes.items():
        lines += [f"  - term: {w}\n    category: {theme}" for w in words]
    lines += [f"  - term: {w}\n    category: {theme}" for theme, words in (("经济", EARLY + LATE),) for w in words]
    lines += ["  - term: 从未出现\n    category: 稀有", "  - term: 不存在词\n    category: 稀有", "stopwords: []"]
    return "\n".join(lines) + "\n"


def write_topic_corpus(folder: Path, seed: int = 0, **options) -> Path:
    """Write the planted-topic corpus as ``folder/topics.csv`` with ``folder/lexicon.yaml``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    topic_frame(seed, **options).to_csv(folder / "topics.csv", index=False)
    (folder / "lexicon.yaml").write_text(topic_lexicon(), encoding="utf-8")
    return folder / "topics.csv"
# ---------------------------------------------------------------- a slogan that spreads

#: The slogan planted to spread from district d0 to the others, its long form (an alias,
#: used by the last district to adopt it), and a lexicon entry no document uses.
SPREADING = "三融三进"
SPREADING_LONG = "融入中心融入基层融入群众"
NEVER_USED = "从未出现"
SPREAD_START = 2018


def adoption_year(k: int, n_groups: int, years: int) -> int:
    """The year district ``k`` first uses the spreading slogan: d0 in the first year, the
    others in cohorts spread over the years (several districts share a year when there are
    more districts than years)."""
    return SPREAD_START + (k * years) // n_groups


def spread_date(k: int, year: int) -> str:
    """District ``k``'s document date in ``year``: a different day for each district."""
    return f"{year}-{1 + k % 12:02d}-{1 + k % 28:02d}"


def diffusion_frame(n_groups: int = 5, *, years: int = 6, dates: bool = True, seed: int = 0) -> pd.DataFrame:
    """``doc_id, district, year, [date,] text``: one report per district and year; from its
    adoption year on, each report uses ``SPREADING`` in one to three sentences (the last
    district writes its long form ``SPREADING_LONG`` instead)."""
    rng = random.Random(seed)
    rows = []
    for k in range(n_groups):
        adopted = adoption_year(k, n_groups, years)
        for year in range(SPREAD_START, SPREAD_START + years):
            sentences = []
            uses = rng.randint(1, 3) if year >= adopted else 0
            for s in range(8):
                fill = {"s": rng.choice(UNITS) + rng.choice(ROLES), "v": rng.choice(VERBS), "o": rng.choice(OBJECTS),
                        "o2": rng.choice(OBJECTS), "g": rng.choice(GOALS), "n": rng.choice(NUMBERS), "p": rng.choice(PLACES)}
                if s < uses:
                    fill["c"] = SPREADING_LONG if k == n_groups - 1 and n_groups > 1 else SPREADING
                    sentences.append(rng.choice(COINED).format(**fill))
                else:
                    sentences.append(rng.choice(TEMPLATES).format(**fill))
            rng.shuffle(sentences)
            row = {"doc_id": f"d{k:02d}-{year}", "district": f"d{k:02d}", "year": year}
            if dates:
                row["date"] = spread_date(k, year)
            rows.append({**row, "text": "".join(sentences[:4]) + "\n" + "".join(sentences[4:])})
    return pd.DataFrame(rows)


def spread_lexicon() -> str:
    """The lexicon (YAML) for ``diffusion_frame``."""
    return (f"entries:\n  - term: {SPREADING}\n    category: slogan\n    aliases: [{SPREADING_LONG}]\n"
            f"  - term: {NEVER_USED}\n    category: slogan\n  - term: 党建引领\n    category: slogan\n")


#: A topic that appears in one district from ``EMERGING_FROM`` on, and drifts: its early words
#: give way to its late words from ``EMERGING_DRIFT``.
EMERGING_EARLY = "数据 平台 算法 智慧 云计算 中台".split()
EMERGING_LATE = "数据 平台 算法 智慧 物联网 模型".split()
EMERGING_FROM, EMERGING_DRIFT = 2020, 2022
_BACKGROUND = ["产业 企业 投资 项目 科技 招商 制造 市场 就业 税收 园区 创业".split(),
               "社区 居民 网格 志愿 养老 物业 邻里 楼道 托育 调解 菜场 卫生".split(),
               "党员 支部 学习 教育 书记 党课 组织 先锋 纪律 作风 廉政 使命".split()]


def emerging_frame(n_groups: int = 20, *, years: int = 10, seed: int = 0) -> pd.DataFrame:
    """``doc_id, district, year, date, text``: two reports per district and year from 2015
    mixing three background themes; in district d07 from ``EMERGING_FROM`` on, most words come
    from a digital-governance theme whose words drift at ``EMERGING_DRIFT`` (about 2% of
    the corpus: the acceptance tester's case). Words are separated by 、 so that each is a token."""
    rng = random.Random(seed)
    rows = []
    for k in range(n_groups):
        for year in range(2015, 2015 + years):
            for n in range(2):
                planted = k == 7 and year >= EMERGING_FROM
                pools = [*_BACKGROUND] + ([EMERGING_LATE if year >= EMERGING_DRIFT else EMERGING_EARLY] if planted else [])
                weights = [1, 1, 1] + ([12] if planted else [])
                paragraphs = []
                for _ in range(5):
                    words = [rng.choice(rng.choices(pools, weights=weights)[0]) for _ in range(24)]
                    paragraphs.append("、".join(words) + "。")
                rows.append({"doc_id": f"d{k:02d}-{year}-{n}", "district": f"d{k:02d}", "year": year,
                             "date": f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}", "text": "\n".join(paragraphs)})
    return pd.DataFrame(rows)
