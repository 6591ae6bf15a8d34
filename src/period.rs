//! Reporting periods. CBS period codes (`2021JJ00` year, `2021HJ01` half-year, `2021KW03`
//! quarter, `2021MM05` month) and ISO-like forms (`2021`, `2021-H1`, `2021-Q3`, `2021-05`) are
//! accepted; the CBS code is the canonical stored form.

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

crate::text_enum! {
    /// Granularity of a reporting period.
    pub enum PeriodType {
        /// Calendar year (`2021JJ00`, `2021`).
        Year = "year",
        /// Half-year (`2021HJ01`, `2021-H1`).
        HalfYear = "half_year",
        /// Quarter (`2021KW03`, `2021-Q3`).
        Quarter = "quarter",
        /// Month (`2021MM05`, `2021-05`).
        Month = "month",
    }
}

impl PeriodType {
    /// Number of periods of this type in a year.
    pub fn per_year(self) -> u32 {
        match self {
            PeriodType::Year => 1,
            PeriodType::HalfYear => 2,
            PeriodType::Quarter => 4,
            PeriodType::Month => 12,
        }
    }
    /// Months in one period of this type.
    pub fn months(self) -> u32 {
        12 / self.per_year()
    }
    /// Coarse-to-fine rank: year 0, half-year 1, quarter 2, month 3.
    pub fn rank(self) -> u8 {
        match self {
            PeriodType::Year => 0,
            PeriodType::HalfYear => 1,
            PeriodType::Quarter => 2,
            PeriodType::Month => 3,
        }
    }
}

/// One reporting period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Period {
    pub year: i32,
    pub kind: PeriodType,
    /// 1-based index within the year (always 1 for a year).
    pub index: u32,
}

pub const MIN_YEAR: i32 = 2000;
pub const MAX_YEAR: i32 = 2100;

impl Period {
    pub fn year(year: i32) -> Period {
        Period {
            year,
            kind: PeriodType::Year,
            index: 1,
        }
    }

    pub fn new(year: i32, kind: PeriodType, index: u32) -> Option<Period> {
        if !(MIN_YEAR..=MAX_YEAR).contains(&year) || index == 0 || index > kind.per_year() {
            return None;
        }
        Some(Period { year, kind, index })
    }

    /// Parse a CBS code or an ISO-like form.
    pub fn parse(raw: &str) -> Result<Period, String> {
        let s = raw.trim().to_ascii_uppercase();
        let bad = || {
            format!(
                "{raw:?} is not a period: use a CBS code (2021JJ00, 2021HJ01, 2021KW03, 2021MM05) \
                 or 2021, 2021-H1, 2021-Q3, 2021-05"
            )
        };
        if s.len() < 4 || !s.is_char_boundary(4) {
            return Err(bad());
        }
        let (y, rest) = s.split_at(4);
        if !y.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let year: i32 = y.parse().map_err(|_| bad())?;
        let num = |t: &str| -> Result<u32, String> {
            if t.is_empty() || t.len() > 2 || !t.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            t.parse().map_err(|_| bad())
        };
        let (kind, index) = match rest {
            "" | "JJ00" => (PeriodType::Year, 1),
            _ if rest.starts_with("HJ") => (PeriodType::HalfYear, num(&rest[2..])?),
            _ if rest.starts_with("KW") => (PeriodType::Quarter, num(&rest[2..])?),
            _ if rest.starts_with("MM") => (PeriodType::Month, num(&rest[2..])?),
            _ if rest.starts_with("-H") => (PeriodType::HalfYear, num(&rest[2..])?),
            _ if rest.starts_with("-Q") => (PeriodType::Quarter, num(&rest[2..])?),
            _ if rest.starts_with('Q') => (PeriodType::Quarter, num(&rest[1..])?),
            _ if rest.starts_with('H') => (PeriodType::HalfYear, num(&rest[1..])?),
            _ if rest.starts_with('-') => (PeriodType::Month, num(&rest[1..])?),
            _ => return Err(bad()),
        };
        Period::new(year, kind, index).ok_or_else(|| {
            if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
                format!("{raw:?}: year must be between {MIN_YEAR} and {MAX_YEAR}")
            } else {
                format!(
                    "{raw:?}: a {} index must be between 1 and {}",
                    kind.as_str(),
                    kind.per_year()
                )
            }
        })
    }

    /// Canonical CBS code.
    pub fn code(&self) -> String {
        match self.kind {
            PeriodType::Year => format!("{}JJ00", self.year),
            PeriodType::HalfYear => format!("{}HJ{:02}", self.year, self.index),
            PeriodType::Quarter => format!("{}KW{:02}", self.year, self.index),
            PeriodType::Month => format!("{}MM{:02}", self.year, self.index),
        }
    }

    /// ISO-like label.
    pub fn label(&self) -> String {
        match self.kind {
            PeriodType::Year => format!("{}", self.year),
            PeriodType::HalfYear => format!("{}-H{}", self.year, self.index),
            PeriodType::Quarter => format!("{}-Q{}", self.year, self.index),
            PeriodType::Month => format!("{}-{:02}", self.year, self.index),
        }
    }

    fn first_month(&self) -> u32 {
        (self.index - 1) * self.kind.months() + 1
    }

    /// First day of the period.
    pub fn start(&self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.first_month(), 1).expect("valid period start")
    }

    /// Last day of the period (inclusive).
    pub fn end(&self) -> NaiveDate {
        let last_month = self.first_month() + self.kind.months() - 1;
        let (y, m) = if last_month == 12 {
            (self.year + 1, 1)
        } else {
            (self.year, last_month + 1)
        };
        NaiveDate::from_ymd_opt(y, m, 1)
            .expect("valid date")
            .pred_opt()
            .expect("valid date")
    }

    /// Whether `other` lies within this period (or is this period).
    pub fn contains(&self, other: &Period) -> bool {
        self.start() <= other.start() && other.end() <= self.end()
    }

    /// The period of the same type just before this one.
    pub fn previous(&self) -> Period {
        if self.index > 1 {
            Period {
                index: self.index - 1,
                ..*self
            }
        } else {
            Period {
                year: self.year - 1,
                index: self.kind.per_year(),
                kind: self.kind,
            }
        }
    }

    /// The period of type `kind` that contains the date.
    pub fn containing(date: NaiveDate, kind: PeriodType) -> Period {
        let index = (date.month() - 1) / kind.months() + 1;
        Period {
            year: date.year(),
            kind,
            index,
        }
    }

    pub fn info(&self) -> PeriodInfo {
        PeriodInfo {
            code: self.code(),
            label: self.label(),
            period_type: self.kind,
            start: self.start().into(),
            end: self.end().into(),
        }
    }
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.code())
    }
}

