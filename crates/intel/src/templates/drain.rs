//! An online parser of the Drain family. Lines are split into tokens on whitespace and their
//! values masked ([`super::mask`]); runs of wildcards collapse into one, so that a value
//! written over several tokens (a date) does not change a line's length. Lines of the same
//! length whose first constant token agrees share a bucket; in its bucket a line joins the
//! template it agrees with most, position by position, when
//!
//! - they agree on at least a share of positions (the similarity threshold), and
//! - where they differ, one side is a value or a wildcard: two different words
//!   (`Failed password …` and `Failed none …`) are two events, not one with a variable.
//!
//! A position where words differ does become a variable once more than a few templates differ
//! only there (user names, host names): those templates merge into the oldest, and the others
//! become its aliases. Every line is assigned a template id at once; an id stays valid for
//! good (an alias resolves to the template it merged into).

mod snapshot;

use rustc_hash::FxHashMap;

pub use snapshot::{SavedTemplate, Snapshot};

use super::mask::{WILDCARD, mask_into, unit};

/// Settings; one set serves every log.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    /// Share of positions a line must agree on with a template to join it.
    pub similarity: f64,
    /// Templates that differ only in the word at one position, beyond which the position is a
    /// variable and they merge.
    pub variants: usize,
    /// Most templates kept per bucket; beyond, a line joins its most similar template.
    pub max_per_bucket: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            similarity: 0.5,
            variants: 3,
            max_per_bucket: 256,
        }
    }
}

/// A template id.
pub type TemplateId = u32;

/// A token id; [`WILD`] is the wildcard.
type Tok = u32;
const WILD: Tok = Tok::MAX;

/// One template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    /// Its tokens; [`WILD`] is a wildcard.
    tokens: Vec<Tok>,
    /// Lines assigned to it.
    pub count: u64,
    /// The template it merged into, if it did.
    merged_into: Option<TemplateId>,
}

/// Every token seen, interned.
#[derive(Debug, Clone, Default)]
struct Vocabulary {
    ids: FxHashMap<Box<str>, Tok>,
    words: Vec<Box<str>>,
    /// Whether a token holds a wildcard (`uid=<*>`): a shape of a value, not a word.
    shaped: Vec<bool>,
}

impl Vocabulary {
    fn id(&mut self, token: &str) -> Tok {
        if token == WILDCARD {
            return WILD;
        }
        if let Some(&id) = self.ids.get(token) {
            return id;
        }
        let id = self.words.len() as Tok;
        self.words.push(token.into());
        self.shaped.push(token.contains(WILDCARD));
        self.ids.insert(token.into(), id);
        id
    }

    fn word(&self, id: Tok) -> &str {
        self.words.get(id as usize).map_or(WILDCARD, |w| w)
    }

    fn is_word(&self, id: Tok) -> bool {
        id != WILD && !self.shaped.get(id as usize).copied().unwrap_or(true)
    }
}

/// How a line compares with a template.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Comparison {
    /// Positions with the same constant.
    same: usize,
    /// Positions where the template has a wildcard.
    wild: usize,
    /// Positions where two different words meet; the first of them.
    words: usize,
    first_word: usize,
}

/// The parser.
#[derive(Debug, Clone, Default)]
pub struct Drain {
    s: Settings,
    vocabulary: Vocabulary,
    templates: Vec<Template>,
    buckets: FxHashMap<(usize, Tok), Vec<TemplateId>>,
    /// Scratch space for a line's tokens and a masked token.
    line: Vec<Tok>,
    masked: String,
}

impl Drain {
    /// A parser with these settings.
    pub fn new(s: Settings) -> Self {
        Self {
            s,
            ..Self::default()
        }
    }

