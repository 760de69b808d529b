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


def topic_frame(seed: int = 0, n_docs: int = 48, paragraphs: int = 6, planted_share: float = 0.5,
                later_share: float = 0.04) -> pd.DataFrame:
    """``doc_id, district, year, text``: documents from four districts (d0-d3) over four years,
    every district in every year; paragraphs written from one theme each. The planted theme
    fills ``planted_share`` of d0's paragraphs and 4% of the others' (``later_share`` of them
    from 2021 on: a theme that grows over the years); the 经济 theme uses ``EARLY`` words
    before 2021 and ``LATE`` words after."""
    rng = random.Random(seed)
    rows = []
    for d in range(n_docs):
        district, year = f"d{d % 4}", TOPIC_YEARS[(d // 4) % len(TOPIC_YEARS)]
        paras = []
        for _ in range(paragraphs):
            if rng.random() < (planted_share if district == "d0" else later_share if year >= 2021 else 0.04):
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


# ---------------------------------------------------------------- coinages among stock phrases

#: A second planted corpus (templates unlike ``planted_frame``'s, after an acceptance
#: tester's generator): coinage -> how it is written. Number-initial coinages are never quoted.
COINED_2 = {
    "四下基层": "quoted", "2+4+N": "both", "星火·同心圆": "quoted", "滨江·红帆港": "plain", "五微治理": "plain",
    "蓝鲸驿站": "plain", "睦邻议事会": "both", "369工作法": "plain", "一轴两翼": "plain", "云上党校": "quoted",
    "1+3+X": "plain", "红色物业": "both", "三个一批": "quoted", "三项工程": "plain", "5大集群": "plain",
}
#: Stock phrases of the genre, each used as often as a coinage, in the same slots.
STOCK_2 = ["基层基础更加牢固", "惠及群众近千户", "区委组织部", "营商环境", "社区服务体系", "基层党组织建设",
           "产业转型升级", "文化惠民工程", "美丽乡村建设", "河西街道"]
_SUBJECTS_2 = ["镇党委", "各村党支部", "街道党工委", "社区居委会", "县人社局", "开发区管委会", "市场监管所"]
_VERBS_2 = ["着力推动", "扎实推进", "深入实施", "认真落实", "不断优化", "全力保障", "持续提升", "积极构建"]
_OBJECTS_2 = ["农业现代化", "乡村治理", "公共卫生服务", "教育均衡发展", "就业创业服务", "防汛抗旱工作", "民生保障",
              "招商引资", "生态修复", "数字政府建设"]
_GOALS_2 = ["成效显著", "群众口碑持续向好", "各项指标稳中有进", "为高质量发展注入动能", "服务效能明显增强"]
_PLACES_2 = ["城关镇", "青山村", "滨湖社区", "经开区", "北塘镇"]
_PLAIN_2 = ["{s}{v}{o}，{g}。", "{p}{v}{o}和{o2}，{g}。", "围绕{o}，{s}{v}{o2}，{g}。", "今年，{p}{v}{o}，惠及群众{n}户，{g}。"]
_WITH_2 = ["{s}以{c}为引领，{v}{o}，{g}。", "{p}推行{c}，{v}{o}，{g}。", "借助{c}，{s}{v}{o}，{g}。",
           "{s}深化{c}，{v}{o2}，{g}。", "{p}的{c}成为亮点，{s}{v}{o}，{g}。"]
_STOCK_SLOTS_2 = ["{s}{v}{o}，{c}。", "围绕{c}，{s}{v}{o}，{g}。", "{c}，{p}{v}{o}，{g}。", "{p}{v}{c}，{g}。"]


def stock_frame(seed: int = 0, regions: tuple[str, ...] = ("江宁", "浦口", "六合", "溧水", "高淳", "栖霞")) -> pd.DataFrame:
    """``id, region, yr, body``: four reports per region and year (2019, 2021, 2023), five
    paragraphs of four sentences, paragraphs separated by blank lines. A third of the
    sentences name a planted coinage (``COINED_2``), another third a stock phrase
    (``STOCK_2``): each stock phrase is used about as often as each coinage."""
    rng = random.Random(seed)
    rows = []
    for region in regions:
        for year in (2019, 2021, 2023):
            for k in range(4):
                paras = []
                for _ in range(5):
                    sentences = []
                    for _ in range(4):
                        fill = {"s": rng.choice(_SUBJECTS_2), "v": rng.choice(_VERBS_2), "o": rng.choice(_OBJECTS_2),
                                "o2": rng.choice(_OBJECTS_2), "g": rng.choice(_GOALS_2), "p": rng.choice(_PLACES_2),
                                "n": rng.choice(["120", "3600", "2.1万"])}
                        draw = rng.random()
                        if draw < 0.33:
                            coinage = rng.choice(sorted(COINED_2))
                            how = COINED_2[coinage]
                            quoted = how == "quoted" or (how == "both" and rng.random() < 0.5)
                            fill["c"] = f"“{coinage}”" if quoted else coinage
                            sentences.append(rng.choice(_WITH_2).format(**fill))
                        elif draw < 0.33 + 0.33 * len(STOCK_2) / len(COINED_2):
                            fill["c"] = rng.choice(STOCK_2)
                            sentences.append(rng.choice(_STOCK_SLOTS_2).format(**fill))
                        else:
                            sentences.append(rng.choice(_PLAIN_2).format(**fill))
                    paras.append("".join(sentences))
                rows.append({"id": f"{region}-{year}-{k}", "region": region, "yr": year, "body": "\n\n".join(paras)})
    return pd.DataFrame(rows)


def write_stock(folder: Path, seed: int = 0) -> Path:
    """Write the stock-phrase corpus as ``folder/reports.csv`` with its ``corpus.toml``
    (columns id, body, region, yr) and return the CSV's path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stock_frame(seed).to_csv(folder / "reports.csv", index=False)
    (folder / "corpus.toml").write_text('[corpus]\nid_column = "id"\ntext_column = "body"\n'
                                        'rename = { yr = "year", region = "district" }\n', encoding="utf-8")
    return folder / "reports.csv"
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
