//! Medians and quartiles.

use serde::{Deserialize, Serialize};

/// The middle of a set of values and the range holding its central half.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// The median.
    pub median: f64,
    /// The first quartile: a quarter of the values are at or below it.
    pub q1: f64,
    /// The third quartile: three quarters of the values are at or below it.
    pub q3: f64,
}

/// Median and quartiles of `values`, interpolating between neighbours (the
/// method spreadsheets and NumPy use by default). NaN for no values.
pub fn summarize(values: &[f64]) -> Summary {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    Summary {
        median: quantile(&sorted, 0.5),
        q1: quantile(&sorted, 0.25),
        q3: quantile(&sorted, 0.75),
    }
}

/// The `q`-quantile of sorted values.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let Some(last) = sorted.len().checked_sub(1) else {
        return f64::NAN;
    };
    let position = q * last as f64;
    // `position` is within 0..=last, so the casts cannot truncate.
    let below = position.floor() as usize;
    let above = position.ceil() as usize;
    let weight = position - below as f64;
    sorted[below] + (sorted[above] - sorted[below]) * weight
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_and_even_counts() {
        assert_eq!(summarize(&[3.0, 1.0, 2.0]).median, 2.0);
        assert_eq!(summarize(&[4.0, 1.0, 3.0, 2.0]).median, 2.5);
    }

    #[test]
    fn quartiles_interpolate() {
        let summary = summarize(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!((summary.q1, summary.median, summary.q3), (2.0, 3.0, 4.0));
        let summary = summarize(&[10.0, 20.0]);
        assert_eq!((summary.q1, summary.q3), (12.5, 17.5));
    }

    #[test]
    fn no_values_give_nan() {
        assert!(summarize(&[]).median.is_nan());
    }
}
