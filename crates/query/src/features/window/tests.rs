use proptest::prelude::*;

use super::*;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * (1.0 + a.abs().max(b.abs()))
}

#[test]
fn lines_parabolas_and_gaps() {
    // v = 2 + 0.5 t, 15 s apart, one point missing.
    let line: Vec<f64> = (0..13)
        .map(|i| {
            if i == 4 {
                f64::NAN
            } else {
                2.0 + 0.5 * 15.0 * i as f64
            }
        })
        .collect();
    let s = stats(&line, 15.0);
    assert!(close(s.slope, 0.5) && close(s.curvature, 0.0), "{s:?}");
    assert!(close(s.last, 92.0) && close(s.min, 2.0) && close(s.missing, 1.0 / 13.0));
    assert!(close(s.seconds_to(100.0, 3600.0), 16.0));
    assert_eq!(s.seconds_to(50.0, 3600.0), 0.0);
    // v = t², curvature 1.
    let par: Vec<f64> = (0..13).map(|i| (i as f64 * 15.0).powi(2)).collect();
    assert!(close(stats(&par, 15.0).curvature, 1.0));
    // Nothing present.
    let none = stats(&[f64::NAN, f64::INFINITY], 15.0);
    assert!(none.last.is_nan() && none.missing == 1.0 && none.slope == 0.0);
    // A flat series never reaches a limit above it.
    let flat = stats(&[1.0; 5], 15.0);
    assert_eq!(flat.seconds_to(2.0, 600.0), 600.0);
    assert_eq!(flat.volatility, 0.0);
}

#[test]
fn the_envelope_of_a_sawtooth_climbs_with_its_peaks() {
    // A sawtooth of period 4 around a line rising 0.01 per second; a 3-step burst
    // (shorter than a block) does not move the trend much, a gap does not stop it.
    let points: Vec<f64> = (0..60)
        .map(|i| {
            if i == 30 {
                f64::NAN
            } else {
                0.5 + 0.01 * 15.0 * i as f64 + 0.1 * (i % 4) as f64
            }
        })
        .collect();
    let [(slope, last), (recent, _)] = envelope_trends(&points, 15.0, 4, 5);
    assert!((recent - 0.01).abs() < 1e-9, "{recent}");
    assert!((slope - 0.01).abs() < 1e-9, "{slope}");
    assert!(close(last, 0.5 + 0.15 * 59.0 + 0.3), "{last}");
    let [(slope, last), _] = envelope_trends(&[f64::NAN; 12], 15.0, 4, 5);
    assert!(slope == 0.0 && last.is_nan());
    // A restart halfway: the trend is the climb after it, not the drop.
    let restarted: Vec<f64> = (0..40)
        .map(|i| {
            if i < 20 {
                0.5 + 0.02 * i as f64
            } else {
                0.3 + 0.01 * (i - 20) as f64
            }
        })
        .collect();
    let [(slope, last), _] = envelope_trends(&restarted, 15.0, 4, 5);
    assert!((slope - 0.01 / 15.0).abs() < 1e-9, "{slope}");
    assert!(close(last, 0.49));
    assert_eq!(seconds_to(0.5, 0.01, 1.0, 600.0), 50.0);
    assert_eq!(seconds_to(0.5, -0.01, 1.0, 600.0), 600.0);
    assert_eq!(seconds_to(1.5, 0.0, 1.0, 600.0), 0.0);
}

/// Straightforward statistics of the present points, to hold the one-pass ones to.
fn reference(points: &[f64], step: f64) -> WindowStats {
    let p: Vec<(f64, f64)> = points
        .iter()
        .enumerate()
        .filter(|(_, v)| v.is_finite())
        .map(|(i, &v)| (i as f64 * step, v))
        .collect();
    let k = p.len() as f64;
    let missing = 1.0 - k / points.len().max(1) as f64;
    let Some(&(_, last)) = p.last() else {
        return WindowStats {
            last: f64::NAN,
            mean: f64::NAN,
            min: f64::NAN,
            max: f64::NAN,
            slope: 0.0,
            curvature: 0.0,
            volatility: 0.0,
            missing,
        };
    };
    let vs = || p.iter().map(|q| q.1);
    let tm = p.iter().map(|q| q.0).sum::<f64>() / k;
    let vm = vs().sum::<f64>() / k;
    let s = |f: &dyn Fn(f64, f64) -> f64| p.iter().map(|&(t, v)| f(t - tm, v - vm)).sum::<f64>();
    let (s2, s3, s4) = (s(&|x, _| x * x), s(&|x, _| x.powi(3)), s(&|x, _| x.powi(4)));
    let slope = if p.len() < 2 {
        0.0
    } else {
        s(&|x, y| x * y) / s2
    };
    // The parabola a + b x + c x²: its normal equations, b and c by Cramer's rule with
    // a = vm - c s2 / k substituted.
    let curvature = if p.len() < 3 {
        0.0
    } else {
        let (sxy, sx2y) = (s(&|x, y| x * y), s(&|x, y| x * x * y));
        let q = s4 - s2 * s2 / k;
        (s2 * sx2y - s3 * sxy) / (s2 * q - s3 * s3)
    };
    let d: Vec<f64> = p.windows(2).map(|w| w[1].1 - w[0].1).collect();
    let dm = d.iter().sum::<f64>() / d.len().max(1) as f64;
    let volatility = if p.len() < 3 {
        0.0
    } else {
        (d.iter().map(|x| (x - dm).powi(2)).sum::<f64>() / d.len() as f64).sqrt()
    };
    WindowStats {
        last,
        mean: vm,
        min: vs().fold(f64::INFINITY, f64::min),
        max: vs().fold(f64::NEG_INFINITY, f64::max),
        slope,
        curvature,
        volatility,
        missing,
    }
}

