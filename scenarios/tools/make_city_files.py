# ruff: noqa: E501  (a data table: sourced rows are quoted whole)
"""Write the four city scenario files from sourced figures and stated rules.

Run from the repository root::

    python scenarios/tools/make_city_files.py

Each city's districts, populations and terrain kinds are as close to the real
city as ``scenarios/sources/city_facts.csv`` allows. Every number in a generated
file says next to it whether it is sourced (``[sourced: <city>, <item>]``
names a row of the CSV) or an ``[assumption]``. Where a figure is unknown,
exactly one of these documented rules fills it, and the file says which:

* **Populations**, in this order:

  1. a district with a sourced census population uses it;
  2. a district in a group whose aggregate population is sourced (e.g.
     Shanghai's "central city (7 districts)") gets an even share of that
     aggregate minus the group's districts with a sourced population;
  3. any other district gets an even share of the city's census total minus
     everything above.

  Even shares are whole persons; the first districts listed take the
  remainder one person each, so the city adds up exactly to its census total.
* **Areas** (mostly unknown): a district with a sourced area uses it; the
  others get ``population / density`` with an assumed density for their kind
  (``DENSITY`` below), scaled together so the city's area is its sourced (or,
  where unknown, stated assumed) land area.
* **Streets** (街道/乡镇, one street centre each): a district with a sourced
  count of streets/towns (or of street/town centres) uses it; the rest of the
  city's sourced or assumed total is shared by the other districts in
  proportion to population (largest remainder), at least 3 each.
* **Terrain kind** of each district (core, urban, suburban, rural plain,
  mountain): an assumption from geography, stated in the file with its
  reasons in the file's notes.
* **Volume** (``rate_scale``): the city's hotline items per resident-year
  divided by Beijing's 0.504, the volume the common file's rates are set to.
  Where a city's volume is unknown it is an assumption borrowed from a named
  city, and the file says so. The common file's rates are fitted on
  Chongqing at the settled state; a city whose cohorts report more or less
  (older, more rural, more online) would miss its own figure, so its
  ``settled`` factor, measured at the settled state by
  ``scenarios/tools/calibrate.py`` (the factor it prints), multiplies its
  ``rate_scale``. Staff stay in proportion to the sourced volume.

Real-world knowledge that is not in the CSV (a city's total land area or its
number of streets, which districts make up an aggregate) is used only as a
labelled ``[assumption]``, never as a source.

On each run the script checks that every ``[sourced: <city>, <item>]`` in the
generated files names an existing row of the CSV, and that every city's
districts add up exactly to its census total.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

DENSITY = {"core": 20000.0, "urban": 4000.0, "suburban": 700.0, "rural": 350.0, "mountain": 150.0}
"""Assumed residents per km² by kind, used only to share out a city's area."""

MIN_STREETS = 3
"""Least number of streets/towns a district gets under the streets rule."""

FACTS = Path(__file__).resolve().parents[1] / "sources" / "city_facts.csv"
"""The sourced figures, with their sources: ``scenarios/sources/city_facts.csv`` (see its README)."""


@dataclass
class D:
    name: str
    zh: str
    kind: str
    population: int | None  # None: unknown, filled by a rule
    pop_source: str = ""
    area: float | None = None  # sourced area, km²
    area_source: str = ""
    group: str | None = None  # key of CityFile.groups: a sourced aggregate this district is part of
    streets: int | None = None  # sourced count of streets/towns
    streets_source: str = ""


@dataclass
class Group:
    """A sourced aggregate population of a named set of districts."""

    population: int
    source: str  # [sourced: ...] row
    members_source: str = ""  # where the list of member districts comes from


@dataclass
class CityFile:
    key: str
    name: str
    description: str
    total_population: int
    pop_source: str
    area_km2: float
    area_source: str
    household_size: float
    household_source: str
    streets_total: int
    streets_source: str
    rate_scale: float
    rate_source: str
    settled: float  # calibrate.py's factor at the settled state (1: the city the common rates are fitted on)
    calibration: dict[str, tuple[float, str]]  # field -> (value, sourced/assumption note)
    calibration_source: str
    districts: list[D]
    groups: dict[str, Group] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _largest_remainder(weights: list[float], total: int, minimum: int) -> list[int]:
    n = len(weights)
    if n == 0:
        return []
    base = [minimum] * n
    left = total - minimum * n
    if left < 0:
        raise ValueError(f"{total} cannot give {n} districts at least {minimum} each")
    w = sum(weights)
    raw = [left * x / w for x in weights]
    out = [b + int(r) for b, r in zip(base, raw, strict=True)]
    rest = total - sum(out)
    order = sorted(range(n), key=lambda i: raw[i] - int(raw[i]), reverse=True)
    for i in order[:rest]:
        out[i] += 1
    return out


