//! The functions PromQL knows (Prometheus 2.53, experimental ones enabled): argument types,
//! how many optional arguments, and the result type.

use promql_parser::parser::Function;
use promql_parser::parser::value::ValueType;

use ValueType::{Matrix as M, Scalar as S, String as Str, Vector as V};

/// `(name, argument types, variadic, return type)`: `variadic` 0 is exact, n > 0 allows n more
/// optional trailing arguments after the first `len - 1`, -1 any number.
const TABLE: &[(&str, &[ValueType], i32, ValueType)] = &[
    ("abs", &[V], 0, V),
    ("absent", &[V], 0, V),
    ("absent_over_time", &[M], 0, V),
    ("acos", &[V], 0, V),
    ("acosh", &[V], 0, V),
    ("asin", &[V], 0, V),
    ("asinh", &[V], 0, V),
    ("atan", &[V], 0, V),
    ("atanh", &[V], 0, V),
    ("avg_over_time", &[M], 0, V),
    ("ceil", &[V], 0, V),
    ("changes", &[M], 0, V),
    ("clamp", &[V, S, S], 0, V),
    ("clamp_max", &[V, S], 0, V),
    ("clamp_min", &[V, S], 0, V),
    ("cos", &[V], 0, V),
    ("cosh", &[V], 0, V),
    ("count_over_time", &[M], 0, V),
    ("days_in_month", &[V], 1, V),
    ("day_of_month", &[V], 1, V),
    ("day_of_week", &[V], 1, V),
    ("day_of_year", &[V], 1, V),
    ("deg", &[V], 0, V),
    ("delta", &[M], 0, V),
    ("deriv", &[M], 0, V),
    ("exp", &[V], 0, V),
    ("floor", &[V], 0, V),
    ("histogram_avg", &[V], 0, V),
    ("histogram_count", &[V], 0, V),
    ("histogram_fraction", &[S, S, V], 0, V),
    ("histogram_quantile", &[S, V], 0, V),
    ("histogram_stddev", &[V], 0, V),
    ("histogram_stdvar", &[V], 0, V),
    ("histogram_sum", &[V], 0, V),
    ("holt_winters", &[M, S, S], 0, V),
    ("hour", &[V], 1, V),
    ("idelta", &[M], 0, V),
    ("increase", &[M], 0, V),
    ("irate", &[M], 0, V),
    ("label_join", &[V, Str, Str, Str], -1, V),
    ("label_replace", &[V, Str, Str, Str, Str], 0, V),
    ("last_over_time", &[M], 0, V),
    ("ln", &[V], 0, V),
    ("log10", &[V], 0, V),
    ("log2", &[V], 0, V),
    ("mad_over_time", &[M], 0, V),
    ("max_over_time", &[M], 0, V),
    ("min_over_time", &[M], 0, V),
    ("minute", &[V], 1, V),
    ("month", &[V], 1, V),
    ("pi", &[], 0, S),
    ("predict_linear", &[M, S], 0, V),
    ("present_over_time", &[M], 0, V),
    ("quantile_over_time", &[S, M], 0, V),
    ("rad", &[V], 0, V),
    ("rate", &[M], 0, V),
    ("resets", &[M], 0, V),
    ("round", &[V, S], 1, V),
    ("scalar", &[V], 0, S),
    ("sgn", &[V], 0, V),
    ("sin", &[V], 0, V),
    ("sinh", &[V], 0, V),
    ("sort", &[V], 0, V),
    ("sort_by_label", &[V, Str], -1, V),
    ("sort_by_label_desc", &[V, Str], -1, V),
    ("sort_desc", &[V], 0, V),
    ("sqrt", &[V], 0, V),
    ("stddev_over_time", &[M], 0, V),
    ("stdvar_over_time", &[M], 0, V),
    ("sum_over_time", &[M], 0, V),
    ("tan", &[V], 0, V),
    ("tanh", &[V], 0, V),
    ("time", &[], 0, S),
    ("timestamp", &[V], 0, V),
    ("vector", &[S], 0, V),
    ("year", &[V], 1, V),
];

/// The function called `name` (names are case-sensitive).
pub fn get(name: &str) -> Option<Function> {
    TABLE
        .iter()
        .find(|(n, ..)| *n == name)
        .map(|&(name, args, variadic, ret)| Function {
            name,
            arg_types: args.to_vec(),
            variadic,
            return_type: ret,
            experimental: false,
        })
}

/// How error messages name a type.
pub fn type_name(t: ValueType) -> &'static str {
    match t {
        ValueType::Vector => "instant vector",
        ValueType::Matrix => "range vector",
        ValueType::Scalar => "scalar",
        ValueType::String => "string",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_found() {
        let mut names: Vec<&str> = TABLE.iter().map(|f| f.0).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), TABLE.len());
        assert_eq!(get("rate").map(|f| f.arg_types), Some(vec![M]));
        assert!(get("RATE").is_none());
    }
}
