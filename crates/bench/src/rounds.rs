//! Rounds of alternating slices and their paired ratios, shared by the benchmarks whose
//! target is a ratio of two throughputs (`bench http`, `bench api`, `bench rls`).
//!
//! The shared machine changes speed on a scale of seconds. Within a round, the members
//! being compared take turns in short slices, so slices a few seconds apart see the same
//! machine, and the ratio of one round's two figures cancels the machine's swings that
//! the ratio of two medians, taken from different rounds, does not.

use std::future::Future;
use std::time::Duration;

use crate::common::median;

/// How a round's `duration` per member is cut into slices of about 2 s: the number of
/// slices and the length of each.
pub(crate) fn slices(duration: Duration) -> (u32, Duration) {
    let count = u32::try_from(duration.as_secs().div_ceil(2).max(1)).unwrap_or(1);
    (count, duration / count)
}

/// Runs `members` measures in turn, `slices` times over (member 0, 1, …, then 0, 1, …
/// again); returns each member's slice results, in order.
pub(crate) async fn alternate<T, F, Fut>(
    members: usize,
    slices: u32,
    mut measure: F,
) -> Result<Vec<Vec<T>>, String>
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let mut parts: Vec<Vec<T>> = (0..members).map(|_| Vec::new()).collect();
    for _ in 0..slices {
        for (member, part) in parts.iter_mut().enumerate() {
            part.push(measure(member).await?);
        }
    }
    Ok(parts)
}

/// `a / b`, NaN when `b` is not positive.
pub(crate) fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { f64::NAN }
}

/// `met` or `MISSED`.
pub(crate) fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "MISSED" }
}

/// The per-round ratios of `ours` to `base` (the two figures of one round), and their
/// median.
pub(crate) struct Paired {
    pub(crate) per_round: Vec<f64>,
    pub(crate) median: f64,
}

impl Paired {
    pub(crate) fn new(base: &[f64], ours: &[f64]) -> Self {
        let per_round: Vec<f64> = base.iter().zip(ours).map(|(b, o)| ratio(*o, *b)).collect();
        let median = median(&mut per_round.clone());
        Self { per_round, median }
    }

    /// Prints `LABEL = 0.882 (medians of the columns); per round 0.870, 0.931, median
    /// 0.878 (target >= 0.85: met)`; the target needs both ratios. Returns whether it was
    /// met.
    pub(crate) fn print_target(&self, label: &str, columns: f64, target: f64) -> bool {
        let per_round: Vec<String> = self.per_round.iter().map(|r| format!("{r:.3}")).collect();
        let met = self.median >= target && columns >= target;
        println!(
            "{label} = {columns:.3} (medians of the columns); per round {}, median {:.3} (target >= {target}: {})",
            per_round.join(", "),
            self.median,
            verdict(met)
        );
        met
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::time::Duration;

    #[test]
    fn slices_of_about_two_seconds() {
        assert_eq!(
            super::slices(Duration::from_secs(10)),
            (5, Duration::from_secs(2))
        );
        assert_eq!(
            super::slices(Duration::from_secs(1)),
            (1, Duration::from_secs(1))
        );
        assert_eq!(
            super::slices(Duration::from_millis(500)),
            (1, Duration::from_millis(500))
        );
    }

    #[test]
    fn members_alternate() {
        let order = std::cell::RefCell::new(Vec::new());
        let parts = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(super::alternate(2, 3, |member| {
                order.borrow_mut().push(member);
                async move { Ok::<_, String>(member * 10) }
            }))
            .unwrap();
        assert_eq!(*order.borrow(), [0, 1, 0, 1, 0, 1]);
        assert_eq!(parts, [vec![0, 0, 0], vec![10, 10, 10]]);
    }

    #[test]
    fn paired_ratios() {
        let paired = super::Paired::new(&[100.0, 200.0, 50.0], &[90.0, 160.0, 50.0]);
        assert_eq!(paired.per_round, [0.9, 0.8, 1.0]);
        assert_eq!(paired.median, 0.9);
    }
}
