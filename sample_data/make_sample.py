#!/usr/bin/env python3
"""Writes sample_data/: small synthetic department exports (no real people) for as-of 2020-06-30,
and expected_gaps.csv, the gaps a correct run must report.

The expected gaps come from the `expect` annotations below, written by reading the spec's rule
catalogue for each planted person; they are not computed by recon. The files are committed, so
this script is only needed to change the sample (it needs `pip install openpyxl xlwt`).
"""
import csv
import datetime as dt
import io
import os

import openpyxl
import xlwt

HERE = os.path.dirname(os.path.abspath(__file__))
WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
CHECK = "10X98765432"


def make_id(region, birth, seq):
    first17 = f"{region}{birth}{seq:03d}"
    return first17 + CHECK[sum(int(c) * w for c, w in zip(first17, WEIGHTS)) % 11]


def person_id(region, birth, male, want_x=False):
    """A valid ID whose sequence parity gives the sex (and, if asked, whose check is X)."""
    for seq in range(11, 999):
        if seq % 2 == (1 if male else 0):
            pid = make_id(region, birth, seq)
            if pid.endswith("X") == want_x:
                return pid
    raise ValueError("no id")


FX, MC, QC = "420325", "421181", "421126"  # 房县, 麻城市, 蕲春县
P = {}


def person(key, name, region, birth, male, **kw):
    P[key] = dict(name=name, id=person_id(region, birth, male, kw.get("want_x", False)), sex="男" if male else "女")


# fmt: off
person("P01", "刘建国", FX, "19700512", True)
person("P02", "陈秀英", FX, "19581103", False)
person("P03", "王晓明", FX, "19850214", True, want_x=True)
person("P04", "李桂兰", FX, "19620708", False)
person("P05", "张伟", FX, "19900120", True)
person("P06", "赵志强", FX, "19750930", True)
person("P07", "孙丽", FX, "19800404", False)
person("H1", "孙大山", FX, "19550101", True)
person("P08", "周敏", FX, "19831212", False)
person("P09", "吴刚", FX, "19780303", True)
person("P10", "郑国庆", FX, "19651001", True)
person("P12", "冯淑珍", FX, "19500606", False)
person("P13", "何建华", FX, "19720818", True)
person("P14", "马兰", FX, "19690202", False)
person("P15", "黄海", FX, "19880505", True)
person("P16", "林浩", FX, "20040630", True)
person("P17", "徐静", FX, "20040701", False)
person("P18", "高宇", FX, "20140630", True)
person("P19", "罗欣", FX, "20100315", False)
person("P20", "梁子豪", FX, "20080109", True)
person("P21", "宋佳", FX, "20140701", False)
person("P22", "唐明", FX, "20110909", True)
person("P23", "韩雪", FX, "20030220", False)
person("P24", "曹军", FX, "19811111", True)
person("C2", "邓红", FX, "19600315", False)
person("D1", "彭长生", FX, "19450808", True)
person("D2", "曾志", FX, "19500909", True)
person("D3", "袁平", FX, "19480412", False)
person("G1", "蒋华", FX, "19660606", True)
person("G2", "蔡玲", FX, "19700707", False)
person("U1", "贾强", FX, "19630303", True)
person("S1", "魏大勇", FX, "19550505", True)
person("S2", "薛梅", FX, "19570707", False)
person("T1", "叶青", FX, "19520202", False)
person("T2", "阎锋", FX, "19530303", True)
person("C1", "石磊", QC, "19671010", True)
person("L1", "龙飞", QC, "19721212", True)
person("U2", "段鹏", QC, "19640404", True)
person("K1", "程亮", QC, "19690909", True)
person("R1", "任斌", FX, "19900307", True)
person("Y1", "邹平", "420321", "19770606", False)   # legacy 郧县 code, now 郧阳区
person("P11", "胡建军", "422101", "19650412", True)   # legacy 麻城 code, 15-digit ID in the registry
person("M2", "朱小红", MC, "19750510", False)
person("M3", "阿依古丽·买买提", MC, "19900808", False)
person("M4", "王䶮", MC, "19920202", True)
person("M5", "李曌明", MC, "19860606", True)
person("M6", "钱进", MC, "19790909", True)
person("M7", "邱云", "422101", "19680808", False)
person("E1", "何小华", FX, "20120404", True)         # child whose row carries the father's (P13) ID
person("E2", "田甜", FX, "20090909", False)
person("E3", "孔乐", FX, "20100101", True)          # J student number, no ID
person("I1", "汪洋", FX, "19950505", True)
person("E4", "孙小雨", FX, "20120808", False)       # 孙丽's (P07) daughter, on the family's 低保
person("E5", "孙小林", FX, "20100303", True)        # her brother, in school
person("E6", "马小军", FX, "20160101", True)        # 马兰's (P14) son, 4 years old
person("P25", "吕强", FX, "19880808", True)         # certified, poor; his father is 72
person("H2", "吕长顺", FX, "19480202", True)
person("P26", "苏梅", FX, "19900606", False)        # certified, poor; her mother is 58
person("H3", "苏桂芝", FX, "19610701", False)
person("Q1", "潘志刚", FX, "19820315", True)         # certified 一级, poor, 38: no pension
person("Q2", "侯玉兰", FX, "19790920", False)        # certified 二级, poor, 40: pension without 代缴
person("Q3", "龚小平", FX, "19750412", True)         # 防返贫监测 says 残疾, no certificate
person("Q4", "覃丽", FX, "19800101", False)          # 残疾 in a household no longer followed (一般农户)
# fmt: on

