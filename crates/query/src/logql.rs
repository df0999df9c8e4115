//! LogQL, the subset Grafana's Loki data source uses: stream selectors, line filters (`|=`,
//! `!=`, `|~`, `!~`), the `json` and `logfmt` parsers with label filters, `line_format`, the
//! range aggregations `count_over_time`, `rate`, `bytes_over_time` and `bytes_rate`, the vector
//! aggregations `sum`, `count`, `min`, `max`, `avg`, `topk` and `bottomk` (by or without
//! labels), `vector(n)` and arithmetic. Anything else is refused with a message naming it.

pub mod ast;
pub mod eval;
mod lex;
pub mod parse;
pub mod pipeline;

pub use eval::{Answer, Lbl, Params, evaluate};
pub use parse::parse;
