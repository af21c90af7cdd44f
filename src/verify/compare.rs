//! Streaming comparison of two tensors: both sides decoded chunk by chunk to `f64`, with the
//! sums of the metrics accumulated in `f64`, so memory is two chunks whatever the size.
//!
//! Metrics, over elements where both values are numbers:
//! * `max_abs`: the largest |a − b|;
//! * `rel_l2`: ||a − b|| / ||a||, `a` the reference (0 when both are zero vectors, infinite
//!   when only the reference is);
//! * `cosine`: a·b / (||a|| ||b||) (1 when both are zero vectors, 0 when only one is).
//!
//! NaN: a NaN at the same element on both sides is equal there, and left out of the sums; a
//! NaN on one side only makes the tensor `different` whatever the tolerance, with the element
//! named. Infinities: the same infinity on both sides is equal; otherwise the difference is
//! infinite and so is `max_abs`.

use std::io;
use std::path::Path;

use super::tensors::{TensorInfo, Values};
use super::tolerance::Tolerance;

/// How one tensor pair compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TensorVerdict {
    /// Every value equal, same shape and dtype.
    Equal,
    /// Same shape, values within every tolerance.
    Within,
    Different,
}

/// The figures of one comparison.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Metrics {
    pub max_abs: f64,
    pub rel_l2: f64,
    pub cosine: f64,
    /// Values that differ (NaN pairs counted equal).
    pub differing: u64,
    /// The first element where a NaN is on one side only.
    pub lone_nan: Option<u64>,
}

/// Streams both tensors' values and returns their metrics. The shapes must already agree.
#[allow(clippy::too_many_arguments)]
pub fn compare(
    reference: (&TensorInfo, &super::tensors::DataRef, &Path),
    candidate: (&TensorInfo, &super::tensors::DataRef, &Path),
    elements: u64,
    chunk: usize,
) -> io::Result<Metrics> {
    let mut a_values = Values::open(reference.0, reference.1)?;
    let mut b_values = Values::open(candidate.0, candidate.1)?;
    let (mut a, mut b) = (Vec::with_capacity(chunk), Vec::with_capacity(chunk));
    let mut sums = Sums::default();
    let mut done = 0u64;
    while done < elements {
        let want = chunk.min((elements - done) as usize);
        a_values.next_chunk(want, &mut a, reference.2)?;
        b_values.next_chunk(want, &mut b, candidate.2)?;
        if a.len() != b.len() || a.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "tensor data ends before its header says",
            ));
        }
        sums.add(&a, &b, done);
        done += a.len() as u64;
    }
    Ok(sums.metrics())
}

#[derive(Default)]
struct Sums {
    aa: f64,
    bb: f64,
    ab: f64,
    dd: f64,
    max_abs: f64,
    differing: u64,
    lone_nan: Option<u64>,
}

impl Sums {
    fn add(&mut self, a: &[f64], b: &[f64], first: u64) {
        for (index, (&x, &y)) in a.iter().zip(b).enumerate() {
            if x.is_nan() || y.is_nan() {
                if x.is_nan() != y.is_nan() {
                    self.differing += 1;
                    self.lone_nan.get_or_insert(first + index as u64);
                }
                continue;
            }
            // The same infinity on both sides is equal (inf − inf would be NaN).
            let diff = if x == y { 0.0 } else { x - y };
            if diff != 0.0 {
                self.differing += 1;
            }
            self.max_abs = self.max_abs.max(diff.abs());
            self.dd += diff * diff;
            self.aa += x * x;
            self.bb += y * y;
            self.ab += x * y;
        }
    }

    fn metrics(&self) -> Metrics {
        let (norm_a, norm_b) = (self.aa.sqrt(), self.bb.sqrt());
        let rel_l2 = if self.dd == 0.0 {
            0.0
        } else if norm_a == 0.0 {
            f64::INFINITY
        } else {
            self.dd.sqrt() / norm_a
        };
        let cosine = match (norm_a == 0.0, norm_b == 0.0) {
            (true, true) => 1.0,
            (true, false) | (false, true) => 0.0,
            // Rounding can carry the quotient a hair past ±1.
            _ => (self.ab / (norm_a * norm_b)).clamp(-1.0, 1.0),
        };
        Metrics {
            max_abs: self.max_abs,
            rel_l2,
            cosine,
            differing: self.differing,
            lone_nan: self.lone_nan,
        }
    }
}

/// The verdict of a tensor pair with these metrics; `same_dtype` false makes `equal` values
/// `within` at best (the bytes differ).
pub fn judge(metrics: &Metrics, tolerance: &Tolerance, same_dtype: bool) -> TensorVerdict {
    if metrics.lone_nan.is_some() {
        TensorVerdict::Different
    } else if metrics.differing == 0 && same_dtype {
        TensorVerdict::Equal
    } else if metrics.differing == 0
        || tolerance.admits(metrics.max_abs, metrics.rel_l2, metrics.cosine)
    {
        TensorVerdict::Within
    } else {
        TensorVerdict::Different
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metrics(a: &[f64], b: &[f64]) -> Metrics {
        let mut sums = Sums::default();
        sums.add(a, b, 0);
        sums.metrics()
    }

    #[test]
    fn figures_by_hand() {
        // a = (3, 4), b = (3, 5): ||a|| = 5, ||a − b|| = 1, a·b = 29, ||b|| = sqrt(34).
        let m = metrics(&[3.0, 4.0], &[3.0, 5.0]);
        assert_eq!(m.max_abs, 1.0);
        assert_eq!(m.rel_l2, 0.2);
        assert!((m.cosine - 29.0 / (5.0 * 34f64.sqrt())).abs() < 1e-15);
        assert_eq!(m.differing, 1);
    }

    #[test]
    fn nan_pairs_are_equal_and_lone_nans_differ() {
        let m = metrics(&[f64::NAN, 1.0], &[f64::NAN, 1.0]);
        assert_eq!((m.differing, m.lone_nan), (0, None));
        let m = metrics(&[1.0, 2.0], &[1.0, f64::NAN]);
        assert_eq!(m.lone_nan, Some(1));
        let tolerance = Tolerance {
            max_abs: f64::INFINITY,
            rel_l2: f64::INFINITY,
            cosine: -1.0,
        };
        assert_eq!(judge(&m, &tolerance, true), TensorVerdict::Different);
    }

    #[test]
    fn zero_vectors() {
        let m = metrics(&[0.0, 0.0], &[0.0, 0.0]);
        assert_eq!((m.rel_l2, m.cosine), (0.0, 1.0));
        let m = metrics(&[0.0], &[1.0]);
        assert_eq!((m.rel_l2, m.cosine), (f64::INFINITY, 0.0));
    }

    #[test]
    fn same_infinity_is_equal() {
        let m = metrics(&[f64::INFINITY], &[f64::INFINITY]);
        assert_eq!((m.differing, m.max_abs), (0, 0.0));
        let m = metrics(&[f64::INFINITY], &[1.0]);
        assert_eq!(m.max_abs, f64::INFINITY);
    }
}
