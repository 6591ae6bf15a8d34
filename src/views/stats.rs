//! Pooling figures the way each kind requires, and distributions of per-organisation values.

use crate::catalogue::Kind;

/// The additive components of a set of figures; pooling is exact and order-independent.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Acc {
    /// Sum of values (flows, stocks, amounts).
    pub sum: f64,
    pub numerator: i64,
    pub denominator: i64,
    /// Sum of value x weight (surveys: respondents; means: cases).
    pub weighted: f64,
    /// Sum of weights.
    pub weight: i64,
    /// Number of figures behind it.
    pub figures: usize,
}

impl Acc {
    pub fn add_figure(
        &mut self,
        kind: Kind,
        value: Option<f64>,
        numerator: Option<i64>,
        denominator: Option<i64>,
        respondents: Option<i64>,
        cases: Option<i64>,
    ) {
        self.figures += 1;
        match kind {
            Kind::Flow | Kind::Stock | Kind::Amount => self.sum += value.unwrap_or(0.0),
            Kind::Ratio => {
                self.numerator += numerator.unwrap_or(0);
                self.denominator += denominator.unwrap_or(0);
            }
            Kind::Survey => {
                let n = respondents.unwrap_or(0);
                self.weighted += value.unwrap_or(0.0) * n as f64;
                self.weight += n;
            }
            Kind::MeanDuration => {
                let c = cases.unwrap_or(0);
                self.weighted += value.unwrap_or(0.0) * c as f64;
                self.weight += c;
            }
        }
    }

    pub fn merge(&mut self, other: &Acc) {
        self.sum += other.sum;
        self.numerator += other.numerator;
        self.denominator += other.denominator;
        self.weighted += other.weighted;
        self.weight += other.weight;
        self.figures += other.figures;
    }

    /// The pooled value: sum; sum(num)/sum(den) in percent; or the weighted mean.
    pub fn value(&self, kind: Kind) -> Option<f64> {
        if self.figures == 0 {
            return None;
        }
        match kind {
            Kind::Flow | Kind::Stock | Kind::Amount => Some(tidy_sum(self.sum)),
            Kind::Ratio => (self.denominator > 0)
                .then(|| 100.0 * self.numerator as f64 / self.denominator as f64),
            Kind::Survey | Kind::MeanDuration => {
                (self.weight > 0).then(|| self.weighted / self.weight as f64)
            }
        }
    }
}

/// A sum of decimal figures without the noise of binary floating point (`429.99999999999994` is
/// `430`): rounded to 12 significant digits, far finer than any figure is reported (a sum of
/// figures with a few decimals is exact at that precision), and independent of the order the
/// partial sums were added in.
pub fn tidy_sum(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let digits = 12 - x.abs().log10().ceil() as i32;
    if !(1..=15).contains(&digits) {
        return x; // beyond 10^12 or below 10^-3: no figure has decimals to restore there
    }
    let scale = 10f64.powi(digits);
    let tidy = (x * scale).round() / scale;
    if tidy.is_finite() { tidy } else { x }
}

/// Distribution of per-organisation values.
#[derive(
    Debug, Clone, PartialEq, serde::Serialize, async_graphql::SimpleObject, utoipa::ToSchema,
)]
#[serde(rename_all = "camelCase")]
pub struct Distribution {
    /// Withheld from teams and the public unless every value behind it is visible to them.
    pub min: Option<f64>,
    pub q1: f64,
    pub median: f64,
    pub q3: f64,
    pub max: Option<f64>,
}

/// Quantile by linear interpolation between order statistics (R type 7, Excel QUARTILE.INC).
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    debug_assert!(!sorted.is_empty());
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

pub fn distribution(values: &[f64]) -> Option<Distribution> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    Some(Distribution {
        min: Some(v[0]),
        q1: quantile(&v, 0.25),
        median: quantile(&v, 0.5),
        q3: quantile(&v, 0.75),
        max: Some(v[v.len() - 1]),
    })
}

/// Percentile rank of `x` among `others`: share below plus half the ties, in percent.
pub fn percentile_rank(x: f64, others: &[f64]) -> Option<f64> {
    if others.is_empty() {
        return None;
    }
    let below = others.iter().filter(|v| **v < x).count() as f64;
    let ties = others.iter().filter(|v| **v == x).count() as f64;
    Some(100.0 * (below + 0.5 * ties) / others.len() as f64)
}

#[cfg(test)]
mod tidy_tests {
    use super::tidy_sum;

    #[test]
    fn sums_lose_floating_point_noise_and_nothing_else() {
        assert_eq!(tidy_sum(429.99999999999994), 430.0);
        assert_eq!(tidy_sum(0.1 + 0.2), 0.3);
        assert_eq!(tidy_sum(42.5), 42.5);
        assert_eq!(tidy_sum(-17.25), -17.25);
        assert_eq!(tidy_sum(1_234_567.89), 1_234_567.89);
        assert_eq!(tidy_sum(0.0), 0.0);
        assert_eq!(tidy_sum(123_456_789_012_345.0), 123_456_789_012_345.0);
        assert_eq!(tidy_sum(1e-300), 1e-300);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pooled_survey_is_weighted_by_respondents() {
        // The study's helpfulness figures per team type.
        let mut acc = Acc::default();
        for (pct, n) in [(80.0, 2874), (71.0, 967), (74.0, 1939)] {
            acc.add_figure(Kind::Survey, Some(pct), None, None, Some(n), None);
        }
        let v = acc.value(Kind::Survey).unwrap();
        assert!((v - 442_063.0 / 5_780.0).abs() < 1e-9, "{v}");
        assert_eq!(acc.weight, 5780);
    }

    #[test]
    fn ratios_pool_numerators_and_denominators_not_percentages() {
        let mut acc = Acc::default();
        acc.add_figure(Kind::Ratio, None, Some(1), Some(2), None, None); // 50%
        acc.add_figure(Kind::Ratio, None, Some(10), Some(100), None, None); // 10%
        assert!((acc.value(Kind::Ratio).unwrap() - 1100.0 / 102.0).abs() < 1e-9);
    }

    #[test]
    fn quartiles_interpolate() {
        let d = distribution(&[4.0, 1.0, 3.0, 2.0]).unwrap();
        assert_eq!((d.q1, d.median, d.q3), (1.75, 2.5, 3.25));
        assert_eq!(d.min, Some(1.0));
        assert_eq!(percentile_rank(3.0, &[1.0, 2.0, 3.0, 4.0]), Some(62.5));
    }
}
