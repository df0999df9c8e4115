//! Kubernetes resource quantities (`500m`, `1.5`, `512Mi`, `2G`, `1e3`) as plain numbers: CPU in
//! cores, memory and storage in bytes.

/// The value of a quantity, or `None` when it is not one.
pub fn parse(q: &str) -> Option<f64> {
    let q = q.trim();
    let split = q
        .find(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E')
        .unwrap_or(q.len());
    let (num, suffix) = q.split_at(split);
    let base: f64 = num.parse().ok()?;
    let scale = match suffix {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024.0 * 1024.0,
        "Gi" => 1024.0 * 1024.0 * 1024.0,
        "Ti" => 1024.0_f64.powi(4),
        "Pi" => 1024.0_f64.powi(5),
        "Ei" => 1024.0_f64.powi(6),
        _ => return None,
    };
    let v = base * scale;
    v.is_finite().then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_suffixes_kubernetes_writes() {
        assert_eq!(parse("500m"), Some(0.5));
        assert_eq!(parse("2"), Some(2.0));
        assert_eq!(parse("512Mi"), Some(536_870_912.0));
        assert_eq!(parse("1Gi"), Some(1_073_741_824.0));
        assert_eq!(parse("2G"), Some(2e9));
        assert_eq!(parse("16308060Ki"), Some(16_308_060.0 * 1024.0));
        assert_eq!(parse("1e3"), Some(1000.0));
        assert!((parse("100n").unwrap() - 1e-7).abs() < 1e-20);
        assert_eq!(parse("12Qi"), None);
        assert_eq!(parse(""), None);
        assert_eq!(parse("Mi"), None);
    }

    proptest! {
        #[test]
        fn never_panics(s in ".{0,16}") {
            let _ = parse(&s);
        }
    }
}