EXPECTED = []  # (rule_id, county_code, source_file, source_row, person, why)
RECORDS = []  # (source_file, source_row, person, noise)
NAME_VARIANTS = {"王小明": "P03", "張偉": "P05", "张 伟": "P05", "阿依古丽．买买提": "M3", "阿依古丽买买提": "M3", "王yan": "M4", "李?明": "M5"}
COUNTY_CODES = {"房县": FX, "麻城市": MC, "湖北省黄冈市麻城市": MC, "420321": "420304", "422101": MC}


def person_of(name):
    """The true person of a row, by the name written in it (never by its ID)."""
    return NAME_VARIANTS.get(name) or next(k for k, p in P.items() if p["name"] == name)


def noise_of(key, name, id_cell):
    """What was done to a row's ID and name, compared with the person's true values."""
    true_id, tags = P[key]["id"], []
    cell = id_cell if isinstance(id_cell, str) else repr(id_cell)
    if isinstance(id_cell, float):
        tags.append("id_excel_number_cell")
    elif cell == "":
        tags.append("id_blank")
    elif "E+" in cell:
        tags.append("id_excel_scientific")
    elif cell != true_id:
        plain = cell.strip().lstrip("'").replace(" ", "").replace("\t", "")
        plain = "".join(chr(ord(c) - 0xFEE0) if ord(c) > 0xFF00 else c for c in plain)
        differ = [i for i, (a, b) in enumerate(zip(plain, true_id)) if a != b]
        if plain.upper() == true_id:
            tags.append("id_lowercase_x" if plain != true_id else "id_cosmetic")
        elif len(plain) == 15:
            tags.append("id_legacy15")
        elif any(plain == p["id"] for p in P.values()):
            tags.append("id_of_relative")
        elif len(differ) == 2 and differ[1] == differ[0] + 1:
            tags.append("id_digits_swapped")
        else:
            tags.append("id_digit_substituted")
    if name != P[key]["name"]:
        tags.append("name_variant")
    return ";".join(tags)


def county_of(cell, key):
    if cell in (FX, MC, QC, "420304", "421181"):
        return cell
    return COUNTY_CODES.get(cell) or COUNTY_CODES.get(P[key]["id"][:6], P[key]["id"][:6])


def write_rows(name, rows, expect, name_col, id_col, county_col):
    for index, ((row, _), marks) in enumerate(zip(rows, expect), start=1):
        if row is None:
            continue
        key = person_of(row[name_col])
        RECORDS.append((name, index, key, noise_of(key, row[name_col], row[id_col])))
        for rule, why in marks:
            EXPECTED.append((rule, county_of(row[county_col], key), name, index, key, why))


def swap_adjacent(pid, at):
    """Swaps the first two differing adjacent digits from position `at` on."""
    while pid[at] == pid[at + 1]:
        at += 1
    s = list(pid)
    s[at], s[at + 1] = s[at + 1], s[at]
    return "".join(s)


def substitute_digit(pid, at):
    """One digit typed wrong."""
    return pid[:at] + str((int(pid[at]) + 3) % 10) + pid[at + 1:]


def fullwidth(text):
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in text)


