//! Log templates: every line gets the id of its template (the line with its variable parts
//! masked), online, so that per-template counts can become series and events.

pub mod drain;
pub mod mask;

pub use drain::{Drain, Settings, Snapshot, TemplateId};