def _even(total: int, n: int) -> list[int]:
    """``total`` split into ``n`` whole shares; the first ones take the remainder."""
    share, extra = divmod(total, n)
    return [share + (1 if i < extra else 0) for i in range(n)]


def populations(c: CityFile) -> tuple[list[int], list[str]]:
    """Each district's population and the note saying where it comes from."""
    pops: list[int | None] = [d.population for d in c.districts]
    notes = [d.pop_source if d.population is not None else "" for d in c.districts]
    for key, g in c.groups.items():
        members = [i for i, d in enumerate(c.districts) if d.group == key]
        if not members:
            raise ValueError(f"{c.key}: group {key!r} has no districts")
        known = sum(pops[i] for i in members if pops[i] is not None)
        unknown = [i for i in members if pops[i] is None]
        if not unknown:
            if known != g.population:
                raise ValueError(f"{c.key}: group {key!r} districts sum to {known}, not {g.population}")
            continue
        n = len(members)
        share = f"1/{len(unknown)} of " if known == 0 else f"1/{len(unknown)} of the rest of "
        for i, p in zip(unknown, _even(g.population - known, len(unknown)), strict=True):
            pops[i] = p
            notes[i] = f"[assumption] rule: {share}{g.source} {g.population:,} ({n} districts)"
    rest = [i for i, p in enumerate(pops) if p is None]
    if rest:
        left = c.total_population - sum(p for p in pops if p is not None)
        for i, p in zip(rest, _even(left, len(rest)), strict=True):
            pops[i] = p
            notes[i] = "[assumption] rule: even share of the census total minus the known districts"
    out = [int(p) for p in pops]  # type: ignore[arg-type]
    if sum(out) != c.total_population:
        raise ValueError(f"{c.key}: districts sum to {sum(out)}, not {c.total_population}")
    if min(out) <= 0:
        raise ValueError(f"{c.key}: a district is left with no residents")
    return out, notes


def areas(c: CityFile, pops: list[int]) -> list[float]:
    raw_area = [p / DENSITY[d.kind] for p, d in zip(pops, c.districts, strict=True)]
    fixed = sum(d.area for d in c.districts if d.area is not None)
    free = sum(a for a, d in zip(raw_area, c.districts, strict=True) if d.area is None)
    scale = (c.area_km2 - fixed) / free
    return [d.area if d.area is not None else a * scale for a, d in zip(raw_area, c.districts, strict=True)]


def streets(c: CityFile, pops: list[int]) -> list[int]:
    fixed = sum(d.streets for d in c.districts if d.streets is not None)
    free = [i for i, d in enumerate(c.districts) if d.streets is None]
    shared = _largest_remainder([float(pops[i]) for i in free], c.streets_total - fixed, MIN_STREETS)
    out = [d.streets for d in c.districts]
    for i, s in zip(free, shared, strict=True):
        out[i] = s
    return out  # type: ignore[return-value]


def _num(x: float) -> str:
    """A number with thousands separators and no trailing zero decimals."""
    return f"{x:,.2f}".rstrip("0").rstrip(".")


