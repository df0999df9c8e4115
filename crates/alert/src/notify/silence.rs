//! Silences: matchers that mute alerts from a start to an end time, with who made them and why.
//! Created, updated (a running silence whose matchers change is expired and replaced, as in
//! Alertmanager), expired and listed.

use std::collections::BTreeMap;

use kubepulse_model::Labels;
use kubepulse_store::Matcher;
use serde::{Deserialize, Serialize};

use super::matchers;

/// A matcher as the Alertmanager API writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiMatcher {
    /// Label name.
    pub name: String,
    /// Value or regular expression.
    pub value: String,
    /// A regular expression.
    pub is_regex: bool,
    /// Equality (false negates).
    #[serde(default = "yes")]
    pub is_equal: bool,
}

fn yes() -> bool {
    true
}

impl ApiMatcher {
    /// As a label matcher.
    pub fn matcher(&self) -> Result<Matcher, String> {
        use kubepulse_store::MatchOp::*;
        let op = match (self.is_regex, self.is_equal) {
            (false, true) => Equal,
            (false, false) => NotEqual,
            (true, true) => RegexMatch,
            (true, false) => RegexNoMatch,
        };
        if !kubepulse_model::labels::is_valid_label_name(&self.name) {
            return Err(format!("invalid label name {:?}", self.name));
        }
        Matcher::new(op, &self.name, &self.value).map_err(|e| e.to_string())
    }
}

/// Where a silence stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SilenceState {
    /// Starts later.
    Pending,
    /// Muting.
    Active,
    /// Over.
    Expired,
}

/// A silence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Silence {
    /// Its id.
    pub id: String,
    /// What it mutes.
    pub matchers: Vec<ApiMatcher>,
    /// From (ms).
    pub starts_at: i64,
    /// Until (ms).
    pub ends_at: i64,
    /// Last change (ms).
    pub updated_at: i64,
    /// Who made it.
    pub created_by: String,
    /// Why.
    pub comment: String,
}

impl Silence {
    /// Its state at `now`.
    pub fn state(&self, now: i64) -> SilenceState {
        if now >= self.ends_at {
            SilenceState::Expired
        } else if now < self.starts_at {
            SilenceState::Pending
        } else {
            SilenceState::Active
        }
    }

    fn compiled(&self) -> Vec<Matcher> {
        self.matchers
            .iter()
            .filter_map(|m| m.matcher().ok())
            .collect()
    }

    /// Whether it mutes `labels` at `now`.
    pub fn mutes(&self, labels: &Labels, now: i64) -> bool {
        self.state(now) == SilenceState::Active && matchers::matches(&self.compiled(), labels)
    }
}

/// Every silence, kept for a while after it expires.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Silences {
    /// By id.
    pub by_id: BTreeMap<String, Silence>,
    /// Ids handed out so far.
    pub issued: u64,
}

/// How long expired silences are kept (Alertmanager's default retention, 120 h).
pub const RETENTION: i64 = 120 * 3_600_000;

impl Silences {
    fn new_id(&mut self, now: i64) -> String {
        self.issued += 1;
        // Unique and time-ordered; shaped like a UUID as Alertmanager's ids are.
        let a = now as u64;
        let b = self.issued;
        format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            (a >> 16) as u32,
            (a & 0xffff) as u16,
            (b >> 48) & 0xfff,
            (b >> 36) & 0xfff,
            b & 0xffff_ffff_ffff
        )
    }

    /// Creates or updates a silence; returns its id (a new one when a running silence's
    /// matchers change).
    pub fn upsert(&mut self, mut s: Silence, now: i64) -> Result<String, String> {
        if s.matchers.is_empty() {
            return Err("silence: at least one matcher must be given".into());
        }
        for m in &s.matchers {
            m.matcher()?;
        }
        if s.matchers
            .iter()
            .all(|m| m.matcher().map(|x| x.matches("")).unwrap_or(false))
        {
            return Err("silence: at least one matcher must not match the empty string".into());
        }
        if s.ends_at <= s.starts_at {
            return Err("silence: end time must not be before start time".into());
        }
        if s.ends_at <= now {
            return Err("silence: end time can't be in the past".into());
        }
        if s.created_by.is_empty() {
            return Err("silence: creator information missing".into());
        }
        if s.comment.is_empty() {
            return Err("silence: comment missing".into());
        }
        s.updated_at = now;
        if !s.id.is_empty() {
            let old = self
                .by_id
                .get_mut(&s.id)
                .ok_or_else(|| format!("silence {} not found", s.id))?;
            // As Alertmanager: same matchers, and times a running silence may still take.
            let can_update = old.matchers == s.matchers
                && match old.state(now) {
                    SilenceState::Active => s.starts_at == old.starts_at,
                    SilenceState::Pending => s.starts_at >= now,
                    SilenceState::Expired => false,
                };
            if can_update {
                *old = s.clone();
                return Ok(s.id);
            }
            if old.state(now) != SilenceState::Expired {
                old.ends_at = now;
                old.updated_at = now;
                if old.starts_at > now {
                    old.starts_at = now;
                }
            }
        }
        if s.starts_at < now {
            s.starts_at = now;
        }
        s.id = self.new_id(now);
        let id = s.id.clone();
        self.by_id.insert(id.clone(), s);
        Ok(id)
    }

    /// Expires a silence now.
    pub fn expire(&mut self, id: &str, now: i64) -> Result<(), String> {
        let s = self
            .by_id
            .get_mut(id)
            .ok_or_else(|| format!("silence {id} not found"))?;
        if s.state(now) == SilenceState::Expired {
            return Err(format!("silence {id} already expired"));
        }
        if s.starts_at > now {
            s.starts_at = now;
        }
        s.ends_at = now;
        s.updated_at = now;
        Ok(())
    }

    /// Ids of the silences muting `labels` at `now`.
    pub fn muting(&self, labels: &Labels, now: i64) -> Vec<String> {
        self.by_id
            .values()
            .filter(|s| s.mutes(labels, now))
            .map(|s| s.id.clone())
            .collect()
    }

    /// Drops silences expired longer than the retention.
    pub fn gc(&mut self, now: i64) {
        self.by_id.retain(|_, s| s.ends_at + RETENTION > now);
    }
}
