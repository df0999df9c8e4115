//! Number formatting and parsing for the metric blocks: integers without a decimal point,
//! other values in their shortest round-trip form, `NaN`, `+Inf` and `-Inf` as in Prometheus.

/// Appends `v` to `out`.
pub fn push_value(out: &mut Vec<u8>, v: f64) {
    if v.is_nan() {
        out.extend_from_slice(b"NaN");
    } else if v.is_infinite() {
        out.extend_from_slice(if v > 0.0 { b"+Inf" } else { b"-Inf" });
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        let mut b = itoa::Buffer::new();
        out.extend_from_slice(b.format(v as i64).as_bytes());
    } else {
        let mut b = ryu::Buffer::new();
        out.extend_from_slice(b.format_finite(v).as_bytes());
    }
}

/// Parses a cell written by [`push_value`].
pub fn parse_value(s: &str) -> Option<f64> {
    match s {
        "NaN" => Some(f64::NAN),
        "+Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        _ => s.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn formats() {
        let f = |v: f64| {
            let mut o = Vec::new();
            push_value(&mut o, v);
            String::from_utf8(o).unwrap()
        };
        assert_eq!(f(3.0), "3");
        assert_eq!(f(-2.0), "-2");
        assert_eq!(f(0.125), "0.125");
        assert_eq!(f(1e20), "1e20");
        assert_eq!(f(f64::INFINITY), "+Inf");
        assert_eq!(f(f64::NAN), "NaN");
    }

    proptest! {
        #[test]
        fn round_trip(v in proptest::num::f64::ANY) {
            let mut o = Vec::new();
            push_value(&mut o, v);
            let back = parse_value(std::str::from_utf8(&o).unwrap()).unwrap();
            if v.is_nan() { prop_assert!(back.is_nan()); } else { prop_assert_eq!(back, v); }
        }
    }
}