def render(c: CityFile) -> str:
    pops, pop_notes = populations(c)
    area = areas(c, pops)
    street = streets(c, pops)

    lines = [
        f"# {c.name}: {c.description}",
        "# Generated by scenarios/tools/make_city_files.py; edit that script, not this file.",
        "# [sourced: <city>, <item>] names a row of scenarios/sources/city_facts.csv; [assumption] is ours.",
        "# Rules for missing figures (see the script's docstring):",
        "#   populations  a sourced district figure; else an even share of a sourced aggregate of",
        "#                its group of districts; else an even share of the census total minus the rest",
        "#   areas        a sourced district area; else population / assumed density by kind",
        f"#                ({', '.join(f'{k} {v:g}' for k, v in DENSITY.items())} per km²),",
        "#                scaled so the districts add up to the city's land area",
        "#   streets      a sourced district count; else the rest of the city total shared by",
        f"#                population (largest remainder), at least {MIN_STREETS}",
        "#   kinds        terrain and density class from geography [assumption]",
        *[f"# {n}" for n in c.notes],
        'extends = "common/china_megacity.toml"',
        f'name = "{c.key}"',
        f'description = "{c.description}"',
        "seed = 1                       # run setting, not a city figure",
        "days = 7                       # run setting, not a city figure",
        "warmup_days = 21               # run setting: until trust and queues settle (about three weeks; see README)",
        "follow_up_days = 7             # run setting: a week, so that 'within a week' figures are exact",
        'regime = "integrated"',
        "",
        "[city]",
        f'name = "{c.name}"',
        f"household_size = {c.household_size}   # {c.household_source}",
        "households_per_cell = 300      # [assumption] a management grid of a few hundred households",
        f"rate_scale = {round(c.rate_scale * c.settled, 3)}   # {c.rate_source}"
        + (
            ""
            if c.settled == 1
            else f"; times {c.settled}, measured at the settled state (scenarios/tools/calibrate.py) so that "
            "this city's own cohorts make that volume"
        ),
        f"staffing_scale = {c.rate_scale}   # [assumption] staff in proportion to the city's volume (staffing counts are unknown)",
        f"# population {c.total_population:,}: {c.pop_source}",
        f"# land area {_num(c.area_km2)} km²: {c.area_source}",
        f"# streets and towns {c.streets_total:,}: {c.streets_source}",
        "",
    ]
    rest = "rest of the " if any(d.streets is not None for d in c.districts) else ""
    for d, p, pn, a, s in zip(c.districts, pops, pop_notes, area, street, strict=True):
        area_note = (
            d.area_source if d.area is not None else "[assumption] rule: density by kind, scaled to the city area"
        )
        street_note = (
            d.streets_source if d.streets is not None else f"[assumption] rule: {rest}city total by population"
        )
        lines += [
            "[[city.districts]]",
            f'name = "{d.name}"',
            f'name_zh = "{d.zh}"',
            f'kind = "{d.kind}"            # [assumption] from geography',
            f"population = {p}       # {pn}",
            f"area_km2 = {a:g}      # {area_note}" if d.area is not None else f"area_km2 = {a:.1f}      # {area_note}",
            f"streets = {s}           # {street_note}",
            "",
        ]
    lines.append("[calibration]")
    for k, (v, note) in c.calibration.items():
        lines.append(f"{k} = {v}   # {note}")
    lines.append(f'source = "{c.calibration_source}"')
    lines.append("")
    return "\n".join(lines)


# --------------------------------------------------------------------- Chongqing