# ---------------------------------------------------------------- DPF registry, 房县 (UTF-8 with BOM)
dpf_header = ["姓名", "性别", "公民身份号码", "残疾人证号", "残疾类别", "残疾等级", "所属区县", "是否建档立卡", "致贫原因", "证件状态", "注销原因", "注销日期"]
CAT = {"视力": 1, "听力": 2, "言语": 3, "肢体": 4, "智力": 5, "精神": 6, "多重": 7}
GRADE = {"一级": 1, "二级": 2, "三级": 3, "四级": 4}


def dpf(key, cat, grade, poor, cause="", status="正常", reason="", date="", name=None, id_text=None):
    p = P[key]
    cert = f"{p['id']}{CAT[cat]}{GRADE[grade]}"
    return [name or p["name"], p["sex"], p["id"] if id_text is None else id_text, cert, cat, grade, "房县", poor, cause, status, reason, date]


fx_rows = [
    (dpf("P01", "肢体", "三级", "是", "因病"), [("MED-01", "poor, no insurance row at all"), ("HLT-01", "poor, no family-doctor contract")]),
    (dpf("P02", "视力", "四级", "是", "因病"), [("MED-01", "poor, insured for 2019 only")]),
    (dpf("P03", "听力", "三级", "是", "因病"), []),
    (dpf("P04", "肢体", "四级", "是", "因病"), [("MED-01", "poor, 2020 enrollment 暂停"), ("HLT-01", "poor, contract ended 2020-03-31")]),
    (dpf("P05", "肢体", "三级", "否", name="張偉"), []),
    (dpf("P06", "肢体", "四级", "是", "因病"), [("MED-02", "poor, enrolled for 2020 with 资助参保类型 empty")]),
    (dpf("P07", "言语", "三级", "否"), [("CIV-01", "member of an active 农村低保 household, no 困难残疾人生活补贴")]),
    (dpf("P08", "肢体", "四级", "否"), []),
    (dpf("P09", "肢体", "三级", "否"), []),
    (dpf("P10", "肢体", "一级", "否"), [("CIV-02", "grade 一级, not 特困, no 护理补贴")]),
    (dpf("P12", "肢体", "一级", "否"), []),
    (dpf("P13", "肢体", "三级", "是", "因残"), [("CIV-03", "poor 因残, no 低保 or 特困")]),
    (dpf("P14", "肢体", "四级", "是", "因残"), []),
    (dpf("P15", "肢体", "三级", "是", "因病"), []),
    (dpf("P16", "精神", "一级", "是", "因病"), [("CIV-04", "poor, grade 一级, 16 on the as-of date, no 低保 or 特困")]),
    (dpf("P17", "智力", "二级", "是", "因病"), []),
    (dpf("P18", "肢体", "四级", "否"), [("EDU-01", "6 on the as-of date, no education row")]),
    (dpf("P19", "智力", "三级", "否"), []),
    (dpf("P20", "肢体", "四级", "否"), [("EDU-01", "12, 学籍状态 辍学")]),
    (dpf("P21", "肢体", "四级", "否"), []),
    (dpf("P22", "肢体", "四级", "否"), []),
    (dpf("P23", "肢体", "四级", "是", "因病"), [("EDU-02", "poor, 在读 in 高中 with 是否享受资助 否")]),
    (dpf("P24", "肢体", "三级", "是", "因病"), []),  # insured: the insurance row's ID has two digits swapped
    (dpf("C2", "肢体", "二级", "否", status="注销", reason="迁出", date="2019/12/1"), []),
    (dpf("D1", "肢体", "一级", "否", status="注销", reason="死亡", date="2020/3/1"), []),
    (dpf("D2", "肢体", "三级", "否"), []),
    (dpf("D3", "肢体", "四级", "否"), []),
    (dpf("G1", "肢体", "三级", "否"), []),
    (dpf("G2", "智力", "三级", "否"), []),
    (dpf("U1", "肢体", "四级", "否"), []),
    (dpf("S1", "肢体", "一级", "否"), []),
    (dpf("S2", "肢体", "四级", "否"), []),
    (dpf("P25", "肢体", "三级", "是", "因病"), [("CIV-05", "poor, no 低保 or 特困, his father of 72 heads the household (老残一体)"), ("HOU-01", "poor, the household's house is D级 (防返贫监测), no 危房改造 record")]),
    (dpf("P26", "肢体", "三级", "是", "因病"), []),
    (dpf("Q1", "肢体", "一级", "是", "因病"), [("PEN-01", "poor, 一级, 38, no pension row")]),
    (dpf("Q2", "视力", "二级", "是", "因病"), [("PEN-02", "poor, 二级, 40, enrolled in 城乡居民养老保险 with 代缴类别 blank")]),
]
# Cosmetic ID damage in the registry: a leading apostrophe and spaces, full-width digits.
fx_rows[7][0][2] = "'" + P["P08"]["id"]
fx_rows[8][0][2] = " " + P["P09"]["id"][:6] + " " + P["P09"]["id"][6:] + "\t"
fx_rows[9][0][2] = fullwidth(P["P10"]["id"])
name = "dpf_registry_fangxian.csv"
with open(os.path.join(HERE, name), "w", encoding="utf-8-sig", newline="") as f:
    w = csv.writer(f)
    w.writerow(dpf_header)
    w.writerows(r for r, _ in fx_rows)
