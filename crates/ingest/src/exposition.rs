//! The Prometheus text format (0.0.4) and OpenMetrics 1.0 text, parsed as Prometheus 2.x parses
//! them: the text format leniently (optional commas, any whitespace, `# EOF` only a comment,
//! integer-millisecond timestamps), OpenMetrics strictly (single spaces, `# EOF` required,
//! float-second timestamps, exemplars). An error anywhere fails the whole exposition.

mod line;
mod openmetrics;
mod prom;

use std::borrow::Cow;
use std::fmt;

use kubepulse_model::MetricType;

pub use openmetrics::parse_openmetrics;
pub use prom::parse_prometheus;

/// Prometheus' ordinary NaN; the staleness marker is a different NaN.
pub const NORMAL_NAN: f64 = f64::from_bits(0x7ff8_0000_0000_0001);

/// One sample line.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedSample<'a> {
    /// Metric name as written (suffixes included).
    pub name: &'a str,
    /// Labels in written order, values unescaped.
    pub labels: Vec<(&'a str, Cow<'a, str>)>,
    /// Value (any NaN becomes [`NORMAL_NAN`]).
    pub value: f64,
    /// Timestamp in milliseconds, when written.
    pub timestamp: Option<i64>,
    /// Exemplar (OpenMetrics only).
    pub exemplar: Option<Exemplar<'a>>,
}

/// An OpenMetrics exemplar.
#[derive(Debug, Clone, PartialEq)]
pub struct Exemplar<'a> {
    /// Labels (not unescaped, as Prometheus keeps them).
    pub labels: Vec<(&'a str, &'a str)>,
    /// Value.
    pub value: f64,
    /// Timestamp in milliseconds.
    pub timestamp: Option<i64>,
}

/// Metadata of one family.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Family<'a> {
    /// Family name as written in `# TYPE`/`# HELP`.
    pub name: &'a str,
    /// Type.
    pub kind: MetricType,
    /// Help, unescaped.
    pub help: Option<Cow<'a, str>>,
    /// Unit (OpenMetrics).
    pub unit: Option<&'a str>,
}

/// A parsed exposition.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Exposition<'a> {
    /// Sample lines in order.
    pub samples: Vec<ParsedSample<'a>>,
    /// Families with metadata, in order of first mention.
    pub families: Vec<Family<'a>>,
}

impl<'a> Exposition<'a> {
    fn family(&mut self, name: &'a str) -> &mut Family<'a> {
        match self.families.iter().position(|f| f.name == name) {
            Some(i) => &mut self.families[i],
            None => {
                self.families.push(Family {
                    name,
                    ..Family::default()
                });
                let last = self.families.len() - 1;
                &mut self.families[last]
            }
        }
    }
}

/// Why an exposition was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// The two text formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Prometheus text 0.0.4.
    Prometheus,
    /// OpenMetrics 1.0 text.
    OpenMetrics,
}

/// The format a scrape response is in, from its Content-Type (as Prometheus 2.x decides: only
/// `application/openmetrics-text` selects OpenMetrics; anything else is the text format).
pub fn format_of(content_type: Option<&str>) -> Format {
    let media = content_type
        .and_then(|c| c.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase());
    match media.as_deref() {
        Some("application/openmetrics-text") => Format::OpenMetrics,
        _ => Format::Prometheus,
    }
}

/// Parses `text` in `format`.
pub fn parse(text: &str, format: Format) -> Result<Exposition<'_>, ParseError> {
    match format {
        Format::Prometheus => parse_prometheus(text),
        Format::OpenMetrics => parse_openmetrics(text),
    }
}

/// The `Accept` header a scraper sends (Prometheus 2.42's preference order).
pub const ACCEPT: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