CHONGQING = CityFile(
    key="chongqing",
    name="Chongqing",
    description="Chongqing at full population: 38 districts and counties, 1,031 street and town centres",
    total_population=32054159,
    pop_source="[sourced: Chongqing, resident population (7th census)]",
    area_km2=82400.0,
    area_source="[sourced: Chongqing, land area]",
    household_size=2.45,
    household_source="[sourced: Chongqing, average family household size]",
    streets_total=1031,
    streets_source=(
        "[sourced: Chongqing, three-tier operations centres: city / district(county, dev. zone) / town-street] "
        "1 / 41 / 1031"
    ),
    rate_scale=0.68,
    settled=1.0,  # the common file's rates are fitted on Chongqing
    rate_source=(
        "[sourced: Chongqing, civic requests handled per day (日办理民生诉求)] 30,000 a day = 0.342 per resident-year, "
        "0.68 of the common file's Beijing volume of 0.504 "
        "([sourced: Beijing, 12345 hotline: requests received (calls+web)] / population)"
    ),
    calibration={
        "items_per_resident_year": (
            0.342,
            "[sourced: Chongqing, civic requests handled per day (日办理民生诉求)] 30,000 x 365 / 32,054,159; "
            "[assumption] that these are all hotline items",
        ),
        "phone_share": (0.9071, "[sourced: Beijing, 12345 hotline: share of requests by phone] [assumption] borrowed"),
        "online_share": (
            0.0929,
            "[sourced: Beijing, 12345 hotline: share of requests via internet channels] [assumption] borrowed",
        ),
        "dispatched_share": (
            0.41,
            "[sourced: Beijing, 12345 hotline: requests dispatched to agencies (派单)] approx. 4.5M / 11.04M "
            "[assumption] borrowed",
        ),
        "connection_rate_department_lines": (
            0.7892,
            "[sourced: Chongqing, district-level 12356 family-planning hotlines: average connection rate (Feb)] 2015",
        ),
        "connection_rate_unified": (
            0.95,
            "[assumption] borrowed: Guangzhou's 12345 answered over 95% after merging 72 department lines (city_facts.csv, Guangzhou (reference city, not scenario): answer rate of some hotlines before integration / average after integration)",
        ),
    },
    calibration_source=(
        "items: Chongqing, civic requests handled per day (30,000 x 365 / 32,054,159); "
        "channel shares and dispatched share: Beijing 12345 2020 (Chongqing's are unknown); "
        "calls answered: Chongqing's district 12356 lines 78.92% (Feb 2015), Guangzhou's merged 12345 over 95% "
        "(Chongqing's 12345 rate is unknown)"
    ),
    districts=[
        D("Yuzhong", "渝中区", "core", 588717, "[sourced: Chongqing, district resident population: 渝中区]"),
        D("Jiangbei", "江北区", "urban", 925800, "[sourced: Chongqing, district resident population: 江北区]"),
        D("Shapingba", "沙坪坝区", "urban", 1477345, "[sourced: Chongqing, district resident population: 沙坪坝区]"),
        D("Jiulongpo", "九龙坡区", "urban", 1526821, "[sourced: Chongqing, district resident population: 九龙坡区]"),
        D("Nan'an", "南岸区", "urban", 1197639, "[sourced: Chongqing, district resident population: 南岸区]"),
        D("Dadukou", "大渡口区", "urban", 421904, "[sourced: Chongqing, district resident population: 大渡口区]"),
        D("Yubei", "渝北区", "urban", 2191493, "[sourced: Chongqing, district resident population: 渝北区]"),
        D("Beibei", "北碚区", "urban", 834887, "[sourced: Chongqing, district resident population: 北碚区]"),
        D("Banan", "巴南区", "urban", 1178856, "[sourced: Chongqing, district resident population: 巴南区]"),
        D(
            "Wanzhou",
            "万州区",
            "suburban",
            1564449,
            "[sourced: Chongqing, district resident population: 万州区]",
            3457.0,
            "[sourced: Chongqing, Wanzhou district land area] (2013)",
        ),
        D("Fuling", "涪陵区", "suburban", 1115016, "[sourced: Chongqing, district resident population: 涪陵区]"),
        D("Changshou", "长寿区", "suburban", 692960, "[sourced: Chongqing, district resident population: 长寿区]"),
        D("Jiangjin", "江津区", "suburban", 1359611, "[sourced: Chongqing, district resident population: 江津区]"),
        D("Hechuan", "合川区", "suburban", 1245294, "[sourced: Chongqing, district resident population: 合川区]"),
        D("Yongchuan", "永川区", "suburban", 1148896, "[sourced: Chongqing, district resident population: 永川区]"),
        D("Qijiang", "綦江区", "suburban", 1011334, "[sourced: Chongqing, district resident population: 綦江区]"),
        D("Dazu", "大足区", "suburban", 834592, "[sourced: Chongqing, district resident population: 大足区]"),
        D("Bishan", "璧山区", "suburban", 756022, "[sourced: Chongqing, district resident population: 璧山区]"),
        D("Tongliang", "铜梁区", "suburban", 685729, "[sourced: Chongqing, district resident population: 铜梁区]"),
        D("Tongnan", "潼南区", "suburban", 688115, "[sourced: Chongqing, district resident population: 潼南区]"),
        D("Rongchang", "荣昌区", "suburban", 668977, "[sourced: Chongqing, district resident population: 荣昌区]"),
        D("Nanchuan", "南川区", "rural", 572362, "[sourced: Chongqing, district resident population: 南川区]"),
        D("Kaizhou", "开州区", "rural", 1203306, "[sourced: Chongqing, district resident population: 开州区]"),
        D("Liangping", "梁平区", "rural", 645315, "[sourced: Chongqing, district resident population: 梁平区]"),
        D("Qianjiang", "黔江区", "mountain", 487281, "[sourced: Chongqing, district resident population: 黔江区]"),
        D("Wulong", "武隆区", "mountain", 356748, "[sourced: Chongqing, district resident population: 武隆区]"),
        D("Dianjiang", "垫江县", "rural", None),
        D("Zhongxian", "忠县", "rural", None),
        D("Fengdu", "丰都县", "rural", None),
        D("Chengkou", "城口县", "mountain", None),
        D("Yunyang", "云阳县", "mountain", None),
        D("Fengjie", "奉节县", "mountain", None),
        D("Wushan", "巫山县", "mountain", None),
        D("Wuxi", "巫溪县", "mountain", None),
        D("Shizhu", "石柱土家族自治县", "mountain", None),
        D("Xiushan", "秀山土家族苗族自治县", "mountain", None),
        D("Youyang", "酉阳土家族苗族自治县", "mountain", None),
        D("Pengshui", "彭水苗族土家族自治县", "mountain", None),
    ],
    notes=[
        "The 12 counties' populations are unknown (the CSV's 'county resident population' rows say unknown).",
        "Chongqing's 12345 volume is unknown; its centre's 30,000 civic requests a day are taken as all hotline items [assumption].",
        "The Shapingba figure is uncertain: its source page also gives 1,447,345 (see that row).",
    ],
)

# ----------------------------------------------------------------------- Beijing


def _bj(zh: str) -> str:
    return f"[sourced: Beijing, district resident population: {zh}]"