write_rows(name, fx_rows, [e for _, e in fx_rows], 0, 2, 6)

# ---------------------------------------------------------------- DPF registry, 麻城市 (XLSX, other headers)
mc_header = ["序号", "残疾人姓名", "身份证号", "残疾人证号", "残疾类别", "残疾等级", "县(市、区)", "是否建档立卡贫困户", "主要致贫原因", "持证状态", "注销原因", "注销时间"]
p11_15 = P["P11"]["id"][:6] + P["P11"]["id"][8:17]
mc_rows = [
    ([1, "胡建军", p11_15, P["P11"]["id"] + "42", "肢体", "二级", "麻城市", "否", "", "正常", "", ""], []),
    ([2, "朱小红", "", P["M2"]["id"] + "41", "", "", "麻城市", "否", "", "正常", "", ""], [("CIV-02", "certificate-only row: grade 一级 from the certificate number, no 护理补贴")]),
    ([3, "阿依古丽．买买提", P["M3"]["id"], "", "肢体", "四级", "421181", "否", "", "正常", "", ""], []),
    ([4, "王䶮", P["M4"]["id"], "", "听力", "四级", "湖北省黄冈市麻城市", "否", "", "正常", "", ""], []),
    ([5, "李曌明", P["M5"]["id"], "", "肢体", "三级", "麻城市", "是", "因病", "正常", "", ""], []),
    (None, []),
    ([7, "钱进", float(P["M6"]["id"]), P["M6"]["id"] + "44", "肢体", "四级", "麻城市", "否", "", "正常", "", ""], []),
    ([8, "邱云", P["M7"]["id"], "", "肢体", "四级", "", "否", "", "正常", "", ""], []),
]
name = "dpf_registry_macheng.xlsx"
wb = openpyxl.Workbook()
ws = wb.active
ws.title = "持证残疾人"
ws.append(mc_header)
for row, _ in mc_rows:
    ws.append(row if row else [None] * len(mc_header))
wb.save(os.path.join(HERE, name))
write_rows(name, mc_rows, [e for _, e in mc_rows], 1, 2, 6)

# ---------------------------------------------------------------- civil affairs, mixed programs (GBK)
civ_header = ["救助对象姓名", "身份证号码", "行政区划代码", "救助类别", "户主身份证号", "与户主关系", "审批日期", "终止日期", "状态", "停发原因", "月发放金额"]


def civ(key, program, status="在保", start="20180301", end="", reason="", code="420325", head=None, relation="本人", amount="300"):
    p = P[key]
    return [p["name"], p["id"], code, program, P[head]["id"] if head else p["id"], relation, start, end, status, reason, amount]


