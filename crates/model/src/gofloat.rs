//! Floats written as Prometheus (Go) writes them: `NaN`, `+Inf`, `-Inf`; the shortest decimal
//! that round-trips (`'f'`); and exponent forms with a signed exponent of at least two digits
//! (`1e+21`, `1.5e-07`), in label values, API JSON and messages alike.

/// `NaN`, `+Inf` or `-Inf`, for the values that have such a name.
pub fn special(v: f64) -> Option<&'static str> {
    if v.is_nan() {
        Some("NaN")
    } else if v == f64::INFINITY {
        Some("+Inf")
    } else if v == f64::NEG_INFINITY {
        Some("-Inf")
    } else {
        None
    }
}

/// Go's `'f'` with the shortest precision: never an exponent.
pub fn format_f(v: f64) -> String {
    special(v).map_or_else(|| format!("{v}"), str::to_string)
}

/// Go's `'e'` with the shortest precision: `1e+21`, `1.5e-07`.
pub fn format_e(v: f64) -> String {
    if let Some(s) = special(v) {
        return s.into();
    }
    let s = format!("{v:e}");
    match s.split_once('e') {
        Some((m, e)) => {
            let (sign, digits) = e.strip_prefix('-').map_or(("+", e), |d| ("-", d));
            format!("{m}e{sign}{digits:0>2}")
        }
        None => s,
    }
}

/// Go's `%g`: the exponent form for exponents below -4 or from 6 on, else `'f'`.
pub fn format_g(v: f64) -> String {
    if !v.is_finite() {
        return format_f(v);
    }
    let exp = if v == 0.0 {
        0
    } else {
        v.abs().log10().floor() as i32
    };
    if (-4..6).contains(&exp) {
        format_f(v)
    } else {
        format_e(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_go() {
        assert_eq!(format_f(1e21), "1000000000000000000000");
        assert_eq!(format_f(f64::NEG_INFINITY), "-Inf");
        assert_eq!(format_e(1e21), "1e+21");
        assert_eq!(format_e(1.5e-7), "1.5e-07");
        assert_eq!(format_e(-2.5e123), "-2.5e+123");
        assert_eq!(format_g(2.0), "2");
        assert_eq!(format_g(1e-7), "1e-07");
        assert_eq!(format_g(1234567.0), "1.234567e+06");
        assert_eq!(format_g(123456.0), "123456");
        assert_eq!(format_g(f64::NAN), "NaN");
    }
}
