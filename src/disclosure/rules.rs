//! Primary sensitivity rules for one cell, over the contributions the caller may not see
//! individually (what statistical offices call the cell's contributors; contributions the caller
//! knows anyway protect nothing and are left out).
//!
//! - threshold (frequency) rule: fewer than k contributors is unsafe;
//! - p% rule: unsafe when the second-largest contributor could estimate the largest within p%,
//!   i.e. when `p·x1 − (T − x1 − x2) > 0` (Hundepool et al. 2012, §4.2.2; τ-ARGUS);
//! - (n,k) dominance: unsafe when the n largest hold more than k% of the total.

/// How strong a magnitude rule is; the sensitivity measure is positive for unsafe cells.
///
/// `p` is a fraction (0.10 for the 10% rule).
pub fn p_percent_sensitivity(contributions: &[f64], p: f64) -> f64 {
    let (x1, x2, total) = top_two(contributions);
    p * x1 - (total - x1 - x2)
}

/// The p% rule: true when the cell is unsafe.
pub fn p_percent_unsafe(contributions: &[f64], p: f64) -> bool {
    p_percent_sensitivity(contributions, p) > 1e-9 * (1.0 + contributions.iter().sum::<f64>())
}

/// The (n,k) dominance rule: true when the `n` largest contributions hold more than `k` (a
/// fraction, 0.85 for 85%) of the total.
pub fn dominance_unsafe(contributions: &[f64], n: usize, k: f64) -> bool {
    let total: f64 = contributions.iter().sum();
    if total <= 0.0 {
        return false;
    }
    let mut sorted = contributions.to_vec();
    sorted.sort_by(|a, b| b.total_cmp(a));
    let top: f64 = sorted.iter().take(n).sum();
    top > k * total * (1.0 + 1e-12)
}

/// The threshold rule: a cell with hidden contributions needs at least `k` contributors.
pub fn threshold_unsafe(contributors: usize, k: usize) -> bool {
    contributors > 0 && contributors < k
}

fn top_two(contributions: &[f64]) -> (f64, f64, f64) {
    let (mut x1, mut x2, mut total) = (0.0f64, 0.0f64, 0.0f64);
    for &x in contributions {
        total += x;
        if x > x1 {
            x2 = x1;
            x1 = x;
        } else if x > x2 {
            x2 = x;
        }
    }
    (x1, x2, total)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Worked examples with known verdicts. The p% rule as defined in Hundepool et al. (2012),
    // Statistical Disclosure Control, §4.2.2, and in the τ-ARGUS manual: a cell is unsafe when
    // p/100·x1 − (T − x1 − x2) > 0, T the cell total, x1 ≥ x2 the two largest contributions.

    #[test]
    fn p_percent_rule_on_textbook_cells() {
        // T = 100 = 80 + 15 + 5: the second-largest (15) knows 80 + 5 = 85 of the rest, and
        // estimates x1 = 100 − 15 − (others ≥ 0) ≤ 85 within 5 of the true 80: 6.25% < 10%.
        assert!(p_percent_unsafe(&[80.0, 15.0, 5.0], 0.10));
        assert!((p_percent_sensitivity(&[80.0, 15.0, 5.0], 0.10) - 3.0).abs() < 1e-12);
        // T = 100 = 50 + 30 + 20: the rest (20) is 40% of x1: safe.
        assert!(!p_percent_unsafe(&[50.0, 30.0, 20.0], 0.10));
        assert!((p_percent_sensitivity(&[50.0, 30.0, 20.0], 0.10) + 15.0).abs() < 1e-12);
        // Exactly at the boundary (rest = 10% of x1) is safe.
        assert!(!p_percent_unsafe(&[100.0, 50.0, 10.0], 0.10));
        // One or two contributors are always unsafe by the p% rule (the rest is empty).
        assert!(p_percent_unsafe(&[10.0], 0.10));
        assert!(p_percent_unsafe(&[10.0, 10.0], 0.10));
        // Order does not matter.
        assert_eq!(
            p_percent_unsafe(&[5.0, 80.0, 15.0], 0.10),
            p_percent_unsafe(&[80.0, 15.0, 5.0], 0.10)
        );
        // All zero: nothing to estimate.
        assert!(!p_percent_unsafe(&[0.0, 0.0, 0.0], 0.10));
    }

    /// The τ-ARGUS manual's holding example (manual 4.1, pp. 93-94): reporting units 700, 200,
    /// 60, 40, 10 are safe (10 + 60 + 40 = 110 exceeds 10% of 700), but as enterprise groups
    /// (900 = 700 + 200, 60, 40, 10) the cell is unsafe with protection level 40; and the
    /// handbook's examples 1 (x1 = 50,000, x2 = 49,000 of 100,000: unsafe, level 4,000) and 2
    /// (52,000 and 50,000 of 110,000: safe).
    #[test]
    fn p_percent_rule_on_the_manual_and_handbook_examples() {
        assert!(!p_percent_unsafe(&[700.0, 200.0, 60.0, 40.0, 10.0], 0.10));
        assert!(
            (p_percent_sensitivity(&[700.0, 200.0, 60.0, 40.0, 10.0], 0.10) + 40.0).abs() < 1e-9
        );
        assert!(p_percent_unsafe(&[900.0, 60.0, 40.0, 10.0], 0.10));
        assert!((p_percent_sensitivity(&[900.0, 60.0, 40.0, 10.0], 0.10) - 40.0).abs() < 1e-9);
        assert!(p_percent_unsafe(&[50_000.0, 49_000.0, 1_000.0], 0.10));
        assert!(
            (p_percent_sensitivity(&[50_000.0, 49_000.0, 1_000.0], 0.10) - 4_000.0).abs() < 1e-6
        );
        assert!(!p_percent_unsafe(&[52_000.0, 50_000.0, 8_000.0], 0.10));
    }

    #[test]
    fn dominance_rule_on_textbook_cells() {
        // (2, 85): the two largest hold 95 of 100.
        assert!(dominance_unsafe(&[80.0, 15.0, 5.0], 2, 0.85));
        // 50 + 30 = 80 of 100: safe.
        assert!(!dominance_unsafe(&[50.0, 30.0, 20.0], 2, 0.85));
        // Exactly 85%: safe (more than k% is unsafe).
        assert!(!dominance_unsafe(&[45.0, 40.0, 15.0], 2, 0.85));
    }

    #[test]
    fn threshold_rule() {
        assert!(threshold_unsafe(1, 3));
        assert!(threshold_unsafe(2, 3));
        assert!(!threshold_unsafe(3, 3));
        assert!(!threshold_unsafe(0, 3), "an empty cell hides nothing");
    }
}