civ_rows = [
    (civ("H1", "农村低保", "正常"), []),
    (civ("P07", "农村低保", "正常", head="H1", relation="女儿"), []),
    (civ("P08", "城市低保", start="2018年3月1日"), []),
    (civ("P08", "困难残疾人生活补贴", end="2020-06-30"), []),
    (civ("P09", "农村低保", "终止", end="2020-05-31", reason="收入超标"), []),
    (civ("P12", "特困供养"), []),
    (civ("P14", "农村低保", "正常"), []),
    (civ("P14", "困难残疾人生活补贴", "正常"), []),
    (civ("P16", "重度残疾人护理补贴"), []),
    (civ("P17", "重度残疾人护理补贴", start="43101"), []),
    (civ("C2", "困难残疾人生活补贴"), [("AUD-01", "困难残疾人生活补贴 while the certificate is 注销 (迁出)")]),
    (civ("D1", "重度残疾人护理补贴"), [("AUD-01", "护理补贴 while the certificate is 注销 (死亡)"), ("AUD-02", "paid after death (DPF 注销 死亡 2020-03-01)")]),
    (civ("D2", "农村低保", "正常"), [("AUD-02", "paid after death (insurance 终止 死亡 2020-01-15)")]),
    (civ("D3", "农村低保", "正常"), []),
    (civ("D3", "困难残疾人生活补贴", "正常"), []),
    (civ("G1", "重度残疾人护理补贴"), [("AUD-04", "护理补贴 for grade 三级 肢体")]),
    (civ("G2", "重度残疾人护理补贴"), []),
    (civ("U1", "困难残疾人生活补贴"), [("AUD-05", "a second active 困难残疾人生活补贴 in 麻城市")]),
    (civ("S1", "特困供养"), []),
    (civ("S1", "重度残疾人护理补贴"), [("AUD-06", "护理补贴 while in active 特困供养")]),
    (civ("S2", "特困供养"), []),
    (civ("S2", "困难残疾人生活补贴", "停发", end="2019-12-31", reason="纳入特困"), []),
    (civ("T1", "特困供养"), [("AUD-03", "特困供养 while in active 城市低保")]),
    (civ("T1", "城市低保"), []),
    (civ("T2", "特困供养"), []),
    (civ("T2", "农村低保", "终止", end="2019-12-31", reason="纳入特困"), []),
    (civ("C1", "重度残疾人护理补贴", code="421126"), [("AUD-01", "护理补贴 with no DPF row at all")]),
    (civ("L1", "困难残疾人生活补贴", "停发", code="421126", end="2020-01-31", reason="其他"), []),
    (civ("U2", "农村低保", "正常", code="421126"), []),
    (civ("U2", "农村低保", "终止", code="421126", start="20150101", end="2018-12-31", reason="其他"), []),
    (civ("P11", "重度残疾人护理补贴", code="421181"), []),
    (civ("R1", "临时救助"), []),
    (civ("Y1", "临时救助", code="420321"), []),
    (civ("K1", "重度残疾人护理补贴", code="421126", start="2020-07-01"), []),
    (civ("M3", "临时救助", code="421181"), []),
    (civ("M4", "临时救助", code="421181"), []),
    (civ("E4", "农村低保", "正常", head="H1", relation="孙女"), [("EDU-03", "10, on the family's 低保 with her certified mother 孙丽, no education row")]),
    (civ("E5", "农村低保", "正常", head="H1", relation="孙子"), []),
    (civ("E6", "农村低保", "正常", head="P14", relation="儿子"), []),
    (civ("H2", "临时救助"), []),
    (civ("P25", "临时救助", head="H2", relation="儿子"), []),
    (civ("H3", "临时救助"), []),
    (civ("P26", "临时救助", head="H3", relation="女儿"), []),
    (civ("Q1", "农村低保", "正常"), []),
    (civ("Q1", "困难残疾人生活补贴"), []),
    (civ("Q1", "重度残疾人护理补贴"), []),
    (civ("Q2", "农村低保", "正常"), []),
    (civ("Q2", "困难残疾人生活补贴"), []),
    (civ("Q2", "重度残疾人护理补贴"), []),
]
civ_rows[31][0][1] = "4.20325E+17"  # Excel scientific notation: the ID is gone
civ_rows[34][0][0] = "阿依古丽买买提"  # the middle dot dropped
civ_rows[35][0][0] = "王yan"  # 䶮 is not in GBK: the clerk typed its pinyin
name = "civil_affairs_2020.csv"
buf = io.StringIO()
w = csv.writer(buf, lineterminator="\r\n")
w.writerow(civ_header)
w.writerows(r for r, _ in civ_rows)
with open(os.path.join(HERE, name), "wb") as f:
    f.write(buf.getvalue().encode("gbk"))
write_rows(name, civ_rows, [e for _, e in civ_rows], 0, 1, 2)

