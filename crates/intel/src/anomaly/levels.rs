//! The levels a series has visited lately: values fall into bins whose width is set from the
//! spread of the first points, and a bitmap remembers which bins were visited this week and
//! last week. A value in a bin visited in neither is a level the series has not been at
//! lately, the strongest sign of a change that statistics of the recent past absorb too fast.

use serde::{Deserialize, Serialize};

/// Bins in the bitmap (bins are hashed into it; a handful are used by a typical series).
const WORDS: usize = 64;
/// How long a visit is remembered: this epoch and the one before.
const EPOCH_MS: i64 = 7 * 86_400_000;
/// Bins across the spread of the calibration points.
const LEVELS: f64 = 8.0;

/// Visited levels.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(super) struct Levels {
    /// Points kept until the bins are calibrated.
    learning: Vec<f64>,
    origin: f64,
    /// Bin width; 0 until calibrated.
    width: f64,
    epoch: i64,
    /// Visited bins: this epoch, the one before.
    now: Vec<u64>,
    before: Vec<u64>,
}

fn mix(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

impl Levels {
    /// Bytes of state once calibrated.
    pub(super) fn state_bytes() -> usize {
        2 * WORDS * std::mem::size_of::<u64>()
    }

    /// Takes `x` at `t`; once the bins are calibrated from the first `calibrate` points,
    /// answers whether its level was unvisited lately.
    pub(super) fn visit(&mut self, t: i64, x: f64, calibrate: usize) -> Option<bool> {
        if self.width == 0.0 {
            self.learning.push(x);
            if self.learning.len() < calibrate.max(1) {
                return None;
            }
            let lo = self.learning.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = self
                .learning
                .iter()
                .copied()
                .fold(f64::NEG_INFINITY, f64::max);
            self.origin = lo;
            self.width = ((hi - lo) / LEVELS).max(1e-9 + 1e-3 * lo.abs().max(hi.abs()));
            self.now = vec![0; WORDS];
            self.before = vec![0; WORDS];
            self.epoch = t.div_euclid(EPOCH_MS);
            for v in std::mem::take(&mut self.learning) {
                self.mark(v);
            }
            return None;
        }
        let epoch = t.div_euclid(EPOCH_MS);
        if epoch != self.epoch {
            self.before = if epoch == self.epoch + 1 {
                std::mem::replace(&mut self.now, vec![0; WORDS])
            } else {
                // A long gap: what was visited before it still counts as last seen.
                let mut both = std::mem::replace(&mut self.now, vec![0; WORDS]);
                for (a, b) in both.iter_mut().zip(&self.before) {
                    *a |= b;
                }
                both
            };
            self.epoch = epoch;
        }
        Some(!self.mark(x))
    }

    /// Marks the bin of `x` visited; says whether it was already.
    fn mark(&mut self, x: f64) -> bool {
        let bin = ((x - self.origin) / self.width).floor();
        let bin = if bin.is_finite() {
            bin as i64
        } else {
            i64::MAX
        };
        let i = (mix(bin as u64) % (WORDS as u64 * 64)) as usize;
        let (w, b) = (i / 64, 1u64 << (i % 64));
        let seen = (self.now[w] | self.before[w]) & b != 0;
        self.now[w] |= b;
        seen
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_level_is_new_once_and_forgotten_after_two_epochs() {
        let mut l = Levels::default();
        for i in 0..10 {
            assert_eq!(l.visit(i, f64::from(i as i32 % 5), 10), None);
        }
        assert_eq!(l.visit(11, 2.0, 10), Some(false));
        assert_eq!(l.visit(12, 100.0, 10), Some(true));
        assert_eq!(l.visit(13, 100.0, 10), Some(false));
        assert_eq!(l.visit(EPOCH_MS + 1, 2.0, 10), Some(false));
        assert_eq!(l.visit(EPOCH_MS + 2, 100.0, 10), Some(false));
        // Two epochs on, 100 was last visited an epoch and a half ago: still remembered once
        // through the previous epoch, then gone.
        assert_eq!(l.visit(2 * EPOCH_MS + 1, 2.0, 10), Some(false));
        assert_eq!(l.visit(3 * EPOCH_MS + 1, 100.0, 10), Some(true));
    }
}
