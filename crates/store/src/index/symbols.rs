//! String interning: every distinct label name and value is stored once.

use foldhash::HashMap;
use std::sync::Arc;

/// Interned strings, addressed by a dense `u32`.
#[derive(Debug, Default)]
pub struct Symbols {
    ids: HashMap<Arc<str>, u32>,
    strings: Vec<Arc<str>>,
}

impl Symbols {
    /// The id of `s`, interning it if new.
    pub fn intern(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = self.strings.len() as u32;
        let a: Arc<str> = Arc::from(s);
        self.strings.push(a.clone());
        self.ids.insert(a, id);
        id
    }

    /// The id of `s`, if interned.
    pub fn get(&self, s: &str) -> Option<u32> {
        self.ids.get(s).copied()
    }

    /// The string of `id`.
    pub fn resolve(&self, id: u32) -> &str {
        self.strings.get(id as usize).map(|s| &**s).unwrap_or("")
    }

    /// Number of distinct strings.
    pub fn len(&self) -> usize {
        self.strings.len()
    }

    /// True when nothing was interned.
    pub fn is_empty(&self) -> bool {
        self.strings.is_empty()
    }
}