# ---------------------------------------------------------------- civil affairs, 两项补贴 (XLSX with date cells)
two_header = ["补贴对象姓名", "身份证号", "区县", "补贴类别", "起始日期", "终止日期", "发放状态", "停发原因"]
two_rows = [
    ([P["U1"]["name"], P["U1"]["id"], "麻城市", "困难残疾人生活补贴", dt.date(2019, 1, 1), None, "在保", ""], [("AUD-05", "a second active 困难残疾人生活补贴 in 房县")]),
    ([P["M6"]["name"], P["M6"]["id"], "麻城市", "困难残疾人生活补贴", dt.date(2019, 5, 1), None, "正常", ""], []),
    ([P["M5"]["name"], P["M5"]["id"], "麻城市", "重度残疾人护理补贴", dt.date(2019, 1, 1), dt.date(2019, 12, 31), "停发", "其他"], []),
]
name = "civil_two_subsidies_macheng.xlsx"
wb = openpyxl.Workbook()
ws = wb.active
ws.title = "两项补贴"
ws.append(two_header)
for row, _ in two_rows:
    ws.append(row)
wb.save(os.path.join(HERE, name))
write_rows(name, two_rows, [e for _, e in two_rows], 0, 1, 2)

# ---------------------------------------------------------------- insurance (UTF-8, no BOM)
ins_header = ["姓名", "证件号码", "参保年度", "险种", "参保状态", "终止原因", "终止日期", "资助参保类型", "参保地"]


def ins(key, year="2020", status="正常参保", subsidy="建档立卡", reason="", end="", kind="城乡居民基本医疗保险", name=None, id_text=None):
    p = P[key]
    return [name or p["name"], id_text or p["id"], year, kind, status, reason, end, subsidy, "房县"]


ins_rows = [
    (ins("P02", year="2019", subsidy="低保定额"), []),
    (ins("P03", subsidy="特困全额", name="王小明", id_text="'" + P["P03"]["id"].lower()), []),
    (ins("P04", status="暂停"), []),
    (ins("P06", subsidy=""), []),
    (ins("P13"), []),
    (ins("P14"), []),
    (ins("P15", kind="职工基本医疗保险", subsidy="建档立卡"), []),
    (ins("P16"), []),
    (ins("P17"), []),
    (ins("P23"), []),
    (ins("P24", id_text=swap_adjacent(P["P24"]["id"], 12)), []),
    (ins("D2", status="终止", reason="死亡", end="2020-01-15"), []),
    (ins("D3", status="终止", reason="死亡", end="2020-08-01"), []),
    (ins("I1", subsidy="") + ["多出的一列"], []),
    (ins("P05", name="张 伟", id_text=substitute_digit(P["P05"]["id"], 15)), []),
    (ins("P25"), []),
    (ins("P26"), []),
    (ins("Q1"), []),
    (ins("Q2"), []),
]
name = "insurance_2019_2020.csv"
with open(os.path.join(HERE, name), "w", encoding="utf-8", newline="") as f:
    w = csv.writer(f)
    w.writerow(ins_header)
    w.writerows(r for r, _ in ins_rows)
write_rows(name, ins_rows, [e for _, e in ins_rows], 0, 1, 8)

# ---------------------------------------------------------------- insurance, 麻城市 (GB18030, a rare character and a `?`)
mci_rows = [
    (["王䶮", P["M4"]["id"], "2020年", "城乡居民基本医疗保险", "正常参保", "", "", "", "421181"], []),
    (["李?明", P["M5"]["id"], "2020", "城乡居民基本医疗保险", "正常参保", "", "", "建档立卡", "421181"], []),
    (["胡建军", P["P11"]["id"], "2020", "城乡居民基本医疗保险", "正常参保", "", "", "", "421181"], []),
]
name = "insurance_macheng_gb18030.csv"
buf = io.StringIO()
w = csv.writer(buf, lineterminator="\r\n")
w.writerow(["参保人姓名", "公民身份号码", "参保年份", "险种类型", "参保状态", "终止原因", "终止时间", "资助类别", "参保地代码"])
w.writerows(r for r, _ in mci_rows)
with open(os.path.join(HERE, name), "wb") as f:
    f.write(buf.getvalue().encode("gb18030"))
write_rows(name, mci_rows, [e for _, e in mci_rows], 0, 1, 8)

# ---------------------------------------------------------------- education (XLS, old Excel format)
edu_header = ["学生姓名", "身份证件号", "全国学籍号", "学校名称", "学段", "年级", "就读方式", "学籍当前状态", "是否享受资助", "所在区县"]