/// Straightforward envelope trends: the points since the last reset found walking forward,
/// whole blocks counted from the newest point, a line through their maxima.
fn reference_trends(points: &[f64], step: f64, block: usize, recent: usize) -> [(f64, f64); 2] {
    let mut start = 0;
    let mut prev = f64::NAN;
    for (i, &v) in points.iter().enumerate() {
        if v.is_finite() {
            if prev > 0.0 && v < RESET * prev {
                start = i;
            }
            prev = v;
        }
    }
    let p = &points[start..];
    let blocks = p.len() / block;
    let maxima: Vec<(f64, f64, bool)> = (0..blocks)
        .filter_map(|b| {
            let end = p.len() - (blocks - 1 - b) * block;
            let m = p[end - block..end]
                .iter()
                .filter(|v| v.is_finite())
                .fold(f64::NEG_INFINITY, |m, &v| m.max(v));
            let t = (b * block) as f64 * step;
            m.is_finite().then_some((t, m, b + recent >= blocks))
        })
        .collect();
    let line = |m: Vec<(f64, f64)>| {
        if m.len() < 2 {
            return (0.0, f64::NAN);
        }
        let n = m.len() as f64;
        let tm = m.iter().map(|q| q.0).sum::<f64>() / n;
        let vm = m.iter().map(|q| q.1).sum::<f64>() / n;
        let sxy: f64 = m.iter().map(|q| (q.0 - tm) * (q.1 - vm)).sum();
        let sxx: f64 = m.iter().map(|q| (q.0 - tm).powi(2)).sum();
        (sxy / sxx, m[m.len() - 1].1)
    };
    let all = maxima.iter().map(|q| (q.0, q.1)).collect();
    let newest = maxima.iter().filter(|q| q.2).map(|q| (q.0, q.1)).collect();
    [line(all), line(newest)]
}

/// Whether two figures agree to within rounding at the scale of the window's values.
fn agree(a: f64, b: f64, scale: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= 1e-9 * (1.0 + scale)
}

/// Windows as signals have them: a level (a ratio or a byte count), a climb, a sawtooth and
/// noise, gaps, a reset, values that are not finite.
fn window() -> impl Strategy<Value = Vec<f64>> {
    (
        prop_oneof![Just(0.0), -2.0..2.0, 1e6..1e10f64],
        -0.1..0.1f64,
        0.0..0.1f64,
        proptest::collection::vec((0.0..1.0f64, 0.0..1.0f64), 0..70),
        proptest::option::of(0usize..70),
        prop_oneof![Just(0.0), Just(0.05), Just(0.3)],
    )
        .prop_map(|(level, climb, noise, p, reset, gaps)| {
            p.iter()
                .enumerate()
                .map(|(i, &(g, r))| {
                    let gap = match g {
                        g if g < gaps / 2.0 => f64::NAN,
                        g if g < gaps => f64::INFINITY,
                        _ => 0.0,
                    };
                    let base = if reset.is_some_and(|at| i >= at) {
                        level * 0.3
                    } else {
                        level
                    };
                    let v = base * (1.0 + climb * i as f64 + 0.05 * (i % 4) as f64)
                        + climb * i as f64
                        + noise * r;
                    v + gap
                })
                .collect()
        })
}

proptest! {
    #[test]
    fn one_pass_statistics_are_the_straightforward_ones(points in window()) {
        let (got, want) = (stats(&points, 15.0), reference(&points, 15.0));
        let scale = points.iter().filter(|v| v.is_finite()).fold(0.0, |m: f64, v| m.max(v.abs()));
        for ((g, w), name) in got.values().iter().zip(want.values()).zip(WindowStats::NAMES) {
            prop_assert!(agree(*g, w, scale), "{name}: {g} against {w} ({points:?})");
        }
    }

    #[test]
    fn envelope_trends_are_the_straightforward_ones(points in window(), block in 1usize..6) {
        let got = envelope_trends(&points, 15.0, block, 5);
        let want = reference_trends(&points, 15.0, block, 5);
        let scale = points.iter().filter(|v| v.is_finite()).fold(0.0, |m: f64, v| m.max(v.abs()));
        for ((gs, gt), (ws, wt)) in got.into_iter().zip(want) {
            prop_assert!(agree(gs, ws, scale) && agree(gt, wt, scale), "{got:?} against {want:?} ({points:?})");
        }
    }
}