BEIJING = CityFile(
    key="beijing",
    name="Beijing",
    description="Beijing at full population: 16 districts, 343 streets and towns",
    total_population=21893095,
    pop_source="[sourced: Beijing, resident population (7th census)]",
    area_km2=16410.54,
    area_source="[sourced: Beijing, land area]",
    household_size=2.31,
    household_source="[sourced: Beijing, average family household size]",
    streets_total=343,
    streets_source="[sourced: Beijing, 12345: streets/townships connected to platform] (2021)",
    rate_scale=1.0,
    settled=0.9603,  # calibrate.py, 2026-11-26: 0.5248 simulated against 0.504
    rate_source=(
        "[sourced: Beijing, 12345 hotline: requests received (calls+web)] 11,039,400 / 21,893,095 residents "
        "= 0.504 per resident-year (2020), the volume the common file's rates are set to"
    ),
    calibration={
        "items_per_resident_year": (
            0.504,
            "[sourced: Beijing, 12345 hotline: requests received (calls+web)] 11,039,400 / "
            "[sourced: Beijing, resident population (7th census)] 21,893,095",
        ),
        "phone_share": (0.9071, "[sourced: Beijing, 12345 hotline: share of requests by phone]"),
        "online_share": (0.0929, "[sourced: Beijing, 12345 hotline: share of requests via internet channels]"),
        "dispatched_share": (
            0.41,
            "[sourced: Beijing, 12345 hotline: requests dispatched to agencies (派单)] approx. 4,500,000 / 11,039,400",
        ),
        "connection_rate_department_lines": (
            0.7892,
            "[sourced: Chongqing, district-level 12356 family-planning hotlines: average connection rate (Feb)] [assumption] borrowed",
        ),
        "connection_rate_unified": (
            0.95,
            "[sourced: Beijing, 12345 draft service standard: answer within / 24-hour connection rate at least] "
            "a standard (at least 95%), not a measurement",
        ),
    },
    calibration_source=(
        "Beijing 12345, 2020: items = requests received (calls+web) 11,039,400 / resident population (7th census) "
        "21,893,095; phone and online shares = share of requests by phone / via internet channels; "
        "dispatched = requests dispatched to agencies (派单) approx. 4.5 million / 11,039,400; "
        "calls answered: Chongqing's district 12356 lines 78.92% (Feb 2015, borrowed), Beijing's draft 12345 "
        "standard of at least 95%"
    ),
    districts=[
        D(
            "Dongcheng",
            "东城区",
            "core",
            708829,
            _bj("东城区"),
            41.84,
            "[sourced: Beijing, Dongcheng grid cells: 2004 (25.38 km2) / 2010 merged district (41.84 km2)]",
        ),
        D("Xicheng", "西城区", "core", 1106214, _bj("西城区")),
        D("Chaoyang", "朝阳区", "urban", 3452460, _bj("朝阳区")),
        D("Fengtai", "丰台区", "urban", 2019764, _bj("丰台区")),
        D("Shijingshan", "石景山区", "urban", 567851, _bj("石景山区")),
        D("Haidian", "海淀区", "urban", 3133469, _bj("海淀区")),
        D("Mentougou", "门头沟区", "mountain", 392606, _bj("门头沟区")),
        D("Fangshan", "房山区", "suburban", 1312778, _bj("房山区")),
        D("Tongzhou", "通州区", "suburban", 1840295, _bj("通州区")),
        D("Shunyi", "顺义区", "suburban", 1324044, _bj("顺义区")),
        D("Changping", "昌平区", "suburban", 2269487, _bj("昌平区")),
        D("Daxing", "大兴区", "suburban", 1993591, _bj("大兴区")),
        D("Huairou", "怀柔区", "mountain", 441040, _bj("怀柔区")),
        D("Pinggu", "平谷区", "rural", 457313, _bj("平谷区")),
        D("Miyun", "密云区", "mountain", 527683, _bj("密云区")),
        D("Yanqing", "延庆区", "mountain", 345671, _bj("延庆区")),
    ],
    notes=[
        "All 16 district populations are sourced; they add up to the census total and to the sourced aggregates",
        "  ([sourced: Beijing, core area (东城+西城) population (exact)] 1,815,043;",
        "  [sourced: Beijing, central-city (6 districts) population (exact)] 10,988,587).",
        "Kinds [assumption]: the core area is core; the rest of the central city (Chaoyang, Fengtai, Shijingshan,",
        "  Haidian) urban; the five plain districts around it (Tongzhou, Daxing, Changping, Shunyi, Fangshan) suburban;",
        "  Pinggu, a valley plain ringed by hills, rural; Mentougou, Huairou, Miyun and Yanqing, mostly mountains, mountain.",
        "Dongcheng's area is the merged district's area given in the grid-cell row; no other district area is sourced.",
        "No district's count of streets/towns is sourced: the city total is shared by population.",
    ],
)

