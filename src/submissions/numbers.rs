//! Numbers as people and spreadsheets write them, read **per file**: one file uses one decimal
//! separator, decided from the whole file, and every cell is read with it. Nothing is guessed:
//! a cell that could mean two different numbers is refused (`ambiguous_number`) with its row and
//! column and both readings.
//!
//! The rules (README, "Spreadsheets: the number rules"):
//!
//! - A cell is an optional sign (`-` or `+`), digits with at most one decimal separator and
//!   optional thousands separators, and an optional trailing `%` (ignored: `72%` is 72).
//!   Surrounding spaces are ignored. No exponents (`1e5`), no `NaN` or infinities, no currency.
//! - **Decimal comma** (the file is semicolon separated, as Excel NL saves "CSV (puntkomma
//!   gescheiden)"; or some cell can only be read with a decimal comma, such as `12,5`,
//!   `1.234,5` or `1.000.000`): `,` is the decimal separator and `.` the thousands separator,
//!   which must be followed by groups of exactly three digits after a first group of one to
//!   three: `1.000` = 1000, `12.000` = 12000, `1.234,5` = 1234.5, `1.234.567` = 1234567,
//!   `-1.234,5` = -1234.5, `1,000` = 1. `1.23`, `1.2345` or `12.5` are refused
//!   (`ambiguous_number`): in a decimal-comma file a dot can only group thousands.
//! - **Decimal point** (no semicolons, and some cell can only be read with a decimal point, such
//!   as `12.5`, `0.25` or `1234.567`): `.` is the decimal separator, and a `,` in a number is
//!   refused (`ambiguous_number`): `1,000` could be a thousand or one.
//! - **Undecided** (no semicolons and no cell that decides, or cells deciding both ways): every
//!   cell must be unambiguous on its own. `12,5`, `12.5` and `1.234,5` are; `1.000` and `1,000`
//!   (1000 or 1?) are refused.
//! - Spaces (also the non-breaking and thin spaces Excel and Word insert) may group thousands in
//!   any file, in groups of exactly three digits: `1 234 567`, `1 234,5`. They may not be mixed
//!   with dots or commas as thousands separators.
//!
//! A JSON string holding a number (`"value": "12,5"`) is read like a cell of an undecided file;
//! JSON numbers are typed and never pass through here. Cells of an `.xlsx` upload that Excel
//! stores as numbers need none of this; text cells in an `.xlsx` are read like an undecided
//! file's (an `.xlsx` has no delimiter to tell).

/// A file's decimal separator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decimal {
    /// `,` decimal, `.` (or a space) groups thousands.
    Comma,
    /// `.` decimal; commas refused.
    Point,
    /// Not decided by the file: each cell must be unambiguous on its own.
    Undecided,
}

impl Decimal {
    /// Dutch and English, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Decimal::Comma => {
                "dit bestand gebruikt de decimale komma (punt = duizendtallen) / this file uses \
                 a decimal comma (dots group thousands)"
            }
            Decimal::Point => {
                "dit bestand gebruikt de decimale punt / this file uses a decimal point"
            }
            Decimal::Undecided => {
                "uit dit bestand blijkt niet welk decimaalteken het gebruikt / this file does \
                 not show which decimal separator it uses"
            }
        }
    }
}

/// Why a cell is not a number: a stable code and a message that says what was wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct NumberError {
    pub code: &'static str,
    pub message: String,
}

impl NumberError {
    fn new(code: &'static str, message: impl Into<String>) -> Self {
        NumberError {
            code,
            message: message.into(),
        }
    }
}

fn not_a_number(raw: &str) -> NumberError {
    NumberError::new(
        "not_a_number",
        format!("{raw:?} is geen getal / is not a number"),
    )
}

/// Thousands-grouping spaces: space, no-break space, narrow no-break space, thin space.
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '\u{2009}')
}

/// The cell without sign, percent sign and surrounding spaces; `None` if not number-like.
struct Shape<'a> {
    negative: bool,
    body: &'a str,
}

