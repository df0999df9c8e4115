//! A parser's learnt state as plain data, so that a restart keeps template ids: the interned
//! words in id order and every template (merged ones included); buckets are rebuilt from them.

use serde::{Deserialize, Serialize};

use super::{Drain, Settings, Template, Tok, Vocabulary, WILD};

/// One template, saved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedTemplate {
    /// Token ids (`u32::MAX` is a wildcard).
    pub tokens: Vec<u32>,
    /// Lines assigned.
    pub count: u64,
    /// The template it merged into.
    pub merged_into: Option<u32>,
}

/// A parser's state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Interned tokens, by id.
    pub words: Vec<String>,
    /// Templates, by id.
    pub templates: Vec<SavedTemplate>,
}

impl Drain {
    /// The learnt state.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            words: self
                .vocabulary
                .words
                .iter()
                .map(|w| w.to_string())
                .collect(),
            templates: self
                .templates
                .iter()
                .map(|t| SavedTemplate {
                    tokens: t.tokens.clone(),
                    count: t.count,
                    merged_into: t.merged_into,
                })
                .collect(),
        }
    }

    /// A parser with these settings that continues from `snap`; `None` when the snapshot is
    /// inconsistent (a token or merge id out of range).
    pub fn restore(s: Settings, snap: &Snapshot) -> Option<Self> {
        let mut d = Self::new(s);
        let mut vocabulary = Vocabulary::default();
        for w in &snap.words {
            vocabulary.id(w);
        }
        if vocabulary.words.len() != snap.words.len() {
            return None;
        }
        let n = snap.templates.len() as u32;
        for t in &snap.templates {
            let valid = t
                .tokens
                .iter()
                .all(|&x| x == WILD || (x as usize) < vocabulary.words.len())
                && t.merged_into.is_none_or(|m| m < n);
            if !valid {
                return None;
            }
        }
        d.vocabulary = vocabulary;
        for (id, t) in snap.templates.iter().enumerate() {
            d.templates.push(Template {
                tokens: t.tokens.clone(),
                count: t.count,
                merged_into: t.merged_into,
            });
            if t.merged_into.is_none() {
                let first: Tok = t
                    .tokens
                    .iter()
                    .copied()
                    .find(|x| d.vocabulary.is_word(*x))
                    .unwrap_or(WILD);
                d.buckets
                    .entry((t.tokens.len(), first))
                    .or_default()
                    .push(id as u32);
            }
        }
        Some(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restored_parser_keeps_its_ids() {
        let mut d = Drain::new(Settings::default());
        let lines = [
            "PacketResponder 1 for block blk_1 terminating",
            "Invalid user root from 10.0.0.1",
            "Invalid user guest from 10.0.0.2",
            "Invalid user oracle from 10.0.0.3",
            "Invalid user pi from 10.0.0.4",
            "Received block blk_2 of size 91 from /10.0.0.5",
        ];
        let ids: Vec<u32> = lines.iter().map(|l| d.add(l)).collect();
        let snap = d.snapshot();
        let json = serde_json::to_string(&snap).unwrap_or_default();
        let back: Snapshot = serde_json::from_str(&json).unwrap_or_default();
        let mut r = Drain::restore(Settings::default(), &back).unwrap_or_default();
        for (l, id) in lines.iter().zip(&ids) {
            let again = r.add(l);
            assert_eq!(r.resolve(again), d.resolve(*id), "{l}");
        }
        assert_eq!(r.text(ids[0]), d.text(ids[0]));
        let mut bad = back.clone();
        bad.templates[0].tokens.push(9999);
        assert!(Drain::restore(Settings::default(), &bad).is_none());
    }
}