# ---------------------------------------------------------------------- Shanghai

SH_CENTRAL = "central"
SH_SUBURBAN = "suburban"

SHANGHAI = CityFile(
    key="shanghai",
    name="Shanghai",
    description=(
        "Shanghai at full population: 16 districts, populations split evenly from 3 sourced aggregates, "
        "215 streets and towns [assumption]"
    ),
    total_population=24870895,
    pop_source="[sourced: Shanghai, resident population (7th census)]",
    area_km2=6340.0,
    area_source="[sourced: Shanghai, land area]",
    household_size=2.32,
    household_source="[sourced: Shanghai, average family household size]",
    streets_total=215,
    streets_source=(
        "[assumption] 107 streets + 106 towns + 2 townships, from general knowledge, not in city_facts.csv; "
        "only Pudong's and Xuhui's counts are sourced"
    ),
    rate_scale=0.72,
    settled=0.9799,  # calibrate.py, 2026-11-26: 0.3704 simulated against 0.363
    rate_source=(
        "[sourced: Shanghai, 12345 hotline: requests received] 9,028,000 (2023) / 24,870,895 residents (2020) "
        "= 0.363 per resident-year, 0.72 of the common file's Beijing volume of 0.504"
    ),
    calibration={
        "items_per_resident_year": (
            0.363,
            "[sourced: Shanghai, 12345 hotline: requests received] 9,028,000 (2023) / "
            "[sourced: Shanghai, resident population (7th census)] 24,870,895 (2020)",
        ),
        "phone_share": (
            0.959,
            "[sourced: Shanghai, 12345 hotline: phone calls answered] 2,700,000 / (that + "
            "[sourced: Shanghai, 12345 hotline: requests via website and mobile app] 115,000), 2016",
        ),
        "online_share": (
            0.041,
            "[sourced: Shanghai, 12345 hotline: requests via website and mobile app] 115,000 / 2,815,000, 2016",
        ),
        "dispatched_share": (
            0.426,
            "[sourced: Shanghai, 12345 hotline: work orders forwarded] 1,200,000 / 2,815,000, 2016",
        ),
        "connection_rate_department_lines": (
            0.7892,
            "[sourced: Chongqing, district-level 12356 family-planning hotlines: average connection rate (Feb)] [assumption] borrowed",
        ),
        "connection_rate_unified": (
            0.90,
            "[sourced: Shanghai, 12345 hotline: call connection rate (10-year)] over 90%",
        ),
    },
    calibration_source=(
        "items: Shanghai 12345 requests received 9,028,000 (2023) / resident population (7th census) 24,870,895; "
        "phone, online and dispatched shares: Shanghai 12345 2016 rows (phone calls answered 2,700,000; "
        "requests via website and mobile app 115,000; work orders forwarded 1,200,000), our division, "
        "a 2016 mix that may have changed by 2023 (not borrowed from Beijing); calls answered: Shanghai 12345 "
        "over 90% (2012-2022), department lines borrowed from Chongqing's district 12356 lines (78.92%)"
    ),
    groups={
        SH_CENTRAL: Group(
            6683712,
            "[sourced: Shanghai, central-city (7 districts) population]",
            "the row's note: 中心城区=黄浦 徐汇 长宁 静安 普陀 虹口 杨浦",
        ),
        SH_SUBURBAN: Group(
            12505671,
            "[sourced: Shanghai, suburban (8 districts) population]",
            "the row's note: 郊区=闵行 宝山 嘉定 金山 松江 青浦 奉贤 崇明",
        ),
    },
    districts=[
        D("Huangpu", "黄浦区", "core", None, group=SH_CENTRAL),
        D(
            "Xuhui",
            "徐汇区",
            "core",
            None,
            group=SH_CENTRAL,
            streets=13,
            streets_source=(
                "[sourced: Shanghai, Xuhui grid system: district centre / street-town centres / "
                "residential workstations] 1 / 13 / 370+ (2015)"
            ),
        ),
        D("Changning", "长宁区", "core", None, group=SH_CENTRAL),
        D("Jing'an", "静安区", "core", None, group=SH_CENTRAL),
        D("Putuo", "普陀区", "core", None, group=SH_CENTRAL),
        D("Hongkou", "虹口区", "core", None, group=SH_CENTRAL),
        D("Yangpu", "杨浦区", "core", None, group=SH_CENTRAL),
        D(
            "Pudong",
            "浦东新区",
            "urban",
            5681512,
            "[sourced: Shanghai, Pudong New Area population]",
            streets=36,
            streets_source=(
                "[sourced: Shanghai, Pudong operations centre structure: district centre + town/street sub-centres] "
                "1 + 36 (2022)"
            ),
        ),
        D("Minhang", "闵行区", "urban", None, group=SH_SUBURBAN),
        D("Baoshan", "宝山区", "urban", None, group=SH_SUBURBAN),
        D("Jiading", "嘉定区", "urban", None, group=SH_SUBURBAN),
        D("Songjiang", "松江区", "urban", None, group=SH_SUBURBAN),
        D("Qingpu", "青浦区", "suburban", None, group=SH_SUBURBAN),
        D("Fengxian", "奉贤区", "suburban", None, group=SH_SUBURBAN),
        D("Jinshan", "金山区", "suburban", None, group=SH_SUBURBAN),
        D("Chongming", "崇明区", "rural", None, group=SH_SUBURBAN),
    ],
    notes=[
        "District census populations are unknown (the CSV row 'Shanghai, district-level 2020 census populations",
        "  (16 districts)' says unknown); Pudong New Area's is sourced; each other district gets an even share",
        "  of its sourced aggregate, the central city (7 districts) or the suburbs (8 districts), whose members",
        "  are named in those rows.",
        "Kinds [assumption]: the seven central districts are core (all densely built); Pudong, and Minhang, Baoshan,",
        "  Jiading and Songjiang (built up and contiguous with the centre) urban; Qingpu, Fengxian and Jinshan",
        "  suburban; Chongming (an island of farms) rural. With the common file's cohort shares this gives about",
        "  12 % rural residents, near [sourced: Shanghai, rural share of residents] 10.7 %.",
        "Streets: Pudong's 36 town/street sub-centres and Xuhui's 13 street-town centres are sourced; the other",
        "  14 districts share the rest of the assumed city total of 215.",
        "The volume is of 2023 and the population of 2020; the channel and dispatch shares are of 2016.",
    ],
)