    /// Splits `line` into `self.line`: values masked, runs of wildcards collapsed, a unit
    /// after a value made part of it (`1.2 KB,` is `<*>,`).
    fn tokenize(&mut self, line: &str) {
        self.line.clear();
        for t in line.split_ascii_whitespace() {
            if self.line.last() == Some(&WILD)
                && let Some(rest) = unit(t)
            {
                if !rest.is_empty() {
                    self.masked.clear();
                    self.masked.push_str(WILDCARD);
                    self.masked.push_str(rest);
                    let id = self.vocabulary.id(&self.masked);
                    if let Some(last) = self.line.last_mut() {
                        *last = id;
                    }
                }
                continue;
            }
            let id = if mask_into(t, &mut self.masked) {
                self.vocabulary.id(&self.masked)
            } else {
                self.vocabulary.id(t)
            };
            if id == WILD && self.line.last() == Some(&WILD) {
                continue;
            }
            self.line.push(id);
        }
    }

    fn compare(&self, template: &[Tok]) -> Comparison {
        let mut c = Comparison {
            same: 0,
            wild: 0,
            words: 0,
            first_word: 0,
        };
        for (i, (&slot, &tok)) in template.iter().zip(&self.line).enumerate() {
            if slot == WILD {
                c.wild += 1;
            } else if slot == tok {
                c.same += 1;
            } else if self.vocabulary.is_word(slot) && self.vocabulary.is_word(tok) {
                if c.words == 0 {
                    c.first_word = i;
                }
                c.words += 1;
            }
        }
        c
    }

    /// Assigns `line` a template, learning from it.
    pub fn add(&mut self, line: &str) -> TemplateId {
        self.tokenize(line);
        let first = self
            .line
            .iter()
            .copied()
            .find(|t| self.vocabulary.is_word(*t))
            .unwrap_or(WILD);
        let key = (self.line.len(), first);
        let n = self.line.len().max(1) as f64;
        let mut best: Option<(f64, usize, TemplateId)> = None;
        let mut variants: Vec<(usize, TemplateId)> = Vec::new();
        let empty = Vec::new();
        let bucket = self.buckets.get(&key).unwrap_or(&empty);
        for &id in bucket {
            let Some(t) = self.templates.get(id as usize) else {
                continue;
            };
            let c = self.compare(&t.tokens);
            let sim = c.same as f64 / n;
            if sim < self.s.similarity {
                continue;
            }
            if c.words == 1 {
                variants.push((c.first_word, id));
            }
            if c.words == 0 && best.is_none_or(|(s, w, _)| sim > s || (sim == s && c.wild > w)) {
                best = Some((sim, c.wild, id));
            }
        }
        let bucket_len = bucket.len();
        if let Some((_, _, id)) = best {
            self.join(id);
            return id;
        }
        // Many templates that differ from this line in the word at one position: it is a
        // variable; they merge.
        if let Some(&(pos, _)) = variants.first() {
            let same_pos: Vec<TemplateId> = variants
                .iter()
                .filter(|(p, _)| *p == pos)
                .map(|(_, id)| *id)
                .collect();
            if same_pos.len() >= self.s.variants {
                return self.merge(key, &same_pos, pos);
            }
        }
        if bucket_len >= self.s.max_per_bucket
            && let Some(&(_, id)) = variants.first()
        {
            self.join(id);
            return id;
        }
        let id = self.templates.len() as TemplateId;
        self.templates.push(Template {
            tokens: self.line.clone(),
            count: 1,
            merged_into: None,
        });
        self.buckets.entry(key).or_default().push(id);
        id
    }

    /// Adds the current line to a template: positions where they differ become wildcards.
    fn join(&mut self, id: TemplateId) {
        if let Some(t) = self.templates.get_mut(id as usize) {
            for (slot, tok) in t.tokens.iter_mut().zip(&self.line) {
                if *slot != *tok {
                    *slot = WILD;
                }
            }
            t.count += 1;
        }
    }

    /// Merges `ids` (templates differing only at `pos`) into the oldest, with a wildcard at
    /// `pos`, and adds the current line to it.
    fn merge(&mut self, key: (usize, Tok), ids: &[TemplateId], pos: usize) -> TemplateId {
        let Some(&keep) = ids.iter().min() else {
            return 0;
        };
        let mut count = 0;
        for &id in ids.iter().filter(|&&id| id != keep) {
            let Some(t) = self.templates.get_mut(id as usize) else {
                continue;
            };
            t.merged_into = Some(keep);
            count += t.count;
            let others = t.tokens.clone();
            if let Some(k) = self.templates.get_mut(keep as usize) {
                for (slot, o) in k.tokens.iter_mut().zip(others) {
                    if *slot != o {
                        *slot = WILD;
                    }
                }
            }
        }
        if let Some(k) = self.templates.get_mut(keep as usize) {
            if let Some(slot) = k.tokens.get_mut(pos) {
                *slot = WILD;
            }
            k.count += count;
        }
        if let Some(b) = self.buckets.get_mut(&key) {
            b.retain(|id| *id == keep || !ids.contains(id));
        }
        self.join(keep);
        keep
    }

