//! `report.html`: the morning page, drawn from `MorningData` as one self-contained file (inline
//! CSS and SVG, no script, no font or image from anywhere), Chinese first, readable printed.
//! For one county (`recon report OUT --county CODE`) the same page is drawn from that
//! county's numbers, with its place in the province's ranking.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::morning::{rate, supervision_ranking, suppressed, MorningData, Ranked, RuleCell};

/// How many counties a bar chart shows; the table below it lists them all.
const BARS_SHOWN: usize = 30;

const STYLE: &str = "body{font-family:'Noto Sans CJK SC','Source Han Sans SC','Microsoft YaHei','PingFang SC',sans-serif;margin:24px auto;max-width:1040px;color:#1f2933;line-height:1.5}
h1{font-size:24px;margin:0}h2{font-size:19px;border-bottom:2px solid #1f6feb;padding-bottom:4px;margin-top:32px}h3{font-size:15px;margin:18px 0 6px}
.sub{color:#52606d;font-size:13px}.en{color:#7b8794;font-size:12px;font-weight:normal}
table{border-collapse:collapse;font-size:13px;margin:6px 0}td,th{border:1px solid #cbd2d9;padding:3px 8px;text-align:right}th{background:#f0f4f8}td.l,th.l{text-align:left}
.kpi{display:flex;gap:12px;flex-wrap:wrap}.kpi div{border:1px solid #cbd2d9;border-radius:6px;padding:8px 14px;min-width:140px}.kpi b{display:block;font-size:22px}
.bad{background:#fde2e1}.warn{background:#fff3c4}.ok{background:#e3f9e5}
svg text{font-size:11px;fill:#1f2933}section{break-inside:avoid}
@media print{body{margin:0;max-width:none}h2{break-after:avoid}section,svg,table{break-inside:avoid}}";

/// The page for the province, or for one county when `county` is given.
pub fn render(data: &MorningData, county: Option<&str>) -> String {
    let ranking = supervision_ranking(data);
    let scoped = county.map_or_else(|| data.clone(), |c| only_county(data, c));
    let title = match county {
        Some(code) => format!("{} 残疾人困难群体数据比对晨报", county_name(data, code)),
        None => "残疾人困难群体数据比对晨报".to_string(),
    };
    let mut page = format!(
        "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>{title} {as_of}</title><style>{STYLE}</style></head><body>\
         <h1>{title}</h1><p class=\"sub\">截至 {as_of} · recon {version} · 本页只含统计数字，不含任何姓名或身份证号 <span class=\"en\">Morning report: aggregates only</span></p>",
        title = escape(&title),
        as_of = data.as_of,
        version = data.recon_version
    );
    page += &input_checks(&scoped);
    page += &overview(&scoped);
    page += &supervision(data, &ranking, county);
    page += &coverage(&scoped);
    page += &audit(&scoped);
    page += &ledger(&scoped);
    page += &quality(&scoped, data, county);
    page += &notes(data);
    page += "</body></html>\n";
    page
}

fn only_county(data: &MorningData, county: &str) -> MorningData {
    let mut scoped = data.clone();
    scoped.counties.retain(|code, _| code == county);
    scoped.cells.retain(|c| c.county_code == county);
    scoped
        .not_checked
        .retain(|n| n.county_code.as_deref().is_none_or(|c| c == county));
    scoped.quality.retain(|q| q.county_code == county);
    if let Some(ledger) = &mut scoped.ledger {
        ledger.open_ages.retain(|(c, _)| c == county);
        ledger.trend.clear();
    }
    scoped
}

fn county_name(data: &MorningData, code: &str) -> String {
    data.counties
        .get(code)
        .map_or_else(|| format!("未知区县 {code}"), |n| format!("{n}（{code}）"))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn percent(value: Option<f64>) -> String {
    value.map_or("—".into(), |v| format!("{:.1}%", v * 100.0))
}

/// A rate unless its base is too small to publish.
fn shown_rate(data: &MorningData, base: u64, gaps: u64) -> Option<f64> {
    let below = data.settings.suppress_below;
    rate(base, gaps).filter(|_| below == 0 || base >= below)
}

fn totals(data: &MorningData, rule_id: &str) -> (u64, u64) {
    data.cells
        .iter()
        .filter(|c| c.rule_id == rule_id)
        .fold((0, 0), |(b, g), c| (b + c.base, g + c.gaps))
}

/// What may make tonight's lists wrong, first: rules not run, fields a rule cannot see, values
/// no vocabulary knows, inputs missing, and the rules and counties not checked.
fn input_checks(data: &MorningData) -> String {
    if data.warnings.is_empty() && data.not_checked.is_empty() {
        return String::new();
    }
    let mut text = format!(
        "<section class=\"warn\"><h2>输入检查：{}项警告 <span class=\"en\">Input warnings: the lists may be wrong where these apply</span></h2>",
        data.warnings.len()
    );
    if !data.not_checked.is_empty() {
        text += "<h3>今晚未核查 <span class=\"en\">not checked tonight: no item opened or closed (销号)</span></h3><table><tr><th class=\"l\">规则</th><th class=\"l\">区县</th><th class=\"l\">原因</th></tr>";
        for n in &data.not_checked {
            let county = n
                .county_code
                .as_deref()
                .map_or("全部区县".to_string(), |c| county_name(data, c));
            let _ = write!(
                text,
                "<tr><td class=\"l\">{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td></tr>",
                escape(&n.rule_id),
                escape(&county),
                escape(&n.reason)
            );
        }
        text += "</table>";
    }
    if !data.warnings.is_empty() {
        text += "<ul>";
        for warning in &data.warnings {
            let _ = write!(text, "<li>{}</li>", escape(warning));
        }
        text += "</ul>";
    }
    text + "</section>"
}

fn overview(data: &MorningData) -> String {
    let count = |coverage: bool| -> u64 {
        data.rules
            .iter()
            .filter(|r| r.is_coverage == coverage)
            .map(|r| totals(data, &r.id).1)
            .sum()
    };
    let below = data.settings.suppress_below;
    let tonight = data.ledger.as_ref().and_then(|l| l.trend.last());
    let changes = tonight.map_or(String::new(), |n| {
        let (opened, closed) = (suppressed(n.opened, below), suppressed(n.closed, below));
        format!("<div>今日新增<b>{opened}</b></div><div>今日销号<b>{closed}</b></div>")
    });
    let mut text = format!(
        "<section><h2>概况 <span class=\"en\">Overview</span></h2><div class=\"kpi\"><div>漏保（应保未保）<b>{}</b></div><div>违规享受疑点<b>{}</b></div><div>比对区县<b>{}</b></div>{changes}</div>",
        suppressed(count(true), below),
        suppressed(count(false), below),
        data.counties.len()
    );
    let bars: Vec<Bar> = data
        .rules
        .iter()
        .filter(|r| r.is_coverage)
        .map(|r| {
            let (base, gaps) = totals(data, &r.id);
            Bar::rate(
                r.measure.clone(),
                shown_rate(data, base, gaps),
                format!("{}/{}", suppressed(gaps, below), suppressed(base, below)),
            )
        })
        .collect();
    text += "<h3>各项保障覆盖率 <span class=\"en\">coverage by rule (gaps/subjects)</span></h3>";
    text += &bar_chart(&bars, 300);
    text + LEGEND + "</section>"
}

fn supervision(data: &MorningData, ranking: &[Ranked], county: Option<&str>) -> String {
    let mut text =
        "<section><h2>重点督办区县（挂牌督战）<span class=\"en\">Counties to supervise</span></h2>"
            .to_string();
    let rows: Vec<(usize, &Ranked)> = match county {
        Some(code) => ranking
            .iter()
            .enumerate()
            .filter(|(_, r)| r.county_code == code)
            .collect(),
        None => ranking
            .iter()
            .enumerate()
            .take(data.settings.supervise_top)
            .collect(),
    };
    if rows.is_empty() {
        return text + "<p>没有需要督办的区县：无漏保和违规疑点。</p></section>";
    }
    text += &format!(
        "<p class=\"sub\">按督办分数排序（共{}个区县有问题），分数的算法见页末。</p>",
        ranking.len()
    );
    text += "<table><tr><th>排名</th><th class=\"l\">区县</th><th>分数</th><th class=\"l\">主要原因</th></tr>";
    for (index, ranked) in rows {
        let _ = write!(
            text,
            "<tr><td>{}</td><td class=\"l\">{}</td><td>{:.1}</td><td class=\"l\">{}</td></tr>",
            index + 1,
            escape(&county_name(data, &ranked.county_code)),
            ranked.score,
            escape(&ranked.reasons.join("；"))
        );
    }
    text + "</table></section>"
}

fn coverage(data: &MorningData) -> String {
    let mut text = "<section><h2>分县覆盖率 <span class=\"en\">Coverage rate by county</span></h2>"
        .to_string();
    for rule in data.rules.iter().filter(|r| r.is_coverage) {
        let mut cells: Vec<&RuleCell> = data
            .cells
            .iter()
            .filter(|c| c.rule_id == rule.id && c.base > 0 && !c.not_checked)
            .collect();
        if cells.is_empty() {
            continue;
        }
        cells.sort_by(|a, b| {
            rate(a.base, a.gaps)
                .unwrap_or(1.0)
                .total_cmp(&rate(b.base, b.gaps).unwrap_or(1.0))
                .then(a.county_code.cmp(&b.county_code))
        });
        let bars: Vec<Bar> = cells
            .iter()
            .take(BARS_SHOWN)
            .map(|c| {
                Bar::rate(
                    county_name(data, &c.county_code),
                    shown_rate(data, c.base, c.gaps),
                    gap_text(data, c),
                )
            })
            .collect();
        let _ = write!(
            text,
            "<h3>{}（{} {}，由低到高{}）</h3>",
            escape(&rule.measure),
            rule.id,
            escape(&rule.name),
            shown_note(cells.len())
        );
        text += &bar_chart(&bars, 180);
    }
    text + &rate_table(data) + "</section>"
}

fn shown_note(total: usize) -> String {
    match total > BARS_SHOWN {
        true => format!("，前{BARS_SHOWN}个，全部{total}个见下表"),
        false => String::new(),
    }
}

fn gap_text(data: &MorningData, cell: &RuleCell) -> String {
    let below = data.settings.suppress_below;
    let excepted = match cell.exceptions {
        0 => String::new(),
        n => format!("（另{}条核实为例外）", suppressed(n, below)),
    };
    format!(
        "{}/{}{excepted}",
        suppressed(cell.gaps, below),
        suppressed(cell.base, below)
    )
}

/// Every county x coverage rule, coloured by rate: legible with any number of counties.
fn rate_table(data: &MorningData) -> String {
    let rules: Vec<&str> = data
        .rules
        .iter()
        .filter(|r| r.is_coverage)
        .map(|r| r.id.as_str())
        .collect();
    let mut text = "<h3>全部区县覆盖率 <span class=\"en\">all counties</span></h3><table><tr><th class=\"l\">区县</th>".to_string();
    for rule in &rules {
        let _ = write!(text, "<th>{rule}</th>");
    }
    text += "</tr>";
    for code in data.counties.keys() {
        let _ = write!(
            text,
            "<tr><td class=\"l\">{}</td>",
            escape(&county_name(data, code))
        );
        for rule in &rules {
            let cell = data
                .cells
                .iter()
                .find(|c| c.rule_id == *rule && &c.county_code == code);
            if cell.is_some_and(|c| c.not_checked) {
                text += "<td class=\"warn\">未核查</td>";
                continue;
            }
            let shown = cell.and_then(|c| shown_rate(data, c.base, c.gaps));
            let class = shown.map_or("", rate_class);
            let _ = write!(text, "<td class=\"{class}\">{}</td>", percent(shown));
        }
        text += "</tr>";
    }
    text + "</table>"
}

fn audit(data: &MorningData) -> String {
    let mut text = "<section><h2>违规享受疑点 <span class=\"en\">Improper payments, per thousand active payment records</span></h2>".to_string();
    let below = data.settings.suppress_below;
    for rule in data.rules.iter().filter(|r| !r.is_coverage) {
        let mut cells: Vec<&RuleCell> = data
            .cells
            .iter()
            .filter(|c| c.rule_id == rule.id && c.gaps > 0)
            .collect();
        let (base, gaps) = totals(data, &rule.id);
        let _ = write!(
            text,
            "<h3>{} {}：{}条（每千条在发记录{}）</h3>",
            rule.id,
            escape(&rule.name),
            suppressed(gaps, below),
            per_thousand(base, gaps)
        );
        cells.sort_by(|a, b| {
            per_mille(b)
                .total_cmp(&per_mille(a))
                .then(a.county_code.cmp(&b.county_code))
        });
        let top = cells.iter().map(|c| per_mille(c)).fold(0.0, f64::max);
        let bars: Vec<Bar> = cells
            .iter()
            .take(BARS_SHOWN)
            .map(|c| Bar {
                label: county_name(data, &c.county_code),
                share: per_mille(c) / top.max(1e-9),
                text: format!(
                    "{}‰（{}条）",
                    per_thousand(c.base, c.gaps),
                    suppressed(c.gaps, below)
                ),
                class: "bad",
            })
            .collect();
        text += &bar_chart(&bars, 180);
    }
    text + "</section>"
}

fn per_mille(cell: &RuleCell) -> f64 {
    match cell.base {
        0 => 0.0,
        base => cell.gaps as f64 * 1000.0 / base as f64,
    }
}

fn per_thousand(base: u64, gaps: u64) -> String {
    match base {
        0 => "—".into(),
        base => format!("{:.1}", gaps as f64 * 1000.0 / base as f64),
    }
}

fn ledger(data: &MorningData) -> String {
    let Some(ledger) = &data.ledger else {
        return "<section><h2>台账 <span class=\"en\">Ledger</span></h2><p>本次运行未使用台账（--ledger），没有逐日变化和销号情况。</p></section>".into();
    };
    let mut text = "<section><h2>台账变化 <span class=\"en\">Ledger: open items by night, new and closed</span></h2>".to_string();
    if ledger.trend.len() > 1 {
        text += &trend_chart(&ledger.trend);
    }
    let buckets = [
        (0, 7, "0–7天"),
        (8, 30, "8–30天"),
        (31, 90, "31–90天"),
        (91, 180, "91–180天"),
        (181, i64::MAX, "180天以上"),
    ];
    let counts: Vec<u64> = buckets
        .iter()
        .map(|(lo, hi, _)| {
            ledger
                .open_ages
                .iter()
                .filter(|(_, d)| d >= lo && d <= hi)
                .count() as u64
        })
        .collect();
    let top = counts.iter().copied().max().unwrap_or(0).max(1);
    let bars: Vec<Bar> = buckets
        .iter()
        .zip(&counts)
        .map(|((_, _, label), n)| Bar {
            label: label.to_string(),
            share: *n as f64 / top as f64,
            text: suppressed(*n, data.settings.suppress_below),
            class: "warn",
        })
        .collect();
    let _ = write!(
        text,
        "<h3>未销号事项的时长（共{}项）</h3>",
        suppressed(ledger.open_ages.len() as u64, data.settings.suppress_below)
    );
    if let Some((from, to, path)) = &ledger.last_period {
        let _ = write!(
            text,
            "<p>最近一期台账进展报告：{from}至{to}（<a href=\"file://{}\">{}</a>）</p>",
            escape(path),
            escape(path)
        );
    }
    text + &bar_chart(&bars, 120) + "</section>"
}

/// The rows read and rejected per source: on a county page those of the county's own files,
/// then those of files of several counties (which cannot be placed), named as such.
fn rejects_shown(data: &MorningData, county: Option<&str>) -> Vec<(String, u64, u64)> {
    let mut shown: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for r in &data.rejects {
        let source = match county {
            None => r.source.clone(),
            Some(code) if r.county_code == code => r.source.clone(),
            Some(_) if r.county_code.is_empty() => format!("{}（多区县文件，全省）", r.source),
            Some(_) => continue,
        };
        let entry = shown.entry(source).or_default();
        (entry.0, entry.1) = (entry.0 + r.rows_read, entry.1 + r.rejected);
    }
    shown
        .into_iter()
        .map(|(s, (read, rejected))| (s, read, rejected))
        .collect()
}

/// Rows whose ID cannot link, for the sources and counties that have any (folded), the rows
/// not used, and the links waiting for a person: the county's own beside the province's
/// average on a county page.
fn quality(data: &MorningData, province: &MorningData, county: Option<&str>) -> String {
    let flawed: Vec<_> = data
        .quality
        .iter()
        .filter(|q| q.id_damaged + q.id_invalid + q.id_missing > 0)
        .collect();
    let mut text = format!(
        "<section><h2>数据质量 <span class=\"en\">Data quality: rows whose ID cannot link, by source and county</span></h2><details><summary>{} 个来源×区县中有 {} 个存在身份证号问题（点击展开）</summary><table><tr><th class=\"l\">来源</th><th class=\"l\">区县</th><th>行数</th><th>身份证号被Excel损坏</th><th>身份证号无效</th><th>身份证号缺失</th><th>不可用合计</th></tr>",
        data.quality.len(),
        flawed.len()
    );
    let below = data.settings.suppress_below;
    for q in flawed {
        let bad = q.id_damaged + q.id_invalid + q.id_missing;
        let share = match q.rows {
            0 => 0.0,
            rows => bad as f64 / rows as f64,
        };
        let class = if share > 0.05 {
            "bad"
        } else if share > 0.01 {
            "warn"
        } else {
            ""
        };
        let _ = write!(
            text,
            "<tr><td class=\"l\">{}</td><td class=\"l\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"{class}\">{:.1}%</td></tr>",
            escape(&q.source),
            escape(&county_name(data, &q.county_code)),
            suppressed(q.rows, below),
            suppressed(q.id_damaged, below),
            suppressed(q.id_invalid, below),
            suppressed(q.id_missing, below),
            share * 100.0
        );
    }
    text += "</table></details><h3>无法使用的行（rejects.csv）</h3><table><tr><th class=\"l\">来源</th><th>读取行数</th><th>拒收行数</th></tr>";
    for (source, rows_read, rejected) in rejects_shown(data, county) {
        let _ = write!(
            text,
            "<tr><td class=\"l\">{}</td><td>{rows_read}</td><td>{}</td></tr>",
            escape(&source),
            suppressed(rejected, below)
        );
    }
    let review = match county {
        Some(code) => {
            let own = province.review_by_county.get(code).copied().unwrap_or(0);
            let average = province.review_links as f64 / province.counties.len().max(1) as f64;
            format!("本区县 {own} 条（全省各区县平均 {average:.1} 条）")
        }
        None => format!("{} 条", data.review_links),
    };
    let _ = write!(
        text,
        "</table><p>待人工确认的关联（review.csv）：{review}。</p></section>"
    );
    text
}

fn notes(data: &MorningData) -> String {
    let s = &data.settings;
    let suppression = match s.suppress_below {
        0 => "未启用小数字隐藏。".to_string(),
        n => format!("1至{}的数字显示为“&lt;{n}”，其比例显示为“—”。", n - 1),
    };
    format!(
        "<section><h2>说明 <span class=\"en\">Notes</span></h2><p class=\"sub\">覆盖率 = 1 − 漏保人数 ÷ 应保对象人数，按区县计算，大县不因人多而吃亏。违规疑点按每千条在发记录计。\
         督办分数 = {} × Σ各项漏保人数 ×（1 − 覆盖率）+ {} × 违规疑点条数 + {} × 最久未销号天数（权重在配置文件 [report] 中设置）。{suppression}</p></section>",
        s.weight_uncovered, s.weight_findings, s.weight_days_open
    )
}

/// What the colours of rates and bars mean.
const LEGEND: &str = "<p class=\"sub\">颜色：<span class=\"ok\">绿色 ≥98%</span>，<span class=\"warn\">黄色 90%–98%</span>，<span class=\"bad\">红色 &lt;90%</span>；括号内为疑点数/对象数；“—”为对象过少不公布。</p>";

/// Below 90% is bad, below 98% a warning.
fn rate_class(rate: f64) -> &'static str {
    match rate {
        r if r < 0.9 => "bad",
        r if r < 0.98 => "warn",
        _ => "ok",
    }
}

/// One bar: a label, a length from 0 to 1, the text after it, and its colour class.
struct Bar {
    label: String,
    share: f64,
    text: String,
    class: &'static str,
}

impl Bar {
    fn rate(label: String, rate: Option<f64>, counts: String) -> Bar {
        let class = rate.map_or("ok", rate_class);
        Bar {
            label,
            share: rate.unwrap_or(0.0),
            text: format!("{} （{counts}）", percent(rate)),
            class,
        }
    }
}

/// Horizontal bars in inline SVG: one 18-pixel row per bar, so a hundred rows stay legible.
fn bar_chart(bars: &[Bar], label_width: u32) -> String {
    const ROW: u32 = 18;
    const BAR_WIDTH: f64 = 420.0;
    let height = ROW * bars.len() as u32 + 4;
    let width = label_width + 420 + 200;
    let mut svg = format!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" role=\"img\">");
    for (i, bar) in bars.iter().enumerate() {
        let y = i as u32 * ROW + 2;
        let fill = match bar.class {
            "bad" => "#e12d39",
            "warn" => "#f0b429",
            _ => "#3ebd93",
        };
        let length = (bar.share.clamp(0.0, 1.0) * BAR_WIDTH).round();
        let _ = write!(
            svg,
            "<text x=\"{lx}\" y=\"{ty}\" text-anchor=\"end\">{label}</text><rect x=\"{bx}\" y=\"{y}\" width=\"{BAR_WIDTH}\" height=\"13\" fill=\"#f0f4f8\"/><rect x=\"{bx}\" y=\"{y}\" width=\"{length}\" height=\"13\" fill=\"{fill}\"/><text x=\"{vx}\" y=\"{ty}\">{value}</text>",
            lx = label_width - 6,
            ty = y + 11,
            label = escape(&bar.label),
            bx = label_width,
            vx = label_width as f64 + BAR_WIDTH + 6.0,
            value = escape(&bar.text)
        );
    }
    svg + "</svg>"
}

/// Open items after each night (line), opened (green) and closed (blue) bars per night.
fn trend_chart(trend: &[crate::ledger::NightCounts]) -> String {
    let (width, height, left, bottom) = (900.0, 220.0, 50.0, 40.0);
    let top = trend
        .iter()
        .map(|n| n.open_after.max(n.opened).max(n.closed))
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let step = (width - left - 10.0) / trend.len() as f64;
    let y = |v: f64| height - bottom - v / top * (height - bottom - 10.0);
    let mut svg = format!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" role=\"img\"><line x1=\"{left}\" y1=\"{b}\" x2=\"{width}\" y2=\"{b}\" stroke=\"#9aa5b1\"/><text x=\"4\" y=\"16\">{top}</text><text x=\"4\" y=\"{b}\">0</text>", b = height - bottom);
    let mut line = String::new();
    for (i, night) in trend.iter().enumerate() {
        let x = left + step * i as f64;
        let bar = (step / 3.0).min(14.0);
        let _ = write!(
            svg,
            "<rect x=\"{x:.1}\" y=\"{oy:.1}\" width=\"{bar:.1}\" height=\"{oh:.1}\" fill=\"#3ebd93\"/><rect x=\"{cx:.1}\" y=\"{cy:.1}\" width=\"{bar:.1}\" height=\"{ch:.1}\" fill=\"#1f6feb\"/>",
            oy = y(night.opened as f64),
            oh = height - bottom - y(night.opened as f64),
            cx = x + bar,
            cy = y(night.closed as f64),
            ch = height - bottom - y(night.closed as f64)
        );
        if i % (trend.len() / 8).max(1) == 0 {
            let _ = write!(
                svg,
                "<text x=\"{x:.1}\" y=\"{}\">{}</text>",
                height - bottom + 14.0,
                &night.as_of[5..]
            );
        }
        let _ = write!(line, "{:.1},{:.1} ", x + bar, y(night.open_after as f64));
    }
    let _ = write!(
        svg,
        "<polyline points=\"{line}\" fill=\"none\" stroke=\"#e12d39\" stroke-width=\"2\"/><text x=\"{left}\" y=\"{ly}\">红线：未销号事项 · 绿：新增 · 蓝：销号</text></svg>",
        ly = height - 6.0
    );
    svg
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::morning::test_data;

    fn data(count: usize) -> MorningData {
        let codes: Vec<String> = (0..count).map(|i| format!("{:06}", 420000 + i)).collect();
        let counties: Vec<(String, String)> = codes
            .iter()
            .enumerate()
            .map(|(i, c)| (c.clone(), format!("县{i}")))
            .collect();
        let cells: Vec<(&str, &str, u64, u64)> = codes
            .iter()
            .enumerate()
            .map(|(i, c)| ("MED-01", c.as_str(), 100, i as u64 % 7))
            .collect();
        test_data(&counties, &[("MED-01", true)], &cells)
    }

    #[test]
    fn a_hundred_and_twenty_counties_keep_one_row_each() {
        let page = render(&data(120), None);
        assert!(page.contains("前30个，全部120个见下表"));
        assert_eq!(page.matches("<tr><td class=\"l\">县").count(), 120);
        assert!(!page.contains("<script") && !page.contains("src="));
        assert_eq!(
            page.matches("http").count(),
            page.matches("http://www.w3.org/2000/svg").count(),
            "nothing is fetched"
        );
    }

    #[test]
    fn a_county_page_shows_its_place_in_the_ranking() {
        let page = render(&data(10), Some("420006"));
        assert!(page.contains("县6（420006） 残疾人困难群体数据比对晨报"));
        assert!(
            page.contains("<td>1</td><td class=\"l\">县6（420006）</td>"),
            "{page}"
        );
        assert!(!page.contains("县5（420005）"));
    }

    #[test]
    fn small_counts_are_suppressed_for_publication() {
        let mut d = data(3);
        d.settings.suppress_below = 5;
        let page = render(&d, None);
        assert!(page.contains("&lt;5/100"), "{page}");
    }
}