def edu(key, stage, grade, mode, status, aided, id_text=None, student=None, name=None):
    p = P[key]
    return [name or p["name"], p["id"] if id_text is None else id_text, student or "G" + p["id"], "房县第一小学", stage, grade, mode, status, aided, "房县"]


edu_rows = [
    (edu("P17", "初中", "九年级", "随班就读", "在读", "是"), []),
    (edu("P19", "小学", "四年级", "送教上门", "在读", "否"), []),
    (edu("P20", "初中", "七年级", "随班就读", "辍学", "否"), []),
    (edu("P22", "小学", "二年级", "特教学校", "在读", "否", id_text=""), []),
    (edu("P23", "高中", "高二", "随班就读", "在读", "否"), []),
    (edu("E3", "小学", "四年级", "随班就读", "在读", "否", id_text="", student="J" + P["E3"]["id"]), []),
    (edu("E1", "小学", "二年级", "随班就读", "在读", "是", id_text=P["P13"]["id"], student="L2012"), []),
    (edu("E2", "小学", "五年级", "随班就读", "在读", "否", id_text=float(P["E2"]["id"])), []),
    (edu("E5", "小学", "四年级", "随班就读", "在读", "是"), []),
]
name = "education_xueji.xls"
book = xlwt.Workbook(encoding="utf-8")
sheet = book.add_sheet("学籍")
for c, h in enumerate(edu_header):
    sheet.write(0, c, h)
for r, (row, _) in enumerate(edu_rows, start=1):
    for c, v in enumerate(row):
        sheet.write(r, c, v)
book.save(os.path.join(HERE, name))
write_rows(name, edu_rows, [e for _, e in edu_rows], 0, 1, 9)

# ---------------------------------------------------------------- 防返贫监测 (乡村振兴), 房县 (UTF-8 with BOM)
pov_header = ["县（市、区）", "乡镇", "村", "户编号", "姓名", "证件号码", "与户主关系", "户主证件号码", "户类型", "健康状况", "住房安全等级", "人员状态"]


def pov(key, head, relation, kind, health, house, household):
    p = P[key]
    return ["房县", "城关镇", "西关村", household, p["name"], p["id"], relation, P[head]["id"], kind, health, house, "正常"]


pov_rows = [
    (pov("H2", "H2", "户主", "脱贫户", "长期慢性病", "D级", "4203250010010001"), []),
    (pov("P25", "H2", "之子", "脱贫户", "残疾", "D级", "4203250010010001"), []),
    (pov("H3", "H3", "户主", "脱贫户", "健康", "C级", "4203250010010002"), []),
    (pov("P26", "H3", "之女", "脱贫户", "残疾", "C级", "4203250010010002"), []),
    (pov("P14", "P14", "户主", "脱贫户", "残疾", "B级", "4203250010010003"), []),
    (pov("Q3", "Q3", "户主", "监测户", "残疾", "A级", "4203250010010004"), [("DPF-01", "监测户, 健康状况 残疾, no certificate")]),
    (pov("Q4", "Q4", "户主", "一般农户", "残疾", "A级", "4203250010010005"), []),
]
name = "poverty_monitoring_fangxian.csv"
with open(os.path.join(HERE, name), "w", encoding="utf-8-sig", newline="") as f:
    w = csv.writer(f)
    w.writerow(pov_header)
    w.writerows(r for r, _ in pov_rows)
write_rows(name, pov_rows, [e for _, e in pov_rows], 4, 5, 0)

# ---------------------------------------------------------------- 农村危房改造 (住建), XLSX: the household under its head
hou_header = ["序号", "县（市、区）", "乡镇", "户主姓名", "户主身份证号码", "家庭人口", "农户类型", "危房等级", "改造方式", "改造年度", "竣工日期", "验收状态", "补助资金（元）"]
hou_rows = [
    ([1, "房县", "城关镇", P["H3"]["name"], P["H3"]["id"], 2, "贫困残疾人家庭", "C级", "修缮加固", 2019, dt.date(2019, 10, 15), "已竣工验收", 20000], []),
    ([2, "房县", "城关镇", P["T2"]["name"], P["T2"]["id"], 1, "分散供养特困人员", "D级", "原址翻建", 2019, dt.date(2019, 11, 30), "已竣工验收", 35000], []),
]
name = "housing_renovation_fangxian.xlsx"
wb = openpyxl.Workbook()
ws = wb.active
ws.title = "农村危房改造"
ws.append(hou_header)
for row, _ in hou_rows:
    ws.append(row)
    ws.cell(ws.max_row, 11).number_format = "yyyy-mm-dd"
