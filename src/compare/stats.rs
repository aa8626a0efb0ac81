//! The statistics of a comparison: paired bootstrap intervals, normal-theory p-values, the
//! paired sign-flip permutation test, Holm's correction and sample-size estimates. Distributions come from `statrs`; resampling draws
//! from a seeded ChaCha8 generator, so the same observations always give the same numbers
//! (a replay rescoring a recording reproduces a live run's report exactly).
//!
//! Why these choices (docs/compare.md says more):
//! * **Paired bootstrap over tasks.** Every endpoint answers the same tasks, so the difference
//!   is resampled task by task: the variation the tasks themselves bring (one prompt is hard
//!   for every model) cancels out, and statistics without a simple variance formula (F1,
//!   medians, p90s) get intervals the same way as rates.
//! * **p-values from the bootstrap standard error** (a Wald test, `z = d / se`): with Holm's
//!   correction over tens of tests the thresholds go below what a few thousand resamples can
//!   resolve as percentiles, while the normal tail is smooth there.
//! * **A sign-flip permutation test for quantiles** ([`sign_flip_p`]): the bootstrap's standard
//!   error of a median or p90 of a few dozen tasks is noisy and often too small; swapping the
//!   two answers of a task at random gives an exact test when the endpoints answer alike.
//! * **Holm** (step-down Bonferroni) controls the chance of any false `better` or `worse` in
//!   the whole table at 5%, under any dependence between metrics, and is uniformly more
//!   powerful than Bonferroni.

use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};
use statrs::distribution::{ContinuousCDF, Normal};

/// Resamples of the paired bootstrap of a comparison (a simulation, which only needs the
/// standard error, uses fewer).
pub(crate) const RESAMPLES: usize = 2000;

/// A statistic of one side's observations over a resample (indices into its items).
pub(crate) trait Statistic {
    fn len(&self) -> usize;
    fn stat(&self, idx: &[usize]) -> Option<f64>;
    /// A quantile's values and level, for the sign-flip test ([`sign_flip_p`]); `None` for
    /// other statistics.
    fn quantile_values(&self) -> Option<(&[f64], f64)> {
        None
    }
}

/// The point estimates and bootstrap distribution of `a − b` over paired items.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Paired {
    pub n: usize,
    pub a: f64,
    pub b: f64,
    pub diff: f64,
    /// 95% percentile intervals of `a` and `b`.
    pub a_ci: (f64, f64),
    pub b_ci: (f64, f64),
    /// 95% percentile interval of `a − b`.
    pub diff_ci: (f64, f64),
    /// Bootstrap standard error of `a − b`.
    pub se: f64,
}

/// The standard normal.
fn normal() -> Normal {
    Normal::new(0.0, 1.0).expect("the standard normal is valid")
}

/// The two-sided `1 − alpha` normal quantile.
pub(crate) fn z(alpha: f64) -> f64 {
    normal().inverse_cdf(1.0 - alpha / 2.0)
}

/// One-sided quantile for power `power` (`0.8` → 0.84).
pub(crate) fn z_power(power: f64) -> f64 {
    normal().inverse_cdf(power)
}

/// Two-sided p-value of `diff` with standard error `se`.
pub(crate) fn p_value(diff: f64, se: f64) -> f64 {
    if se <= 0.0 || !se.is_finite() {
        return if diff == 0.0 { 1.0 } else { 0.0 };
    }
    2.0 * (1.0 - normal().cdf((diff / se).abs()))
}