# ----------------------------------------------------------------------- Chengdu

CD_CENTRAL = "central"

CHENGDU = CityFile(
    key="chengdu",
    name="Chengdu",
    description=(
        "Chengdu at full population: 23 census areas, populations split evenly from the sourced central-city "
        "aggregate, 261 streets and towns [assumption]"
    ),
    total_population=20937757,
    pop_source="[sourced: Chengdu, resident population (7th census)]",
    area_km2=14335.0,
    area_source="[assumption] general knowledge, not in city_facts.csv",
    household_size=2.49,
    household_source="[sourced: Chengdu, average family household size]",
    streets_total=261,
    streets_source=(
        "[assumption] about 261 after the 2019-20 merger of towns and streets, from general knowledge, "
        "not in city_facts.csv; only Chenghua's count is sourced"
    ),
    rate_scale=0.72,
    settled=0.9567,  # calibrate.py, 2026-11-26: 0.3794 simulated against 0.363 (Shanghai's, borrowed)
    rate_source=(
        "[assumption] Chengdu's hotline volume is unknown: taken as Shanghai's 0.363 per resident-year "
        "([sourced: Shanghai, 12345 hotline: requests received] 9,028,000 / 24,870,895), "
        "0.72 of the common file's Beijing volume of 0.504"
    ),
    calibration={
        "items_per_resident_year": (
            0.363,
            "[assumption] borrowed from Shanghai ([sourced: Shanghai, 12345 hotline: requests received] / population); "
            "Chengdu's volume is unknown",
        ),
    },
    calibration_source=(
        "ASSUMPTION, not a Chengdu figure: items borrowed from Shanghai 12345 (9,028,000 requests in 2023 / "
        "24,870,895 residents); Chengdu's volume, channel shares and dispatched share are unknown, so "
        "phone, online and dispatched shares are left out"
    ),
    groups={
        CD_CENTRAL: Group(
            15419400,
            "[sourced: Chengdu, central-city population]",
            "[assumption] 12 districts + Tianfu New Area + Hi-tech Zone",
        ),
    },
    districts=[
        D("Jinjiang", "锦江区", "core", None, group=CD_CENTRAL),
        D("Qingyang", "青羊区", "core", None, group=CD_CENTRAL),
        D("Jinniu", "金牛区", "core", None, group=CD_CENTRAL),
        D("Wuhou", "武侯区", "core", None, group=CD_CENTRAL),
        D(
            "Chenghua",
            "成华区",
            "core",
            None,
            group=CD_CENTRAL,
            streets=11,
            streets_source=(
                "[sourced: Chengdu, Chenghua district: district + street operation platforms] 1 + 11 (2023)"
            ),
        ),
        D("Gaoxin", "成都高新区", "urban", None, group=CD_CENTRAL),
        D("Tianfu", "四川天府新区成都直管区", "urban", None, group=CD_CENTRAL),
        D("Longquanyi", "龙泉驿区", "urban", None, group=CD_CENTRAL),
        D("Xindu", "新都区", "urban", None, group=CD_CENTRAL),
        D("Wenjiang", "温江区", "urban", None, group=CD_CENTRAL),
        D("Shuangliu", "双流区", "urban", None, group=CD_CENTRAL),
        D("Pidu", "郫都区", "urban", None, group=CD_CENTRAL),
        D("Qingbaijiang", "青白江区", "suburban", None, group=CD_CENTRAL),
        D("Xinjin", "新津区", "suburban", None, group=CD_CENTRAL),
        D("Dongbu", "成都东部新区", "suburban", None),
        D("Jianyang", "简阳市", "rural", None),
        D("Jintang", "金堂县", "rural", None),
        D("Chongzhou", "崇州市", "rural", None),
        D("Qionglai", "邛崃市", "rural", None),
        D("Pujiang", "蒲江县", "rural", None),
        D("Dujiangyan", "都江堰市", "mountain", None),
        D("Pengzhou", "彭州市", "mountain", None),
        D("Dayi", "大邑县", "mountain", None),
    ],
    notes=[
        "The 23 census areas are [sourced: Chengdu, number of census areas (20 区市县 + 天府新区 + 东部新区 + 高新区)];",
        "  which 20 区市县 they are is general knowledge [assumption]. District populations are unknown",
        "  (the CSV row 'Chengdu, district-level 2020 census populations (20 区市县 + 3 功能区)' says unknown).",
        "Central city [assumption]: the 12 districts (Jinjiang, Qingyang, Jinniu, Wuhou, Chenghua, Longquanyi,",
        "  Qingbaijiang, Xindu, Wenjiang, Shuangliu, Pidu, Xinjin), Tianfu New Area (Chengdu-administered part)",
        "  and the Hi-tech Zone share [sourced: Chengdu, central-city population] 15,419,400 evenly; the other",
        "  9 areas (5 county-level cities, 3 counties, the Eastern New Area) share the rest of the census total.",
        "  The row lists no members; this is Chengdu's 12 + 2 central-city definition as we understand it.",
        "Kinds [assumption]: the five old inner districts core; the Hi-tech Zone, Tianfu and the five near",
        "  suburbs on the plain urban; Qingbaijiang, Xinjin and the Eastern New Area suburban; Jianyang, Jintang,",
        "  Chongzhou, Qionglai and Pujiang (plain and hills) rural; Dujiangyan, Pengzhou and Dayi (reaching into",
        "  the Longmen and Qionglai mountains) mountain.",
        "The functional areas (Gaoxin, Tianfu, Dongbu) are treated as districts, as the census counts them.",
        "Not used: [sourced: Chengdu, urban-area (城区) resident population (7th census)] 13,340,000 is a",
        "  different (built-up area) measure from the central city's 15,419,400.",
    ],
)