wb.save(os.path.join(HERE, name))
write_rows(name, hou_rows, [e for _, e in hou_rows], 3, 4, 1)

# ---------------------------------------------------------------- 城乡居民养老保险 (人社), GBK
pen_header = ["姓名", "公民身份号码", "险种类型", "参保状态", "缴费档次", "代缴类别", "待遇领取状态", "行政区划"]
pen_rows = [
    ([P["P16"]["name"], P["P16"]["id"], "城乡居民基本养老保险", "正常参保", "100元", "重度残疾人", "未领取", "房县"], []),
    ([P["Q2"]["name"], P["Q2"]["id"], "城乡居民基本养老保险", "正常参保", "100元", "", "未领取", "房县"], []),
    ([P["P03"]["name"], P["P03"]["id"], "城乡居民基本养老保险", "正常参保", "100元", "建档立卡贫困人口", "未领取", "房县"], []),
    ([P["H2"]["name"], P["H2"]["id"], "城乡居民基本养老保险", "正常参保", "", "", "正常领取", "房县"], []),
]
name = "pension_residents_fangxian.csv"
buf = io.StringIO()
w = csv.writer(buf, lineterminator="\r\n")
w.writerow(pen_header)
w.writerows(r for r, _ in pen_rows)
with open(os.path.join(HERE, name), "wb") as f:
    f.write(buf.getvalue().encode("gbk"))
write_rows(name, pen_rows, [e for _, e in pen_rows], 0, 1, 7)

# ---------------------------------------------------------------- 家庭医生签约 (卫健), XLSX with date cells
hlt_header = ["序号", "姓名", "性别", "身份证号", "签约机构", "签约团队", "服务包", "签约日期", "到期日期", "签约状态", "重点人群"]


def hlt(n, key, start=dt.date(2019, 7, 1), end=dt.date(2020, 6, 30), status="已签约", id_text=None):
    p = P[key]
    return [n, p["name"], p["sex"], id_text or p["id"], "房县城关镇卫生院", "第一家庭医生团队", "基础服务包", start, end, status, "残疾人;脱贫人口"]


signed = ["P02", "P03", "P06", "P13", "P14", "P15", "P16", "P17", "P23", "P24", "P25", "P26", "M5", "Q1", "Q2"]
hlt_rows = [(hlt(n, key, end=dt.date(2021, 6, 30)), []) for n, key in enumerate(signed, start=1)]
hlt_rows[2] = (hlt(3, "P06"), [])  # in force to the as-of date itself
hlt_rows[1] = (hlt(2, "P03", id_text=P["P03"]["id"].lower()), [])
hlt_rows.append((hlt(len(hlt_rows) + 1, "P04", start=dt.date(2019, 4, 1), end=dt.date(2020, 3, 31)), []))
name = "health_family_doctor_fangxian.xlsx"
wb = openpyxl.Workbook()
ws = wb.active
ws.title = "家庭医生签约"
ws.append(hlt_header)
for row, _ in hlt_rows:
    ws.append(row)
    for column in (8, 9):
        ws.cell(ws.max_row, column).number_format = "yyyy-mm-dd"
wb.save(os.path.join(HERE, name))
write_rows(name, hlt_rows, [e for _, e in hlt_rows], 1, 3, 4)

TRUTH = os.path.join(HERE, "..", "tests", "fixtures", "sample_truth")
os.makedirs(TRUTH, exist_ok=True)
with open(os.path.join(TRUTH, "expected_gaps.csv"), "w", encoding="utf-8", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["rule_id", "county_code", "source_file", "source_row", "person_key", "why"])
    w.writerows(sorted(EXPECTED))
with open(os.path.join(TRUTH, "records.csv"), "w", encoding="utf-8", newline="") as f:
    w = csv.writer(f)
    w.writerow(["source_file", "source_row", "person_key", "noise"])
    w.writerows(sorted(RECORDS))
with open(os.path.join(TRUTH, "persons.csv"), "w", encoding="utf-8", newline="") as f:
    w = csv.writer(f)
    w.writerow(["person_key", "name", "id_number", "sex"])
    w.writerows((k, p["name"], p["id"], p["sex"]) for k, p in sorted(P.items()))
print(f"{len(EXPECTED)} expected gaps, {len(RECORDS)} records")
