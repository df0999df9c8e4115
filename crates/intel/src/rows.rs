//! Feature rows of a training set, stored compactly: one flat buffer of `f32`, the same number
//! of features in every row. Millions of windows of a few hundred features each fit in half
//! the memory `f64` rows take; a forest only ever compares a feature with the cut points of
//! its bins, which single precision resolves as well.

use crate::IntelError;

/// Rows of equally many features.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Rows {
    width: usize,
    data: Vec<f32>,
}

impl Rows {
    /// No rows yet; the first row pushed sets the width.
    pub fn new() -> Self {
        Self::default()
    }

    /// No rows yet, room for `rows` rows of `width` features.
    pub fn with_capacity(rows: usize, width: usize) -> Self {
        Self {
            width,
            data: Vec::with_capacity(rows * width),
        }
    }

    /// Appends a row; it must be as wide as the rows before it.
    pub fn push(&mut self, row: &[f64]) -> Result<(), IntelError> {
        self.check_width(row.len())?;
        // Single precision is how rows are kept (see the module's note).
        self.data.extend(row.iter().map(|&v| v as f32));
        Ok(())
    }

    /// Appends `other`'s rows.
    pub fn extend(&mut self, other: Rows) -> Result<(), IntelError> {
        if other.is_empty() {
            return Ok(());
        }
        self.check_width(other.width)?;
        self.data.extend(other.data);
        Ok(())
    }

    fn check_width(&mut self, width: usize) -> Result<(), IntelError> {
        if self.data.is_empty() && self.width == 0 {
            self.width = width;
        }
        if width != self.width {
            return Err(IntelError::Data(format!(
                "a row of {width} features among rows of {}",
                self.width
            )));
        }
        Ok(())
    }

    /// Rows held.
    pub fn len(&self) -> usize {
        self.data.len().checked_div(self.width).unwrap_or(0)
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Features per row.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Row `i`; empty past the end.
    pub fn row(&self, i: usize) -> &[f32] {
        let w = self.width;
        self.data.get(i * w..(i + 1) * w).unwrap_or(&[])
    }

    /// Row `i` in double precision, as scoring takes it.
    pub fn row_f64(&self, i: usize) -> Vec<f64> {
        self.row(i).iter().map(|&v| f64::from(v)).collect()
    }

    /// The rows in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &[f32]> + '_ {
        self.data.chunks_exact(self.width.max(1))
    }

    /// The rows in order, to change in place.
    pub fn iter_mut(&mut self) -> impl ExactSizeIterator<Item = &mut [f32]> + '_ {
        self.data.chunks_exact_mut(self.width.max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_keep_their_width() {
        let mut r = Rows::new();
        assert!(r.is_empty());
        r.push(&[1.0, 2.5]).expect("first row");
        r.push(&[f64::NAN, -3.0]).expect("second row");
        assert_eq!((r.len(), r.width()), (2, 2));
        assert_eq!(r.row(0), &[1.0, 2.5]);
        assert!(r.row(1)[0].is_nan());
        assert_eq!(r.row_f64(1)[1], -3.0);
        assert!(r.row(2).is_empty());
        let err = r.push(&[1.0]).expect_err("narrower row");
        assert!(
            err.to_string().contains("1 features among rows of 2"),
            "{err}"
        );
        assert_eq!(r.len(), 2, "a refused row changes nothing");
        let mut more = Rows::with_capacity(1, 2);
        more.push(&[7.0, 8.0]).expect("row");
        r.extend(more).expect("same width");
        assert_eq!(r.iter().map(|x| x[0]).collect::<Vec<_>>().len(), 3);
        r.iter_mut().for_each(|x| x[1] = 0.0);
        assert_eq!(r.row(2), &[7.0, 0.0]);
        let mut wide = Rows::new();
        wide.push(&[1.0, 2.0, 3.0]).expect("row");
        assert!(r.extend(wide).is_err());
        assert!(r.extend(Rows::new()).is_ok(), "no rows fit anywhere");
    }
}
