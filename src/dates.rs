//! Moments and calendar days as every transport writes them: one text form in JSON, CSV and
//! GraphQL, and GraphQL scalars that say what that form is (`DateTime`, `Date`) instead of the
//! library's defaults.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

/// A moment, always in UTC.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(transparent)]
#[schema(value_type = String, format = DateTime, example = "2026-11-25T12:00:00.123456Z")]
pub struct Timestamp(pub DateTime<Utc>);

impl Timestamp {
    /// The RFC 3339 text: UTC with a `Z`, fractional seconds only where there are any.
    pub fn rfc3339(&self) -> String {
        self.0.to_rfc3339_opts(SecondsFormat::AutoSi, true)
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(t: DateTime<Utc>) -> Self {
        Timestamp(t)
    }
}

impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.rfc3339())
    }
}

/// A moment in UTC as RFC 3339 text with the `Z` offset and up to microseconds, e.g.
/// `2026-11-25T12:00:00.123456Z`. Input also accepts other offsets (`+01:00`), which are
/// converted to UTC.
#[Scalar(
    name = "DateTime",
    specified_by_url = "https://www.rfc-editor.org/rfc/rfc3339"
)]
impl ScalarType for Timestamp {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => DateTime::parse_from_rfc3339(s)
                .map(|t| Timestamp(t.with_timezone(&Utc)))
                .map_err(|e| InputValueError::custom(format!("not an RFC 3339 moment: {e}"))),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.rfc3339())
    }
}

/// A calendar day without a time or zone.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(transparent)]
#[schema(value_type = String, format = Date, example = "2024-01-01")]
pub struct Date(pub NaiveDate);

impl From<NaiveDate> for Date {
    fn from(d: NaiveDate) -> Self {
        Date(d)
    }
}

impl From<Date> for NaiveDate {
    fn from(d: Date) -> Self {
        d.0
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%d"))
    }
}

/// A calendar day as ISO 8601 text `YYYY-MM-DD`, e.g. `2024-01-01`; no time, no zone. Periods
/// give their first and last day (inclusive) this way.
#[Scalar(
    name = "Date",
    specified_by_url = "https://www.rfc-editor.org/rfc/rfc3339#section-5.6"
)]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(Date)
                .map_err(|e| InputValueError::custom(format!("not a YYYY-MM-DD day: {e}"))),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_are_written_in_utc_with_a_z_the_same_way_in_json_and_graphql() {
        let t = Timestamp(
            DateTime::parse_from_rfc3339("2026-11-25T13:00:00.123456+01:00")
                .unwrap()
                .with_timezone(&Utc),
        );
        assert_eq!(t.rfc3339(), "2026-11-25T12:00:00.123456Z");
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            "\"2026-11-25T12:00:00.123456Z\""
        );
        assert_eq!(
            t.to_value(),
            Value::String("2026-11-25T12:00:00.123456Z".into())
        );
        let back = <Timestamp as ScalarType>::parse(Value::String(
            "2026-11-25T13:00:00.123456+01:00".into(),
        ));
        assert_eq!(back.unwrap(), t);
        assert!(<Timestamp as ScalarType>::parse(Value::String("25-11-2026".into())).is_err());
    }

    #[test]
    fn days_are_iso_text_and_nothing_else() {
        let d = Date(NaiveDate::from_ymd_opt(2024, 1, 1).unwrap());
        assert_eq!(serde_json::to_string(&d).unwrap(), "\"2024-01-01\"");
        assert_eq!(d.to_value(), Value::String("2024-01-01".into()));
        assert_eq!(
            <Date as ScalarType>::parse(Value::String("2024-01-01".into())).unwrap(),
            d
        );
        assert!(<Date as ScalarType>::parse(Value::String("1-1-2024".into())).is_err());
        assert!(<Date as ScalarType>::parse(Value::Number(20240101.into())).is_err());
    }
}