/// The `q` quantile (0..=1) of sorted values, linearly interpolated.
pub(crate) fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// The `q` quantile of unsorted values, as [`quantile_sorted`] would give it after sorting,
/// found by selection in linear time (the values are reordered).
pub(crate) fn quantile_select(v: &mut [f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let pos = q * (v.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let (_, &mut low, above) = v.select_nth_unstable_by(lo, f64::total_cmp);
    if pos == lo as f64 || above.is_empty() {
        return low;
    }
    let high = above.iter().copied().min_by(f64::total_cmp).unwrap_or(low);
    low + (high - low) * (pos - lo as f64)
}

fn interval(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    (quantile_sorted(&v, 0.025), quantile_sorted(&v, 0.975))
}

/// The paired bootstrap of `a − b` (both over the same `n` items), seeded.
pub(crate) fn paired(
    a: &dyn Statistic,
    b: &dyn Statistic,
    seed: u64,
    resamples: usize,
) -> Option<Paired> {
    let n = a.len();
    if n == 0 || b.len() != n {
        return None;
    }
    let all: Vec<usize> = (0..n).collect();
    let (pa, pb) = (a.stat(&all)?, b.stat(&all)?);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut idx = vec![0usize; n];
    let mut sa = Vec::with_capacity(resamples);
    let mut sb = Vec::with_capacity(resamples);
    let mut sd = Vec::with_capacity(resamples);
    for _ in 0..resamples {
        for slot in idx.iter_mut() {
            *slot = rng.random_range(0..n);
        }
        if let (Some(x), Some(y)) = (a.stat(&idx), b.stat(&idx)) {
            sa.push(x);
            sb.push(y);
            sd.push(x - y);
        }
    }
    if sd.is_empty() {
        return None;
    }
    let mean = sd.iter().sum::<f64>() / sd.len() as f64;
    let var = sd.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (sd.len().max(2) - 1) as f64;
    Some(Paired {
        n,
        a: pa,
        b: pb,
        diff: pa - pb,
        a_ci: interval(sa),
        b_ci: interval(sb),
        diff_ci: interval(sd),
        se: var.sqrt(),
    })
}

/// Sign flips of a paired permutation test, for `tests` tests corrected by Holm at 5%: enough
/// that the smallest p-value a Monte Carlo test can give, `1/(R+1)`, sits twenty times below
/// the strictest threshold (`0.05/tests`), and never fewer than [`RESAMPLES`].
pub(crate) fn flips_for(tests: usize) -> usize {
    (20.0 * tests.max(1) as f64 / 0.05)
        .ceil()
        .max(RESAMPLES as f64) as usize
}

/// Two-sided p-value of the paired sign-flip permutation test of `stat(a) − stat(b)`: under
/// the null that the two answers to each task are exchangeable (the same endpoint answering
/// twice), swapping them within a pair leaves the distribution unchanged, so the share of
/// `flips` random swaps whose difference is at least as large as the observed one is an exact
/// p-value (the Monte Carlo `(1 + hits) / (1 + flips)`), whatever the statistic and the sample
/// size. `stat` may reorder its argument (a quantile sorts it).
pub(crate) fn sign_flip_p(
    a: &[f64],
    b: &[f64],
    stat: impl Fn(&mut [f64]) -> f64,
    seed: u64,
    flips: usize,
) -> Option<f64> {
    if a.is_empty() || a.len() != b.len() {
        return None;
    }
    let (mut x, mut y) = (a.to_vec(), b.to_vec());
    let observed = (stat(&mut x) - stat(&mut y)).abs();
    if !observed.is_finite() {
        return None;
    }
    // Ties with the observed difference count as hits (the conservative side), with a
    // tolerance for the rounding of the interpolation.
    let bar = observed - 1e-9 * observed.max(1.0);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut hits = 0usize;
    for _ in 0..flips {
        for (i, (&ai, &bi)) in a.iter().zip(b).enumerate() {
            let (u, v) = if rng.random_bool(0.5) {
                (bi, ai)
            } else {
                (ai, bi)
            };
            x[i] = u;
            y[i] = v;
        }
        if (stat(&mut x) - stat(&mut y)).abs() >= bar {
            hits += 1;
        }
    }
    Some((1 + hits) as f64 / (1 + flips) as f64)
}

/// Holm's step-down adjustment: adjusted p-values in the input order.
pub(crate) fn holm(p: &[f64]) -> Vec<f64> {
    let k = p.len();
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by(|&i, &j| p[i].total_cmp(&p[j]));
    let mut out = vec![1.0; k];
    let mut running: f64 = 0.0;
    for (rank, &i) in order.iter().enumerate() {
        let adj = ((k - rank) as f64 * p[i]).min(1.0);
        running = running.max(adj);
        out[i] = running;
    }
    out
}

/// About how many paired items in all would decide a comparison now at `n` items with
/// difference `diff`, standard error `se` and margin `margin`: enough for the difference to be
/// significant at `alpha` (corrected) with 80% power, or for the 90% interval to fit inside the
/// margin — whichever comes first. `None` when neither can happen.
pub(crate) fn items_to_decide(
    n: usize,
    diff: f64,
    se: f64,
    margin: f64,
    alpha: f64,
) -> Option<usize> {
    if n == 0 || se <= 0.0 || !se.is_finite() {
        return None;
    }
    let zb = z_power(0.8);
    let scale = |need: f64| (n as f64 * need * need).ceil();
    let significant = (diff != 0.0).then(|| scale((z(alpha) + zb) * se / diff.abs()));
    let equivalent =
        (diff.abs() < margin).then(|| scale((z(0.10) + zb) * se / (margin - diff.abs())));
    let best = match (significant, equivalent) {
        (Some(a), Some(b)) => a.min(b),
        (a, b) => a.or(b)?,
    };
    (best.is_finite() && best < 1e9).then_some(best as usize)
}

/// Paired items needed to find a drop `delta` in a rate near `p` (both sides' variance
/// `p(1−p)`, independent answers) significant at `alpha` with `power`.
pub fn recommended_items(p: f64, delta: f64, alpha: f64, power: f64) -> usize {
    let var = p * (1.0 - p) + (p - delta) * (1.0 - p + delta);
    let k = z(alpha) + z_power(power);
    (k * k * var / (delta * delta)).ceil() as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Mean(Vec<f64>);
    impl Statistic for Mean {
        fn len(&self) -> usize {
            self.0.len()
        }
        fn stat(&self, idx: &[usize]) -> Option<f64> {
            Some(idx.iter().map(|&i| self.0[i]).sum::<f64>() / idx.len() as f64)
        }
    }

    #[test]
    fn holm_matches_the_textbook_example() {
        // Holm (1979)-style: p = .01, .04, .03, .005 with k = 4.
        let adj = holm(&[0.01, 0.04, 0.03, 0.005]);
        let want = [0.03, 0.06, 0.06, 0.02];
        for (a, w) in adj.iter().zip(want) {
            assert!((a - w).abs() < 1e-12, "{adj:?}");
        }
    }

    #[test]
    fn the_bootstrap_is_seeded_and_its_interval_covers_the_difference() {
        let a = Mean((0..200).map(|i| f64::from(i % 5 != 0)).collect());
        let b = Mean((0..200).map(|i| f64::from(i % 4 != 0)).collect());
        let x = paired(&a, &b, 9, RESAMPLES).unwrap();
        assert_eq!(x, paired(&a, &b, 9, RESAMPLES).unwrap());
        assert!((x.diff - 0.05).abs() < 1e-12);
        assert!(x.diff_ci.0 < 0.05 && 0.05 < x.diff_ci.1, "{x:?}");
        assert!(x.se > 0.0 && x.se < 0.1);
    }

    fn median(v: &mut [f64]) -> f64 {
        quantile_select(v, 0.5)
    }

    #[test]
    fn selection_gives_the_sorted_quantile() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        for n in [1usize, 2, 3, 10, 41] {
            let v: Vec<f64> = (0..n).map(|_| rng.random::<f64>()).collect();
            let mut sorted = v.clone();
            sorted.sort_by(f64::total_cmp);
            for q in [0.0, 0.1, 0.5, 0.9, 1.0] {
                let mut w = v.clone();
                assert_eq!(
                    quantile_select(&mut w, q),
                    quantile_sorted(&sorted, q),
                    "{n} {q}"
                );
            }
        }
        assert!(quantile_select(&mut [], 0.5).is_nan());
    }

    #[test]
    fn the_sign_flip_test_is_exact_under_exchange_and_finds_a_shift() {
        // Two draws of one distribution per pair: over 200 seeded data sets the test rejects at
        // 5% about 5% of the time (binomial 95% range of 200 draws: 4..17 rejections).
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut draw = |n: usize, shift: f64| -> Vec<f64> {
            (0..n)
                .map(|_| shift + -100.0 * (1.0 - rng.random::<f64>()).ln())
                .collect()
        };
        let rejected = (0..200u64)
            .filter(|&s| {
                let (a, b) = (draw(40, 300.0), draw(40, 300.0));
                sign_flip_p(&a, &b, median, s, 400).unwrap() < 0.05
            })
            .count();
        assert!((4..=17).contains(&rejected), "{rejected} of 200");
        // A doubled time is found.
        let (a, b) = (draw(40, 600.0), draw(40, 300.0));
        assert!(sign_flip_p(&a, &b, median, 1, 2000).unwrap() < 0.001);
        // Seeded; the smallest p-value is 1/(flips+1); empty or unequal sides have none.
        assert_eq!(
            sign_flip_p(&a, &b, median, 1, 2000),
            sign_flip_p(&a, &b, median, 1, 2000)
        );
        assert_eq!(sign_flip_p(&a, &b, median, 1, 99), Some(0.01));
        assert_eq!(sign_flip_p(&a[..3], &b, median, 1, 99), None);
        assert_eq!(flips_for(15), 6000);
        assert_eq!(flips_for(1), RESAMPLES);
    }

    #[test]
    fn p_values_and_sample_sizes_follow_the_normal() {
        assert!((z(0.05) - 1.959964).abs() < 1e-5);
        assert!((p_value(1.959964, 1.0) - 0.05).abs() < 1e-5);
        assert_eq!(p_value(0.0, 0.0), 1.0);
        // The classic: 80% power at 5% for a 0.05 drop from 0.8 needs ~1,100 pairs.
        let n = recommended_items(0.8, 0.05, 0.05, 0.8);
        assert!((1000..1200).contains(&n), "{n}");
        // A comparison that is half-way there needs about four times as many items.
        let more = items_to_decide(100, 0.05, 0.05, 0.01, 0.05).unwrap();
        assert!((700..900).contains(&more), "{more}");
    }
}
