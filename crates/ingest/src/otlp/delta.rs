//! Delta temporality turned into cumulative. Per stream, each delta adds to the running total
//! when it starts at or after the end of the previous one (a gap only means nothing was counted
//! in between, as SDKs skip empty intervals); a point that ends at or before the last is a
//! duplicate and is dropped; a point that starts before the last one ended means the producer
//! restarted, and the total starts again from it. Idle streams expire.

use std::collections::HashMap;

/// Streams idle for longer than this are forgotten.
pub const MAX_IDLE_NS: u64 = 5 * 60 * 1_000_000_000;

#[derive(Debug, Clone)]
struct Stream {
    start: u64,
    last: u64,
    values: Vec<f64>,
    bounds: Vec<f64>,
}

/// Running totals of delta streams.
#[derive(Debug, Default)]
pub struct DeltaState {
    streams: HashMap<u64, Stream>,
}

impl DeltaState {
    /// Adds a delta point `(start, time, values)` of stream `key` (`bounds` identify histogram
    /// layouts); returns the cumulative values, or `None` when the point is older than the last.
    pub fn accumulate(
        &mut self,
        key: u64,
        start: u64,
        time: u64,
        values: &[f64],
        bounds: &[f64],
    ) -> Option<Vec<f64>> {
        match self.streams.get_mut(&key) {
            Some(s) if time <= s.last => None,
            Some(s) if start >= s.last && s.bounds == bounds && s.values.len() == values.len() => {
                for (a, b) in s.values.iter_mut().zip(values) {
                    *a += b;
                }
                s.last = time;
                Some(s.values.clone())
            }
            _ => {
                self.streams.insert(
                    key,
                    Stream {
                        start,
                        last: time,
                        values: values.to_vec(),
                        bounds: bounds.to_vec(),
                    },
                );
                Some(values.to_vec())
            }
        }
    }

    /// Forgets streams whose last point is older than `now - MAX_IDLE_NS`.
    pub fn expire(&mut self, now_ns: u64) {
        self.streams
            .retain(|_, s| s.last + MAX_IDLE_NS >= now_ns && s.start <= s.last);
    }

    /// Streams tracked.
    pub fn len(&self) -> usize {
        self.streams.len()
    }

    /// True when no stream is tracked.
    pub fn is_empty(&self) -> bool {
        self.streams.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_add_up_across_gaps_and_restart_on_overlap() {
        let mut d = DeltaState::default();
        assert_eq!(d.accumulate(1, 0, 10, &[5.0], &[]), Some(vec![5.0]));
        assert_eq!(d.accumulate(1, 10, 20, &[2.0], &[]), Some(vec![7.0]));
        assert_eq!(
            d.accumulate(1, 10, 20, &[2.0], &[]),
            None,
            "a repeated point is dropped"
        );
        assert_eq!(
            d.accumulate(1, 25, 30, &[1.0], &[]),
            Some(vec![8.0]),
            "a gap only means nothing was counted"
        );
        assert_eq!(
            d.accumulate(1, 28, 40, &[4.0], &[]),
            Some(vec![4.0]),
            "an overlapping start means a restart"
        );
        assert_eq!(
            d.accumulate(2, 0, 10, &[1.0, 2.0], &[1.0]),
            Some(vec![1.0, 2.0])
        );
        assert_eq!(
            d.accumulate(2, 10, 20, &[1.0, 2.0], &[5.0]),
            Some(vec![1.0, 2.0]),
            "new bucket layout restarts"
        );
        d.expire(20 + MAX_IDLE_NS + 1);
        assert_eq!(d.len(), 1);
    }
}
