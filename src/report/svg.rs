//! Small SVG charts for the report: a line chart and a horizontal bar
//! chart, with axis labels and units. Colours come from CSS classes
//! (`.series-N`), so the page's light and dark styles apply. Every text is
//! escaped; each series carries `data-series` so tests and tools can find it.

use std::fmt::Write;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 260.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 44.0;

/// One line of a line chart.
pub struct Line<'a> {
    pub name: &'a str,
    /// Which `.series-N` colour (0–5) the line takes, so that a network
    /// keeps its colour across charts.
    pub color: usize,
    pub points: Vec<(f64, f64)>,
}

/// Escapes text for HTML and SVG, in elements and quoted attributes.
pub(super) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    pulldown_cmark_escape::escape_html(&mut out, s).expect("writing to a String cannot fail");
    out
}

/// A round step for about `ticks` ticks up to `max`.
fn step(max: f64, ticks: f64) -> f64 {
    let raw = (max / ticks).max(f64::MIN_POSITIVE);
    let mag = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag)
}

fn fmt_num(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{}", v.round() as i64)
    } else {
        format!("{v:.1}")
    }
}

/// A line chart of `lines` with `x_label` and `y_label` (name the units).
/// `title` names the chart for screen readers.
/// With `from_zero` false the y axis fits the data (followers, say, that
/// move from 3,400 to 3,425 would otherwise draw a flat line).
pub fn line_chart(
    title: &str,
    x_label: &str,
    y_label: &str,
    lines: &[Line<'_>],
    from_zero: bool,
) -> String {
    let xs = lines.iter().flat_map(|l| l.points.iter().map(|p| p.0));
    let ys = lines.iter().flat_map(|l| l.points.iter().map(|p| p.1));
    let x_max = xs.fold(0.0f64, f64::max).max(1.0);
    let ys: Vec<f64> = ys.collect();
    let y_hi = ys.iter().copied().fold(0.0f64, f64::max);
    let y_lo = if from_zero {
        0.0
    } else {
        ys.iter().copied().fold(f64::INFINITY, f64::min).min(y_hi)
    };
    let ys_step = step((y_hi - y_lo).max(1.0), 4.0);
    let y_bottom = (y_lo / ys_step).floor() * ys_step;
    let y_top = ((y_hi / ys_step).ceil() * ys_step).max(y_bottom + ys_step);
    let xs_step = step(x_max, 6.0);
    let x_top = (x_max / xs_step).ceil() * xs_step;
    let px = |x: f64| LEFT + x / x_top * (WIDTH - LEFT - RIGHT);
    let py =
        |y: f64| HEIGHT - BOTTOM - (y - y_bottom) / (y_top - y_bottom) * (HEIGHT - TOP - BOTTOM);
    let mut s = open(title);
    axes(&mut s, x_label, y_label);
    let mut y = y_bottom;
    while y <= y_top + 1e-9 {
        let _ = write!(
            s,
            r#"<line class="grid" x1="{LEFT}" x2="{:.1}" y1="{:.1}" y2="{:.1}"/><text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            WIDTH - RIGHT,
            py(y),
            py(y),
            LEFT - 6.0,
            py(y) + 4.0,
            fmt_num(y)
        );
        y += ys_step;
    }
    let mut x = 0.0;
    while x <= x_top + 1e-9 {
        let _ = write!(
            s,
            r#"<text class="tick" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            px(x),
            HEIGHT - BOTTOM + 16.0,
            fmt_num(x)
        );
        x += xs_step;
    }
    for l in lines {
        let class = format!("series-{}", l.color % 6);
        let d: Vec<String> = l
            .points
            .iter()
            .enumerate()
            .map(|(k, (x, y))| {
                format!(
                    "{}{:.1},{:.1}",
                    if k == 0 { 'M' } else { 'L' },
                    px(*x),
                    py(*y)
                )
            })
            .collect();
        let _ = write!(
            s,
            r#"<g class="{class}" data-series="{}"><title>{}</title><path d="{}"/>"#,
            esc(l.name),
            esc(l.name),
            d.join("")
        );
        for (x, y) in &l.points {
            let _ = write!(
                s,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3"/>"#,
                px(*x),
                py(*y)
            );
        }
        s.push_str("</g>");
    }
    s.push_str("</svg>");
    s
}

/// A horizontal bar chart of `bars` (label, value), `unit` naming what the
/// values count.
pub fn bar_chart(title: &str, unit: &str, bars: &[(String, u64)]) -> String {
    let row = 26.0;
    let label_w = 230.0;
    let height = TOP + row * bars.len().max(1) as f64 + BOTTOM;
    let max = bars.iter().map(|b| b.1).max().unwrap_or(0).max(1) as f64;
    let ticks = step(max, 4.0);
    let top = (max / ticks).ceil() * ticks;
    let px = |v: f64| label_w + v / top * (WIDTH - label_w - RIGHT - 30.0);
    let mut s = format!(
        r#"<svg class="chart" role="img" aria-label="{t}" viewBox="0 0 {WIDTH} {height}" xmlns="http://www.w3.org/2000/svg"><title>{t}</title>"#,
        t = esc(title)
    );
    let mut v = 0.0;
    while v <= top + 1e-9 {
        let _ = write!(
            s,
            r#"<line class="grid" x1="{x:.1}" x2="{x:.1}" y1="{TOP}" y2="{:.1}"/><text class="tick" x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            height - BOTTOM,
            height - BOTTOM + 16.0,
            fmt_num(v),
            x = px(v)
        );
        v += ticks;
    }
    let _ = write!(
        s,
        r#"<text class="label" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
        px(top / 2.0),
        height - 8.0,
        esc(unit)
    );
    for (i, (label, value)) in bars.iter().enumerate() {
        let y = TOP + row * i as f64;
        let short: String = if label.chars().count() > 34 {
            label.chars().take(33).chain(['…']).collect()
        } else {
            label.clone()
        };
        let _ = write!(
            s,
            r#"<g class="series-0" data-series="{l}"><title>{l}: {value} {u}</title><text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{}</text><rect x="{label_w}" y="{:.1}" width="{:.1}" height="{:.1}"/><text class="value" x="{:.1}" y="{:.1}">{value}</text></g>"#,
            label_w - 8.0,
            y + row / 2.0 + 4.0,
            esc(&short),
            y + 4.0,
            (px(*value as f64) - label_w).max(1.0),
            row - 8.0,
            px(*value as f64) + 4.0,
            y + row / 2.0 + 4.0,
            l = esc(label),
            u = esc(unit),
        );
    }
    s.push_str("</svg>");
    s
}

fn open(title: &str) -> String {
    format!(
        r#"<svg class="chart" role="img" aria-label="{t}" viewBox="0 0 {WIDTH} {HEIGHT}" xmlns="http://www.w3.org/2000/svg"><title>{t}</title>"#,
        t = esc(title)
    )
}

fn axes(s: &mut String, x_label: &str, y_label: &str) {
    let _ = write!(
        s,
        r#"<line class="axis" x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{b:.1}"/><line class="axis" x1="{LEFT}" x2="{r:.1}" y1="{b:.1}" y2="{b:.1}"/><text class="label" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text><text class="label" transform="translate(14 {:.1}) rotate(-90)" text-anchor="middle">{}</text>"#,
        (LEFT + WIDTH - RIGHT) / 2.0,
        HEIGHT - 8.0,
        esc(x_label),
        (TOP + HEIGHT - BOTTOM) / 2.0,
        esc(y_label),
        b = HEIGHT - BOTTOM,
        r = WIDTH - RIGHT,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_round() {
        assert_eq!(step(27.0, 4.0), 10.0);
        assert_eq!(step(3.0, 6.0), 0.5);
        assert_eq!(step(1200.0, 4.0), 500.0);
    }

    #[test]
    fn lines_have_labelled_axes_escaped_names_and_their_points() {
        let svg = line_chart(
            "Launch <b>",
            "days since publication",
            "likes + reposts + quotes + replies",
            &[Line {
                name: "mastodon & co",
                color: 0,
                points: vec![(0.0, 0.0), (2.0, 10.0)],
            }],
            true,
        );
        assert!(svg.contains(r#"aria-label="Launch &lt;b&gt;""#));
        assert!(svg.contains(">days since publication</text>"));
        assert!(svg.contains(r#"data-series="mastodon &amp; co""#));
        assert_eq!(svg.matches("<circle").count(), 2);
        assert!(svg.contains(r#"<path d="M56.0,216.0L"#), "{svg}");
    }

    #[test]
    fn a_fitted_axis_shows_a_small_change() {
        let svg = line_chart(
            "Followers",
            "days",
            "followers",
            &[Line {
                name: "m",
                color: 0,
                points: vec![(0.0, 3400.0), (1.0, 3425.0)],
            }],
            false,
        );
        assert!(
            svg.contains(">3400</text>") && svg.contains(">3430</text>"),
            "{svg}"
        );
        assert!(
            !svg.contains(r#"text-anchor="end">0</text>"#),
            "no y tick at 0"
        );
    }

    #[test]
    fn bars_carry_label_value_and_unit() {
        let svg = bar_chart(
            "Top",
            "interactions",
            &[("Launch".into(), 27), ("Update".into(), 3)],
        );
        assert!(svg.contains(r#"data-series="Launch"><title>Launch: 27 interactions</title>"#));
        assert_eq!(svg.matches("<rect").count(), 2);
        assert!(svg.contains(">interactions</text>"));
    }
}