    /// The template an id stands for now (following merges).
    pub fn resolve(&self, mut id: TemplateId) -> TemplateId {
        while let Some(next) = self.templates.get(id as usize).and_then(|t| t.merged_into) {
            id = next;
        }
        id
    }

    /// A template's text (following merges), wildcards as `<*>`.
    pub fn text(&self, id: TemplateId) -> Option<String> {
        let t = self.templates.get(self.resolve(id) as usize)?;
        let mut s = String::new();
        for (i, tok) in t.tokens.iter().enumerate() {
            if i > 0 {
                s.push(' ');
            }
            s.push_str(self.vocabulary.word(*tok));
        }
        Some(s)
    }

    /// Lines assigned to a template (following merges).
    pub fn count(&self, id: TemplateId) -> u64 {
        self.templates
            .get(self.resolve(id) as usize)
            .map_or(0, |t| t.count)
    }

    /// How many template ids were ever given (merged ones included).
    pub fn len(&self) -> usize {
        self.templates.len()
    }

    /// Whether no line was seen yet.
    pub fn is_empty(&self) -> bool {
        self.templates.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_of_one_event_share_a_template_and_others_do_not() {
        let mut d = Drain::new(Settings::default());
        let a = d.add("PacketResponder 1 for block blk_38865049064139660 terminating");
        let b = d.add("PacketResponder 0 for block blk_-6952295868487656571 terminating");
        let c = d.add("Receiving block blk_-1608999687919862906 src: /10.250.19.102:54106 dest: /10.250.19.102:50010");
        let e = d.add("PacketResponder 2 for block blk_1 terminating");
        assert_eq!(a, b);
        assert_eq!(a, e);
        assert_ne!(a, c);
        let t = d.text(a);
        assert_eq!(
            t.as_deref(),
            Some("PacketResponder <*> for block <*> terminating")
        );
    }

    #[test]
    fn different_words_are_different_events_until_they_are_many() {
        let mut d = Drain::new(Settings::default());
        let pw = d.add("Failed password for invalid user admin from 1.2.3.4 port 22 ssh2");
        let none = d.add("Failed none for invalid user admin from 1.2.3.4 port 22 ssh2");
        assert_ne!(pw, none);
        // User names: three variants, then a fourth makes the position a variable.
        let users: Vec<TemplateId> = ["root", "guest", "oracle", "test", "pi"]
            .iter()
            .map(|u| d.add(&format!("Invalid user {u} from 10.0.0.{}", u.len())))
            .collect();
        let last = d.resolve(users[4]);
        assert!(users.iter().all(|u| d.resolve(*u) == last), "{users:?}");
        assert_eq!(d.text(last).as_deref(), Some("Invalid user <*> from <*>"));
    }

    #[test]
    fn units_belong_to_their_value() {
        let mut d = Drain::new(Settings::default());
        let a =
            d.add("Block rdd_0_1 stored as bytes in memory (estimated size 16.0 B, free 317.5 KB)");
        let b = d.add(
            "Block broadcast_2 stored as bytes in memory (estimated size 2.1 KB, free 1.2 MB)",
        );
        assert_eq!(a, b);
        assert_eq!(
            d.text(a).as_deref(),
            Some("Block <*> stored as bytes in memory (estimated size <*>, free <*>)")
        );
    }

    #[test]
    fn a_date_over_several_tokens_is_one_value() {
        let mut d = Drain::new(Settings::default());
        let a = d.add("connection from 10.0.0.1 at Sun Jul 10 04:03:14 2005");
        let b = d.add("connection from 10.0.0.2 at 2005-07-10T04:03:14");
        assert_eq!(a, b);
    }
}