fn shape(raw: &str) -> Result<Shape<'_>, NumberError> {
    let s = raw.trim_matches(|c: char| c.is_whitespace() || is_space(c));
    let s = s
        .strip_suffix('%')
        .unwrap_or(s)
        .trim_end_matches(|c: char| c.is_whitespace() || is_space(c));
    if s.is_empty() {
        return Err(not_a_number(raw));
    }
    let lower = s.to_ascii_lowercase();
    if lower.contains("nan") || lower.contains("inf") {
        return Err(NumberError::new(
            "not_finite",
            "getal moet eindig zijn / the number must be finite (no NaN or infinity)",
        ));
    }
    let (negative, body) = match s.as_bytes()[0] {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if body.is_empty()
        || !body
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == ',' || is_space(c))
        || !body
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit() || c == '.' || c == ',')
        || !body.ends_with(|c: char| c.is_ascii_digit())
    {
        return Err(not_a_number(raw));
    }
    Ok(Shape { negative, body })
}

/// The body read with `dec` as decimal separator: the other of `.`/`,` (or spaces, not both)
/// groups thousands. `None` when the body does not fit.
fn read_with(body: &str, dec: char) -> Option<String> {
    let (int, frac) = match body.split_once(dec) {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    if let Some(f) = frac
        && (f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let mut digits = String::with_capacity(body.len());
    if !int.is_empty() {
        let groups: Vec<&str> = int.split(|c: char| !c.is_ascii_digit()).collect();
        if groups.len() > 1 {
            // One kind of thousands separator, each followed by exactly three digits.
            let mut seps = int.chars().filter(|c| !c.is_ascii_digit());
            let first = seps.next()?;
            let thousands = if dec == ',' { '.' } else { ',' };
            if !(first == thousands || is_space(first)) {
                return None;
            }
            if !int
                .chars()
                .filter(|c| !c.is_ascii_digit())
                .all(|c| c == first || (is_space(c) && is_space(first)))
            {
                return None;
            }
            let lead = groups[0];
            if lead.is_empty() || lead.len() > 3 || (lead.starts_with('0')) {
                return None;
            }
            if groups[1..].iter().any(|g| g.len() != 3) {
                return None;
            }
        } else if int.is_empty() {
            return None;
        }
        digits.extend(int.chars().filter(char::is_ascii_digit));
    } else if frac.is_none() {
        return None;
    }
    if digits.is_empty() {
        digits.push('0');
    }
    if let Some(f) = frac {
        digits.push('.');
        digits.push_str(f);
    }
    Some(digits)
}

fn finish(negative: bool, digits: &str, raw: &str) -> Result<f64, NumberError> {
    match digits.parse::<f64>() {
        Ok(f) if f.is_finite() => Ok(if negative { -f } else { f }),
        Ok(_) => Err(NumberError::new(
            "not_finite",
            "getal buiten bereik / number out of range",
        )),
        Err(_) => Err(not_a_number(raw)),
    }
}

fn shown(digits: &str) -> String {
    digits
        .parse::<f64>()
        .map(|f| f.to_string())
        .unwrap_or_else(|_| digits.to_owned())
}

/// The decimal separator a cell shows by itself: `Some` when it can be read only one way and
/// holds a `.` or `,` (`12,5` → comma; `12.5` → point; `1.000` → neither).
pub fn evidence(raw: &str) -> Option<Decimal> {
    let s = shape(raw).ok()?;
    if !s.body.contains(['.', ',']) {
        return None;
    }
    match (read_with(s.body, ','), read_with(s.body, '.')) {
        (Some(_), None) => Some(Decimal::Comma),
        (None, Some(_)) => Some(Decimal::Point),
        _ => None,
    }
}

/// Read one cell by the file's decimal separator (module documentation).
pub fn parse(raw: &str, decimal: Decimal) -> Result<f64, NumberError> {
    let s = shape(raw)?;
    let trimmed = raw.trim();
    if !s.body.contains(['.', ',']) {
        let digits = read_with(s.body, '.').ok_or_else(|| {
            NumberError::new(
                "not_a_number",
                format!(
                    "{trimmed:?}: spaties tussen cijfers alleen in groepen van drie / spaces \
                     only between groups of three digits"
                ),
            )
        })?;
        return finish(s.negative, &digits, raw);
    }
    let comma = read_with(s.body, ',');
    let point = read_with(s.body, '.');
    match decimal {
        Decimal::Comma => match comma {
            Some(d) => finish(s.negative, &d, raw),
            None => Err(NumberError::new(
                "ambiguous_number",
                format!(
                    "{trimmed:?}: {}; een punt moet gevolgd worden door groepen van precies \
                     drie cijfers (1.000 = duizend, 1.234,5) / a dot must be followed by groups \
                     of exactly three digits",
                    Decimal::Comma.describe()
                ),
            )),
        },
        Decimal::Point => {
            if s.body.contains(',') {
                return Err(NumberError::new(
                    "ambiguous_number",
                    format!(
                        "{trimmed:?}: {}; een komma kan duizendtallen scheiden of een decimale \
                         komma zijn: laat scheidingstekens voor duizendtallen weg / a comma \
                         could group thousands or be a decimal comma: leave thousands \
                         separators out",
                        Decimal::Point.describe()
                    ),
                ));
            }
            match point {
                Some(d) => finish(s.negative, &d, raw),
                None => Err(NumberError::new(
                    "ambiguous_number",
                    format!(
                        "{trimmed:?}: {}; gebruik één decimale punt en geen scheidingstekens \
                         voor duizendtallen / use one decimal point and no thousands separators",
                        Decimal::Point.describe()
                    ),
                )),
            }
        }
        Decimal::Undecided => match (comma, point) {
            (Some(d), None) | (None, Some(d)) => finish(s.negative, &d, raw),
            (Some(c), Some(p)) if c == p => finish(s.negative, &c, raw),
            (Some(c), Some(p)) => Err(NumberError::new(
                "ambiguous_number",
                format!(
                    "{trimmed:?} kan {} of {} betekenen; {}: schrijf het getal zonder \
                     scheidingsteken voor duizendtallen / could mean {} or {}: write it \
                     without a thousands separator",
                    shown(&c),
                    shown(&p),
                    Decimal::Undecided.describe(),
                    shown(&c),
                    shown(&p),
                ),
            )),
            (None, None) => Err(NumberError::new(
                "ambiguous_number",
                format!(
                    "{trimmed:?}: geen getal in één leesbare schrijfwijze (1234,5 of 1234.5; \
                     1.234,5 of 1,234.5) / not a number in one readable notation"
                ),
            )),
        },
    }
}

/// The decimal separator of a file, from its delimiter (if it has one) and its number cells.
#[derive(Debug, Default)]
pub struct Detector {
    /// Decided by the delimiter (`;`: Excel NL).
    fixed: Option<Decimal>,
    comma_at: Option<String>,
    point_at: Option<String>,
}

impl Detector {
    /// A file whose delimiter decides (`;` → decimal comma), or not.
    pub fn new(fixed: Option<Decimal>) -> Self {
        Detector {
            fixed,
            ..Default::default()
        }
    }

    /// Look at one number cell (`at` says where, for messages).
    pub fn see(&mut self, raw: &str, at: impl FnOnce() -> String) {
        if self.fixed.is_some() {
            return;
        }
        match evidence(raw) {
            Some(Decimal::Comma) if self.comma_at.is_none() => self.comma_at = Some(at()),
            Some(Decimal::Point) if self.point_at.is_none() => self.point_at = Some(at()),
            _ => {}
        }
    }

    /// The file's decimal separator.
    pub fn decimal(&self) -> Decimal {
        if let Some(d) = self.fixed {
            return d;
        }
        match (&self.comma_at, &self.point_at) {
            (Some(_), None) => Decimal::Comma,
            (None, Some(_)) => Decimal::Point,
            _ => Decimal::Undecided,
        }
    }

    /// Where the file showed each separator (for a message on a file that shows both).
    pub fn seen(&self) -> (Option<&str>, Option<&str>) {
        (self.comma_at.as_deref(), self.point_at.as_deref())
    }
}

/// Whether a cell needs the file's decimal separator to be read (holds a `.` or `,`).
pub fn needs_convention(raw: &str) -> bool {
    raw.contains(['.', ','])
}

#[cfg(test)]
mod tests {
    use super::*;
    use Decimal::*;

    #[track_caller]
    fn ok(raw: &str, d: Decimal, want: f64) {
        assert_eq!(parse(raw, d), Ok(want), "{raw} with {d:?}");
    }
    #[track_caller]
    fn refused(raw: &str, d: Decimal, code: &str) {
        let e = parse(raw, d).expect_err(raw);
        assert_eq!(e.code, code, "{raw} with {d:?}: {}", e.message);
    }

    #[test]
    fn decimal_comma_files_read_dots_as_thousands() {
        ok("1.000", Comma, 1000.0);
        ok("12.000", Comma, 12000.0);
        ok("1.234,5", Comma, 1234.5);
        ok("1.234.567", Comma, 1234567.0);
        ok("-1.234,5", Comma, -1234.5);
        ok("12,5", Comma, 12.5);
        ok("0,25", Comma, 0.25);
        ok(",5", Comma, 0.5);
        ok("1,000", Comma, 1.0);
        ok("72%", Comma, 72.0);
        ok("12,5 %", Comma, 12.5);
        ok("1 234,5", Comma, 1234.5);
        ok("1\u{a0}234", Comma, 1234.0);
        ok("1200", Comma, 1200.0);
        refused("1.23", Comma, "ambiguous_number");
        refused("1.2345", Comma, "ambiguous_number");
        refused("12.5", Comma, "ambiguous_number");
        refused("0.250", Comma, "ambiguous_number");
        refused("1.234.56", Comma, "ambiguous_number");
        refused("1,234.5", Comma, "ambiguous_number");
        refused("1.234 567", Comma, "ambiguous_number");
        refused("1,2,3", Comma, "ambiguous_number");
    }

    #[test]
    fn decimal_point_files_refuse_commas() {
        ok("12.5", Point, 12.5);
        ok("1.000", Point, 1.0);
        ok(".5", Point, 0.5);
        ok("1 234.5", Point, 1234.5);
        refused("1,000", Point, "ambiguous_number");
        refused("1,234.5", Point, "ambiguous_number");
        refused("12,5", Point, "ambiguous_number");
        refused("1.2.3", Point, "ambiguous_number");
    }

    #[test]
    fn undecided_files_take_only_what_is_unambiguous() {
        ok("12,5", Undecided, 12.5);
        ok("12.5", Undecided, 12.5);
        ok("1.234,5", Undecided, 1234.5);
        ok("1,234.5", Undecided, 1234.5);
        ok("1.000.000", Undecided, 1e6);
        ok("1 000", Undecided, 1000.0);
        ok("-3", Undecided, -3.0);
        let e = parse("1.000", Undecided).unwrap_err();
        assert_eq!(e.code, "ambiguous_number");
        assert!(
            e.message.contains("1000") && e.message.contains(" 1 "),
            "{}",
            e.message
        );
        refused("1,000", Undecided, "ambiguous_number");
        refused("12.000", Undecided, "ambiguous_number");
    }

    #[test]
    fn what_is_no_number_at_all() {
        for d in [Comma, Point, Undecided] {
            refused("NaN", d, "not_finite");
            refused("inf", d, "not_finite");
            refused("abc", d, "not_a_number");
            refused("1e5", d, "not_a_number");
            refused("", d, "not_a_number");
            refused("12.", d, "not_a_number");
            refused("1 23", d, "not_a_number");
            refused("€ 12", d, "not_a_number");
            refused("(12)", d, "not_a_number");
            refused("--1", d, "not_a_number");
        }
    }

    #[test]
    fn evidence_and_detection() {
        assert_eq!(evidence("12,5"), Some(Comma));
        assert_eq!(evidence("1.000.000"), Some(Comma));
        assert_eq!(evidence("12.5"), Some(Point));
        assert_eq!(evidence("1.000"), None);
        assert_eq!(evidence("1000"), None);
        let mut d = Detector::new(None);
        d.see("1.000", || "row 2".into());
        assert_eq!(d.decimal(), Undecided);
        d.see("12,5", || "row 3".into());
        assert_eq!(d.decimal(), Comma);
        d.see("12.5", || "row 4".into());
        assert_eq!(d.decimal(), Undecided);
        assert_eq!(d.seen(), (Some("row 3"), Some("row 4")));
        let mut d = Detector::new(Some(Comma));
        d.see("12.5", || "row 2".into());
        assert_eq!(d.decimal(), Comma);
    }
}