/// A period as shown in responses.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Serialize,
    serde::Deserialize,
    async_graphql::SimpleObject,
    utoipa::ToSchema,
)]
#[serde(rename_all = "camelCase")]
pub struct PeriodInfo {
    /// CBS code, e.g. `2021KW03`.
    pub code: String,
    /// ISO-like label, e.g. `2021-Q3`.
    pub label: String,
    #[serde(rename = "type")]
    #[graphql(name = "type")]
    pub period_type: PeriodType,
    /// First day.
    pub start: crate::dates::Date,
    /// Last day (inclusive).
    pub end: crate::dates::Date,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cbs_and_iso_forms() {
        for (raw, code) in [
            ("2021", "2021JJ00"),
            ("2021JJ00", "2021JJ00"),
            ("2021jj00", "2021JJ00"),
            ("2021-Q3", "2021KW03"),
            ("2021Q3", "2021KW03"),
            ("2021KW03", "2021KW03"),
            ("2021-H2", "2021HJ02"),
            ("2021HJ01", "2021HJ01"),
            ("2021-05", "2021MM05"),
            ("2021MM12", "2021MM12"),
        ] {
            assert_eq!(Period::parse(raw).unwrap().code(), code, "{raw}");
        }
        for bad in [
            "",
            "21",
            "2021-Q5",
            "2021KW00",
            "2021-13",
            "abcd",
            "2021XX01",
            "1999",
            "2021-Q",
            "２０２１",
        ] {
            assert!(Period::parse(bad).is_err(), "{bad} should fail");
        }
    }

    #[test]
    fn bounds_and_containment() {
        let q3 = Period::parse("2021-Q3").unwrap();
        assert_eq!(q3.start().to_string(), "2021-07-01");
        assert_eq!(q3.end().to_string(), "2021-09-30");
        let y = Period::year(2021);
        assert_eq!(y.end().to_string(), "2021-12-31");
        assert!(y.contains(&q3));
        assert!(!q3.contains(&y));
        assert_eq!(
            Period::parse("2021-Q1").unwrap().previous().code(),
            "2020KW04"
        );
        assert_eq!(
            Period::parse("2024-02").unwrap().end().to_string(),
            "2024-02-29"
        );
        assert_eq!(q3.label(), "2021-Q3");
    }
}
