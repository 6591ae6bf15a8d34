//! Numbers as people read them: Dutch notation by default (`76,5%`, `1.234`), English with
//! `?lang=en` (`76.5%`, `1,234`).

use super::Lang;
use crate::catalogue::Unit;

/// `value` with `decimals` decimals and thousands separators in the page's language.
pub fn number(value: f64, decimals: usize, lang: Lang) -> String {
    let (thousands, decimal) = match lang {
        Lang::Nl => ('.', ','),
        Lang::En => (',', '.'),
    };
    let text = format!("{:.*}", decimals, value.abs());
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let mut grouped = String::with_capacity(int.len() + int.len() / 3);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(thousands);
        }
        grouped.push(c);
    }
    let negative = value < 0.0 && text.chars().any(|c| c.is_ascii_digit() && c != '0');
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    out.push_str(&grouped);
    if !frac.is_empty() {
        out.push(decimal);
        out.push_str(frac);
    }
    out
}

/// How many decimals a value of this unit is shown with.
pub fn decimals(unit: Unit) -> usize {
    match unit {
        Unit::Count => 0,
        Unit::Percent | Unit::Days | Unit::Fte => 1,
        Unit::Euro => 0,
        Unit::EuroPerResident => 2,
    }
}

/// A value of an indicator with its unit: `76,5%`, `1.234`, `12,3 dagen`, `€ 1.234`.
pub fn value(v: f64, unit: Unit, lang: Lang) -> String {
    let n = number(v, decimals(unit), lang);
    match (unit, lang) {
        (Unit::Percent, _) => format!("{n}%"),
        (Unit::Count, _) => n,
        (Unit::Days, Lang::Nl) => format!("{n} dagen"),
        (Unit::Days, Lang::En) => format!("{n} days"),
        (Unit::Fte, _) => format!("{n} fte"),
        (Unit::Euro | Unit::EuroPerResident, _) => format!("€ {n}"),
    }
}

/// A count of organisations, respondents or cases.
pub fn count(v: i64, lang: Lang) -> String {
    number(v as f64, 0, lang)
}

/// A change on the year before: percentage points for percentages, else percent.
pub fn change(v: f64, points: bool, lang: Lang) -> String {
    let n = number(v, 1, lang);
    let sign = if v > 0.0 && n.chars().any(|c| c.is_ascii_digit() && c != '0') {
        "+"
    } else {
        ""
    };
    match (points, lang) {
        (true, Lang::Nl) => format!("{sign}{n} procentpunt"),
        (true, Lang::En) => format!("{sign}{n} percentage points"),
        (false, _) => format!("{sign}{n}%"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dutch_and_english_notation() {
        assert_eq!(number(1234.0, 0, Lang::Nl), "1.234");
        assert_eq!(number(1234567.891, 1, Lang::Nl), "1.234.567,9");
        assert_eq!(number(76.54, 1, Lang::Nl), "76,5");
        assert_eq!(number(76.54, 1, Lang::En), "76.5");
        assert_eq!(number(1234.0, 0, Lang::En), "1,234");
        assert_eq!(number(-0.04, 1, Lang::Nl), "0,0");
        assert_eq!(number(-1234.5, 1, Lang::Nl), "-1.234,5");
        assert_eq!(number(999.0, 0, Lang::Nl), "999");
        assert_eq!(value(76.5, Unit::Percent, Lang::Nl), "76,5%");
        assert_eq!(value(1234.0, Unit::Count, Lang::Nl), "1.234");
        assert_eq!(change(2.345, true, Lang::Nl), "+2,3 procentpunt");
        assert_eq!(change(-1.0, false, Lang::En), "-1.0%");
    }
}
