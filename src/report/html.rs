//! The report as one self-contained HTML file: inline CSS (light and dark),
//! inline SVG charts, and a few lines of inline script that sort the table
//! when a header is clicked (the table is already sorted by total without
//! it). No request leaves the file.

use super::svg::{bar_chart, esc, line_chart, Line};
use super::Report;
use chrono::DateTime;
use std::fmt::Write;

/// How many entries get their own engagement chart.
const ENTRY_CHARTS: usize = 6;
/// How many entries the top chart shows.
const TOP_BARS: usize = 10;

/// A link when `url` is an http(s) URL, the text alone otherwise.
fn link(url: &str, text: &str) -> String {
    if url.starts_with("https://") || url.starts_with("http://") {
        format!(r#"<a href="{}">{}</a>"#, esc(url), esc(text))
    } else {
        esc(text)
    }
}

const STYLE: &str = r#"
:root { color-scheme: light dark; --bg: #fff; --fg: #1a1f1c; --muted: #5b6560; --line: #d5dbd8; --grid: #e8ecea;
  --s0: #17603e; --s1: #1f5fbf; --s2: #a64d00; --s3: #7a3db8; --s4: #b3123f; --s5: #4d5b00; }
@media (prefers-color-scheme: dark) { :root { --bg: #111614; --fg: #e4e9e6; --muted: #a3aea8; --line: #38423d; --grid: #252d29;
  --s0: #8fdcb0; --s1: #9cc2ff; --s2: #ffb273; --s3: #d5b3ff; --s4: #ff9db5; --s5: #d4e17a; } }
body { font: 1rem/1.5 system-ui, sans-serif; margin: 0 auto; padding: 1.5rem; max-width: 72rem; background: var(--bg); color: var(--fg); }
a { color: var(--s1); }
h1 { margin-bottom: 0.25rem; } .meta { color: var(--muted); margin-top: 0; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(28rem, 1fr)); gap: 2rem 2.5rem; }
figure { margin: 0; } figcaption { font-weight: 600; margin-bottom: 0.25rem; }
.chart { width: 100%; height: auto; }
.chart .axis { stroke: var(--muted); } .chart .grid { stroke: var(--grid); }
.chart text { fill: var(--muted); font-size: 13px; } .chart .label { font-size: 14px; fill: var(--fg); }
.chart path { fill: none; stroke-width: 2; } .chart .value { fill: var(--fg); }
.series-0 { stroke: var(--s0); fill: var(--s0); } .series-1 { stroke: var(--s1); fill: var(--s1); }
.series-2 { stroke: var(--s2); fill: var(--s2); } .series-3 { stroke: var(--s3); fill: var(--s3); }
.series-4 { stroke: var(--s4); fill: var(--s4); } .series-5 { stroke: var(--s5); fill: var(--s5); }
.chart g text { stroke: none; }
.legend { list-style: none; padding: 0; margin: 0.25rem 0 0; display: flex; gap: 1rem; flex-wrap: wrap; font-size: 0.875rem; }
.legend span { display: inline-block; width: 0.8rem; height: 0.8rem; border-radius: 2px; margin-right: 0.3rem; vertical-align: -1px; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 0.9rem; }
th, td { padding: 0.35rem 0.6rem; border-bottom: 1px solid var(--line); text-align: left; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
th button { font: inherit; font-weight: 600; background: none; border: 0; color: inherit; cursor: pointer; padding: 0; }
"#;

const SORT_SCRIPT: &str = r#"
for (const table of document.querySelectorAll('table.sortable')) {
  table.querySelectorAll('th button').forEach((b, col) => b.addEventListener('click', () => {
    const th = b.parentElement, body = table.tBodies[0];
    const asc = th.getAttribute('aria-sort') !== 'ascending';
    table.querySelectorAll('th').forEach(h => h.removeAttribute('aria-sort'));
    th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
    const key = r => { const c = r.cells[col]; return c.dataset.v !== undefined ? Number(c.dataset.v) : c.textContent.trim().toLowerCase(); };
    [...body.rows].sort((x, y) => { const a = key(x), z = key(y); return (a < z ? -1 : a > z ? 1 : 0) * (asc ? 1 : -1); })
      .forEach(r => body.appendChild(r));
  }));
}
"#;

/// The whole report page. `site_title` names the site.
pub fn render(r: &Report, site_title: &str) -> String {
    let mut h = String::new();
    let period = r.period_label();
    let _ = write!(
        h,
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Engagement report · {title}</title>
<style>{STYLE}</style>
</head>
<body>
<main>
<h1>How the news was received</h1>
<p class="meta">{title} · {period} · data last fetched {fetched} · {rows} posts on {nets} networks</p>
"#,
        title = esc(site_title),
        period = esc(&period),
        fetched = esc(r.last_fetched.as_deref().unwrap_or("never")),
        rows = r.rows.len(),
        nets = r.networks.len(),
    );
    networks_table(&mut h, r);
    h.push_str("<h2>Charts</h2>\n<div class=\"charts\">\n");
    let ranked_by_gain = r.since.is_some();
    let top: Vec<(String, u64)> = r
        .top_entries
        .iter()
        .take(TOP_BARS)
        .map(|e| {
            (
                e.title.clone(),
                if ranked_by_gain { e.gained } else { e.total },
            )
        })
        .collect();
    figure(
        &mut h,
        "Top entries",
        &bar_chart(
            "Top entries",
            if ranked_by_gain {
                "interactions gained in the period"
            } else {
                "interactions (likes, reposts, quotes, replies)"
            },
            &top,
        ),
        &[],
    );
    let tags: Vec<(String, u64)> = r
        .tags
        .iter()
        .map(|t| (format!("#{}", t.tag), t.total))
        .collect();
    figure(
        &mut h,
        "Engagement by tag",
        &bar_chart(
            "Engagement by tag",
            "interactions, all entries with the tag",
            &tags,
        ),
        &[],
    );
    followers_chart(&mut h, r);
    for e in r.top_entries.iter().take(ENTRY_CHARTS) {
        let series: Vec<_> = r.series.iter().filter(|s| s.entry == e.entry).collect();
        let lines: Vec<Line<'_>> = series
            .iter()
            .map(|s| Line {
                name: &s.network,
                color: color_of(r, &s.network),
                points: s.points.iter().map(|(x, y)| (*x, *y as f64)).collect(),
            })
            .collect();
        let title = format!("{}: engagement over its first days", e.title);
        let names: Vec<(&str, usize)> = series
            .iter()
            .map(|s| (s.network.as_str(), color_of(r, &s.network)))
            .collect();
        figure(
            &mut h,
            &title,
            &line_chart(
                &title,
                "days since publication",
                "interactions",
                &lines,
                true,
            ),
            &names,
        );
    }
    h.push_str("</div>\n");
    entries_table(&mut h, r);
    let _ = write!(
        h,
        "</main>\n<script>{SORT_SCRIPT}</script>\n</body>\n</html>\n"
    );
    h
}

/// The colour of `network`: its place among the report's networks.
fn color_of(r: &Report, network: &str) -> usize {
    r.networks
        .iter()
        .position(|n| n.network == network)
        .unwrap_or(0)
}

/// A chart with its caption and, for line charts, a legend of (name, colour).
fn figure(h: &mut String, caption: &str, svg: &str, legend: &[(&str, usize)]) {
    let _ = write!(
        h,
        "<figure>\n<figcaption>{}</figcaption>\n{svg}\n",
        esc(caption)
    );
    if !legend.is_empty() {
        h.push_str("<ul class=\"legend\">");
        for (name, color) in legend {
            let _ = write!(
                h,
                r#"<li><span style="background: var(--s{})"></span>{}</li>"#,
                color % 6,
                esc(name)
            );
        }
        h.push_str("</ul>\n");
    }
    h.push_str("</figure>\n");
}

fn followers_chart(h: &mut String, r: &Report) {
    let start = r
        .followers
        .iter()
        .flat_map(|f| f.points.iter())
        .filter_map(|(at, _)| DateTime::parse_from_rfc3339(at).ok())
        .min();
    let Some(start) = start else {
        return;
    };
    let lines: Vec<Line<'_>> = r
        .followers
        .iter()
        .map(|f| Line {
            name: &f.network,
            color: color_of(r, &f.network),
            points: f
                .points
                .iter()
                .filter_map(|(at, n)| {
                    let t = DateTime::parse_from_rfc3339(at).ok()?;
                    Some(((t - start).num_seconds() as f64 / 86_400.0, *n as f64))
                })
                .collect(),
        })
        .collect();
    let names: Vec<(&str, usize)> = r
        .followers
        .iter()
        .map(|f| (f.network.as_str(), color_of(r, &f.network)))
        .collect();
    let x_label = format!("days since {}", start.date_naive());
    figure(
        h,
        "Followers of each account",
        &line_chart(
            "Followers of each account",
            &x_label,
            "followers",
            &lines,
            false,
        ),
        &names,
    );
}

fn networks_table(h: &mut String, r: &Report) {
    h.push_str("<h2>Networks</h2>\n<div class=\"table-wrap\"><table>\n<thead><tr><th>network</th><th class=\"n\">posts</th><th class=\"n\">likes</th><th class=\"n\">reposts</th><th class=\"n\">quotes</th><th class=\"n\">replies</th><th class=\"n\">total</th><th class=\"n\">followers</th></tr></thead>\n<tbody>\n");
    for n in &r.networks {
        let followers = match (n.followers_start, n.followers_end) {
            (Some(a), Some(b)) => format!("{b} ({:+})", b as i64 - a as i64),
            _ => "–".into(),
        };
        let _ = writeln!(
            h,
            r#"<tr><td>{} <small>({})</small></td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td></tr>"#,
            esc(&n.network),
            esc(&n.kind),
            n.posts,
            n.likes,
            n.reposts,
            n.quotes,
            n.replies,
            n.total,
            esc(&followers)
        );
    }
    h.push_str("</tbody></table></div>\n");
}

fn entries_table(h: &mut String, r: &Report) {
    h.push_str("<h2>Entries by network</h2>\n<div class=\"table-wrap\"><table class=\"sortable\" id=\"entries\">\n<thead><tr>");
    for (name, numeric) in [
        ("entry", false),
        ("published", false),
        ("network", false),
        ("likes", true),
        ("reposts", true),
        ("quotes", true),
        ("replies", true),
        ("total", true),
        ("gained", true),
    ] {
        let class = if numeric { r#" class="n""# } else { "" };
        let sort = if name == "total" {
            r#" aria-sort="descending""#
        } else {
            ""
        };
        let _ = write!(
            h,
            r#"<th{class}{sort}><button type="button">{name}</button></th>"#
        );
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    for row in &r.rows {
        let num = |v: u64| format!(r#"<td class="n" data-v="{v}">{v}</td>"#);
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td>{}{}{}{}{}{}</tr>",
            link(&row.url, &row.title),
            esc(&row.published),
            link(&row.post_url, &row.network),
            num(row.likes),
            num(row.reposts),
            num(row.quotes),
            num(row.replies),
            num(row.total),
            num(row.gained),
        );
    }
    h.push_str("</tbody></table></div>\n");
}

#[cfg(test)]
mod tests {
    use super::super::tests::{entries, history};
    use super::super::{aggregate, Period};
    use super::*;

    #[test]
    fn one_file_with_charts_table_and_no_outside_request() {
        let mut e = entries();
        e.get_mut("news/b.md").unwrap().title = "<script>alert(1)</script>".into();
        let html = render(
            &aggregate(&history(), &e, Period::default()),
            "Fernhill & co",
        );
        assert!(
            html.contains("Fernhill &amp; co · all time · data last fetched 2026-05-03T10:00:00Z")
        );
        assert!(!html.contains("<script>alert"), "titles are escaped");
        assert!(
            !html.contains("src=\"http") && !html.contains("<link"),
            "nothing is loaded"
        );
        assert_eq!(
            html.matches("<svg").count(),
            2 + 1 + 2,
            "top, tags, followers, one per entry"
        );
        assert!(html.contains(r#"aria-label="Followers of each account""#));
        assert!(
            html.contains(r#"data-series="bluesky""#)
                && html.contains(r##"data-series="#product""##)
        );
        assert!(html.contains(r#"<a href="https://x.example/news/a/">Launch</a>"#));
        assert!(html.contains(r#"<a href="https://mastodon.example/news/a.md">mastodon</a>"#));
        let first_row = html.split("<tbody>").nth(2).unwrap();
        assert!(first_row.trim_start().starts_with("<tr><td><a href=\"https://x.example/news/a/\">Launch</a></td><td>2026-05-01</td><td><a href=\"https://mastodon.example/news/a.md\">mastodon</a></td><td class=\"n\" data-v=\"10\">10</td>"), "{first_row}");
    }
}
