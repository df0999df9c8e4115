//! Go's float formatting as Prometheus' template functions use it: `%.Ng` (significant digits,
//! exponent form for exponents below -4 or from N on, trailing zeros removed) and `%v`.

/// Go's `strconv.FormatFloat(v, 'g', prec, 64)`, as `fmt.Sprintf("%.<prec>g", v)` prints it.
pub fn format_g(v: f64, prec: usize) -> String {
    if let Some(s) = kubepulse_model::gofloat::special(v) {
        return s.into();
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0" } else { "0" }.into();
    }
    let prec = prec.max(1);
    // Rust's exact `e` formatting rounds the decimal expansion half to even, as Go does.
    let e = format!("{:.*e}", prec - 1, v.abs());
    let Some((mantissa, exp)) = e.split_once('e') else {
        return e;
    };
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let digits = digits.trim_end_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    let nd = digits.len() as i32;
    let dp = exp + 1;
    let mut eprec = prec as i32;
    if eprec > nd && nd >= dp {
        eprec = nd;
    }
    let sign = if v < 0.0 { "-" } else { "" };
    if exp < -4 || exp >= eprec {
        let (first, rest) = digits.split_at(1);
        let frac = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let (es, ea) = if exp < 0 { ('-', -exp) } else { ('+', exp) };
        return format!("{sign}{first}{frac}e{es}{ea:02}");
    }
    // Fixed notation with the significant digits placed around the decimal point.
    let mut out = String::from(sign);
    if dp <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-dp) as usize));
        out.push_str(digits);
    } else if dp >= nd {
        out.push_str(digits);
        out.extend(std::iter::repeat_n('0', (dp - nd) as usize));
    } else {
        let (int, frac) = digits.split_at(dp as usize);
        out.push_str(int);
        out.push('.');
        out.push_str(frac);
    }
    out
}

/// Go's `%v` of a float64: the shortest representation, in exponent form for exponents below -4
/// or from 6 on (`1e+06`).
pub fn format_v(v: f64) -> String {
    kubepulse_model::gofloat::format_g(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_go_percent_4g() {
        // Each pair was printed by Go's fmt.Sprintf("%.4g", v).
        let cases = [
            (1000.0, "1000"),
            (1.5, "1.5"),
            (12345.0, "1.234e+04"),
            (12355.0, "1.236e+04"),
            (0.000123456, "0.0001235"),
            (0.0000123, "1.23e-05"),
            (123.456, "123.5"),
            (9999.5, "1e+04"),
            (-42.0, "-42"),
            (0.5, "0.5"),
            (100.0, "100"),
            (1.0, "1"),
            (f64::INFINITY, "+Inf"),
            (f64::NAN, "NaN"),
            (0.0, "0"),
        ];
        for (v, want) in cases {
            assert_eq!(format_g(v, 4), want, "{v}");
        }
    }
}