CITIES = [BEIJING, SHANGHAI, CHONGQING, CHENGDU]


# -------------------------------------------------------------------------- checks

_CITED = re.compile(r"\[sourced: ([^,\]]+), ((?:[^\[\]]|\[[^\]]*\])*?)\]")


def _facts() -> set[tuple[str, str]] | None:
    if not FACTS.exists():
        return None
    with FACTS.open(encoding="utf-8", newline="") as f:
        return {(row["city"], row["item"]) for row in csv.DictReader(f)}


def check_citations(text: str, facts: set[tuple[str, str]]) -> list[str]:
    """The ``[sourced: <city>, <item>]`` citations in ``text`` that name no row of the CSV."""
    bad = []
    for city, item in _CITED.findall(text):
        if city == "<city>":
            continue
        if (city, item) not in facts and f"[sourced: {city}, {item}]" not in bad:
            bad.append(f"[sourced: {city}, {item}]")
    return bad


def main() -> None:
    out = Path(__file__).resolve().parents[1]
    facts = _facts()
    problems = []
    for c in CITIES:
        text = render(c)
        (out / f"{c.key}.toml").write_text(text, encoding="utf-8")
        print(f"wrote scenarios/{c.key}.toml")
        if facts is not None:
            problems += [f"{c.key}: no such row {b}" for b in check_citations(text, facts)]
    if facts is None:
        print(f"note: {FACTS} not found; citations not checked")
    elif problems:
        raise SystemExit("\n".join(problems))
    else:
        print("all [sourced: ...] citations name a row of city_facts.csv")


if __name__ == "__main__":
    main()
