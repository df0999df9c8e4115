//! The operating curves of an evaluation as an SVG: ripening failures announced at least five
//! minutes ahead against false alarms per 1,000 object-hours (log scale), for the model and the
//! CPU forest, with the threshold rules as a point and the goals as dashed lines.

use std::fmt::Write as _;

use super::report::CurvePoint;

const W: f64 = 640.0;
const H: f64 = 400.0;
const LEFT: f64 = 60.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 30.0;
const BOTTOM: f64 = 50.0;
/// Decades of the x axis: 0.1 to 1,000 false alarms per 1,000 object-hours.
const X_MIN: f64 = -1.0;
const X_MAX: f64 = 3.0;

fn x(rate: f64) -> f64 {
    let l = rate.max(10f64.powf(X_MIN)).log10().min(X_MAX);
    LEFT + (l - X_MIN) / (X_MAX - X_MIN) * (W - LEFT - RIGHT)
}

fn y(share: f64) -> f64 {
    TOP + (1.0 - share.clamp(0.0, 1.0)) * (H - TOP - BOTTOM)
}

/// An SVG of `title`'s curves: `(name, colour, points)`, and the rules' point.
pub fn svg(title: &str, curves: &[(&str, &str, &[CurvePoint])], rules: (f64, f64)) -> String {
    let mut s = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">
<rect width="{W}" height="{H}" fill="white"/>
<text x="{}" y="18" text-anchor="middle" font-size="14">{}</text>
"#,
        W / 2.0,
        escape(title)
    );
    // Axes, grid and ticks.
    for d in (X_MIN as i32)..=(X_MAX as i32) {
        let v = 10f64.powi(d);
        let px = x(v);
        let _ = writeln!(
            s,
            r##"<line x1="{px:.1}" y1="{TOP}" x2="{px:.1}" y2="{}" stroke="#ddd"/><text x="{px:.1}" y="{}" text-anchor="middle">{}</text>"##,
            H - BOTTOM,
            H - BOTTOM + 16.0,
            if v < 1.0 {
                format!("{v}")
            } else {
                format!("{v:.0}")
            }
        );
    }
    for k in 0..=5 {
        let share = f64::from(k) / 5.0;
        let py = y(share);
        let _ = writeln!(
            s,
            r##"<line x1="{LEFT}" y1="{py:.1}" x2="{}" y2="{py:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{:.0}%</text>"##,
            W - RIGHT,
            LEFT - 6.0,
            py + 4.0,
            share * 100.0
        );
    }
    let _ = writeln!(
        s,
        r##"<text x="{}" y="{}" text-anchor="middle">false alarms per 1,000 object-hours (0 is drawn at 0.1)</text>
<text x="14" y="{}" text-anchor="middle" transform="rotate(-90 14 {})">ripening failures announced ≥ 5 min ahead</text>
<line x1="{:.1}" y1="{TOP}" x2="{:.1}" y2="{}" stroke="#888" stroke-dasharray="4 3"/>
<line x1="{LEFT}" y1="{:.1}" x2="{}" y2="{:.1}" stroke="#888" stroke-dasharray="4 3"/>"##,
        (LEFT + W - RIGHT) / 2.0,
        H - 12.0,
        (TOP + H - BOTTOM) / 2.0,
        (TOP + H - BOTTOM) / 2.0,
        x(1.0),
        x(1.0),
        H - BOTTOM,
        y(0.8),
        W - RIGHT,
        y(0.8)
    );
    for (i, (name, colour, points)) in curves.iter().enumerate() {
        let mut pts: Vec<(f64, f64)> = points
            .iter()
            .map(|p| (x(p.false_alarms), y(p.ripening_5m)))
            .collect();
        pts.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.total_cmp(&a.1)));
        let path: Vec<String> = pts.iter().map(|(a, b)| format!("{a:.1},{b:.1}")).collect();
        let _ = writeln!(
            s,
            r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="2"/>"#,
            path.join(" ")
        );
        legend(&mut s, i, name, colour);
    }
    let _ = writeln!(
        s,
        r#"<circle cx="{:.1}" cy="{:.1}" r="5" fill="crimson"/>"#,
        x(rules.0),
        y(rules.1)
    );
    legend(&mut s, curves.len(), "threshold rules", "crimson");
    s.push_str("</svg>\n");
    s
}

fn legend(s: &mut String, i: usize, name: &str, colour: &str) {
    let ly = TOP + 14.0 + 16.0 * i as f64;
    let _ = writeln!(
        s,
        r#"<rect x="{}" y="{:.1}" width="12" height="4" fill="{colour}"/><text x="{}" y="{:.1}">{}</text>"#,
        LEFT + 10.0,
        ly - 4.0,
        LEFT + 28.0,
        ly,
        escape(name)
    );
}

fn escape(t: &str) -> String {
    t.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_curves_axes_and_the_rules_point() {
        let pts = [
            CurvePoint {
                threshold: 0.5,
                false_alarms: 0.0,
                ripening_5m: 0.5,
                all_1m: 0.5,
            },
            CurvePoint {
                threshold: 0.1,
                false_alarms: 10.0,
                ripening_5m: 0.9,
                all_1m: 0.9,
            },
        ];
        let s = svg(
            "Pods <held out>",
            &[("model", "steelblue", &pts)],
            (5.0, 0.2),
        );
        assert!(s.starts_with("<svg") && s.trim_end().ends_with("</svg>"));
        assert!(s.contains("Pods &lt;held out&gt;"));
        // 0 false alarms at the left edge, 10 per 1,000 h at the middle decade.
        assert!(s.contains(&format!("{:.1},{:.1}", x(0.0), y(0.5))), "{s}");
        assert!(s.contains(&format!("{:.1},{:.1}", x(10.0), y(0.9))));
        assert_eq!(s.matches("<polyline").count(), 1);
        assert_eq!(s.matches("<circle").count(), 1);
    }
}
