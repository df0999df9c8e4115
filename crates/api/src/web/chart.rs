//! Line charts as SVG, drawn on the server: one path per series, optional horizontal reference
//! lines (requests, limits), axes with round ticks, and a point per sample whose `<title>` shows
//! the time and value on hover (and to screen readers). Every text is escaped.

use std::fmt::Write as _;

/// One series to draw.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// Legend text.
    pub name: String,
    /// Points: time (ms) and value.
    pub points: Vec<(i64, f64)>,
}

/// A horizontal reference line.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    /// Legend text (`limit`, `request`).
    pub name: String,
    /// Its value.
    pub value: f64,
}

const W: f64 = 640.0;
const H: f64 = 200.0;
const LEFT: f64 = 56.0;
const BOTTOM: f64 = 22.0;
const TOP: f64 = 8.0;
/// Colours of the series, readable on light and dark backgrounds.
const PALETTE: [&str; 8] = [
    "#3b82f6", "#ef4444", "#10b981", "#f59e0b", "#8b5cf6", "#ec4899", "#14b8a6", "#f97316",
];

/// Escapes text for SVG and HTML.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A value with SI prefixes, three significant digits.
pub fn short(v: f64) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    let a = v.abs();
    let (d, p) = if a >= 1e12 {
        (1e12, "T")
    } else if a >= 1e9 {
        (1e9, "G")
    } else if a >= 1e6 {
        (1e6, "M")
    } else if a >= 1e3 {
        (1e3, "k")
    } else {
        (1.0, "")
    };
    let x = v / d;
    let s = if x.abs() >= 100.0 || x == x.trunc() {
        format!("{x:.0}")
    } else if x.abs() >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    };
    format!("{s}{p}")
}

/// `HH:MM` of a time in ms (UTC).
pub fn clock(ms: i64) -> String {
    let s = ms.div_euclid(1000).rem_euclid(86_400);
    format!("{:02}:{:02}", s / 3600, (s / 60) % 60)
}

/// A round step for about `n` ticks over `span`.
fn nice_step(span: f64, n: f64) -> f64 {
    let raw = (span / n).max(f64::MIN_POSITIVE);
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let nice = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

/// The SVG of `lines` over `[start, end]`, with reference lines; `id` names it for the page.
pub fn svg(id: &str, lines: &[Line], refs: &[Reference], start: i64, end: i64) -> String {
    svg_marked(id, lines, refs, &[], start, end)
}

/// As [`svg`], with vertical marks (anomalies) at the given times, each with its text.
pub fn svg_marked(
    id: &str,
    lines: &[Line],
    refs: &[Reference],
    marks: &[(i64, String)],
    start: i64,
    end: i64,
) -> String {
    let values = lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.1))
        .chain(refs.iter().map(|r| r.value))
        .filter(|v| v.is_finite());
    let (mut lo, mut hi) = values.fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(v), b.max(v)));
    if lo > hi {
        (lo, hi) = (0.0, 1.0);
    }
    lo = lo.min(0.0);
    if hi <= lo {
        hi = lo + 1.0;
    }
    let step = nice_step(hi - lo, 4.0);
    hi = (hi / step).ceil() * step;
    let span_t = (end - start).max(1) as f64;
    let x = |t: i64| LEFT + (t - start) as f64 / span_t * (W - LEFT - 4.0);
    let y = |v: f64| TOP + (1.0 - (v - lo) / (hi - lo)) * (H - TOP - BOTTOM);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart" id="{}" viewBox="0 0 {W} {H}" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg">"#,
        escape(id),
        escape(
            &lines
                .iter()
                .map(|l| l.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    );
    let mut v = lo;
    while v <= hi + step / 2.0 {
        let yy = y(v);
        let _ = write!(
            s,
            r#"<line class="grid" x1="{LEFT}" x2="{W}" y1="{yy:.1}" y2="{yy:.1}"/><text class="tick" x="{}" y="{:.1}" text-anchor="end">{}</text>"#,
            LEFT - 4.0,
            yy + 4.0,
            escape(&short(v))
        );
        v += step;
    }
    let tstep = (nice_step(span_t / 60_000.0, 5.0).max(1.0) * 60_000.0) as i64;
    let mut t = (start / tstep + 1) * tstep;
    while t < end {
        let _ = write!(
            s,
            r#"<text class="tick" x="{:.1}" y="{}" text-anchor="middle">{}</text>"#,
            x(t),
            H - 6.0,
            clock(t)
        );
        t += tstep;
    }
    for r in refs {
        let yy = y(r.value);
        let _ = write!(
            s,
            r#"<line class="ref ref-{}" x1="{LEFT}" x2="{W}" y1="{yy:.1}" y2="{yy:.1}"><title>{} {}</title></line>"#,
            if r.name == "limit" { "limit" } else { "other" },
            escape(&r.name),
            escape(&short(r.value))
        );
    }
    for (t, text) in marks.iter().filter(|m| m.0 >= start && m.0 <= end) {
        let xx = x(*t);
        let _ = write!(
            s,
            r#"<line class="mark" x1="{xx:.1}" x2="{xx:.1}" y1="{TOP}" y2="{}"><title>{} {}</title></line>"#,
            H - BOTTOM,
            clock(*t),
            escape(text)
        );
    }
    for (i, l) in lines.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        let mut d = String::new();
        let mut pen_up = true;
        let mut last_t = i64::MIN;
        for &(t, v) in &l.points {
            if !v.is_finite() {
                pen_up = true;
                continue;
            }
            // A gap of more than five minutes breaks the line, as Prometheus' graph does.
            let cmd = if pen_up || t - last_t > 300_000 {
                'M'
            } else {
                'L'
            };
            let _ = write!(d, "{cmd}{:.1},{:.1}", x(t), y(v));
            pen_up = false;
            last_t = t;
        }
        let _ = write!(
            s,
            r#"<path d="{d}" fill="none" stroke="{colour}" stroke-width="1.5"><title>{}</title></path>"#,
            escape(&l.name)
        );
        for &(t, v) in l.points.iter().filter(|p| p.1.is_finite()) {
            let _ = write!(
                s,
                r#"<circle class="pt" cx="{:.1}" cy="{:.1}" r="3" fill="{colour}"><title>{} {} {}</title></circle>"#,
                x(t),
                y(v),
                escape(&l.name),
                clock(t),
                escape(&short(v))
            );
        }
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_escape_names_and_scale_to_the_data() {
        let lines = vec![Line {
            name: "pod=\"<script>\"".into(),
            points: vec![(0, 1.0), (60_000, 3.0), (120_000, f64::NAN), (180_000, 2.0)],
        }];
        let refs = vec![Reference {
            name: "limit".into(),
            value: 4.0,
        }];
        let s = svg("c", &lines, &refs, 0, 180_000);
        assert!(s.starts_with("<svg") && s.ends_with("</svg>"));
        assert!(!s.contains("<script>"));
        assert!(s.contains("&lt;script&gt;"));
        assert_eq!(s.matches("<circle").count(), 3, "NaN is not drawn");
        let d = s
            .split("<path d=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        assert_eq!(d.matches('M').count(), 2, "a gap lifts the pen: {d}");
        assert!(s.contains("<title>limit 4</title>"));
    }

    #[test]
    fn short_values() {
        assert_eq!(short(0.0), "0");
        assert_eq!(short(1536.0), "1.54k");
        assert_eq!(short(512.0 * 1024.0 * 1024.0), "537M");
        assert_eq!(short(0.25), "0.25");
    }
}
