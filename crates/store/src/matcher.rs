//! Label matchers with Prometheus semantics: `=`, `!=`, `=~`, `!~`; regular expressions are fully
//! anchored (`^(?:re)$`, `.` not matching a newline, as in Prometheus 2); a label that is absent
//! has the empty value.

use std::fmt;

use regex::Regex;

use crate::StoreError;

/// Longest regular expression accepted in a matcher.
const MAX_REGEX_LEN: usize = 64 * 1024;

/// The matching operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchOp {
    /// `=`
    Equal,
    /// `!=`
    NotEqual,
    /// `=~`
    RegexMatch,
    /// `!~`
    RegexNoMatch,
}

impl MatchOp {
    /// The operator as written in PromQL.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Equal => "=",
            Self::NotEqual => "!=",
            Self::RegexMatch => "=~",
            Self::RegexNoMatch => "!~",
        }
    }
}

/// One label matcher.
#[derive(Debug, Clone)]
pub struct Matcher {
    /// Label name.
    pub name: String,
    /// Operator.
    pub op: MatchOp,
    /// Value or regular expression as written.
    pub value: String,
    re: Option<Regex>,
}

impl PartialEq for Matcher {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.op == other.op && self.value == other.value
    }
}

impl Matcher {
    /// A matcher; regular expressions are compiled anchored and may fail.
    pub fn new(
        op: MatchOp,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Result<Self, StoreError> {
        let (name, value) = (name.into(), value.into());
        let re = match op {
            MatchOp::RegexMatch | MatchOp::RegexNoMatch => {
                if value.len() > MAX_REGEX_LEN {
                    return Err(StoreError::BadMatcher(format!(
                        "regular expression for {name} is longer than {MAX_REGEX_LEN} bytes"
                    )));
                }
                let anchored = format!("^(?:{value})$");
                Some(
                    regex::RegexBuilder::new(&anchored)
                        .size_limit(8 << 20)
                        .build()
                        .map_err(|e| {
                            StoreError::BadMatcher(format!(
                                "invalid regular expression {value:?}: {e}"
                            ))
                        })?,
                )
            }
            _ => None,
        };
        Ok(Self {
            name,
            op,
            value,
            re,
        })
    }

    /// `name="value"`.
    pub fn equal(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            op: MatchOp::Equal,
            value: value.into(),
            re: None,
        }
    }

    /// Whether a label value (empty when absent) matches.
    pub fn matches(&self, v: &str) -> bool {
        match (self.op, &self.re) {
            (MatchOp::Equal, _) => v == self.value,
            (MatchOp::NotEqual, _) => v != self.value,
            (MatchOp::RegexMatch, Some(re)) => re.is_match(v),
            (MatchOp::RegexNoMatch, Some(re)) => !re.is_match(v),
            _ => false,
        }
    }

    /// Whether a series without this label matches.
    pub fn matches_empty(&self) -> bool {
        self.matches("")
    }

    /// For `=~` over a plain alternation of literals (`a|b|c`), the literals; lets the index
    /// look values up instead of scanning them.
    pub fn set_values(&self) -> Option<Vec<&str>> {
        if self.op != MatchOp::RegexMatch {
            return None;
        }
        let literal = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | ':' | '/' | ' '))
        };
        let parts: Vec<&str> = self.value.split('|').collect();
        parts.iter().all(|p| literal(p)).then_some(parts)
    }
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}{:?}", self.name, self.op.as_str(), self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regexes_are_anchored_and_dot_stops_at_newline() {
        let m = Matcher::new(MatchOp::RegexMatch, "job", "api|web").unwrap();
        assert!(m.matches("api") && m.matches("web"));
        assert!(!m.matches("apiserver") && !m.matches("my-web"));
        let m = Matcher::new(MatchOp::RegexMatch, "a", "x.*").unwrap();
        assert!(m.matches("xyz") && !m.matches("x\ny"));
        let m = Matcher::new(MatchOp::RegexMatch, "a", "(?s:x.*)").unwrap();
        assert!(m.matches("x\ny"));
        let m = Matcher::new(MatchOp::RegexNoMatch, "a", "b.*").unwrap();
        assert!(m.matches("") && m.matches("c") && !m.matches("bb"));
        assert_eq!(m.set_values(), None);
        let m = Matcher::new(MatchOp::RegexMatch, "a", "x|y-z").unwrap();
        assert_eq!(m.set_values(), Some(vec!["x", "y-z"]));
    }

    #[test]
    fn empty_value_means_absent() {
        assert!(Matcher::equal("a", "").matches_empty());
        assert!(
            Matcher::new(MatchOp::NotEqual, "a", "x")
                .unwrap()
                .matches_empty()
        );
        assert!(
            !Matcher::new(MatchOp::NotEqual, "a", "")
                .unwrap()
                .matches_empty()
        );
        assert!(
            Matcher::new(MatchOp::RegexMatch, "a", ".*")
                .unwrap()
                .matches_empty()
        );
        assert!(
            !Matcher::new(MatchOp::RegexMatch, "a", ".+")
                .unwrap()
                .matches_empty()
        );
    }

    #[test]
    fn invalid_regex_is_an_error() {
        assert!(matches!(
            Matcher::new(MatchOp::RegexMatch, "a", "("),
            Err(StoreError::BadMatcher(_))
        ));
    }
}
