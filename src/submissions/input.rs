//! Reading a submission from JSON (REST), from GraphQL input, or from a CSV upload into one raw
//! form that [`super::validate`] checks. Type problems are collected, not thrown, so a caller
//! learns about every problem at once, each with its location.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use crate::error::{FieldIssue, Issues};
use crate::submissions::numbers;

/// The most figures one submission may hold (checked while reading, before validation).
pub const MAX_FIGURES: usize = 100_000;

/// The figure fields, in the order of the JSON body and the CSV columns.
pub const FIELDS: [&str; 8] = [
    "indicator",
    "municipality",
    "value",
    "numerator",
    "denominator",
    "respondents",
    "cases",
    "note",
];

/// Where a figure came from, to point at it in errors.
#[derive(Debug, Clone)]
pub enum Loc {
    /// Index in the JSON `figures` array.
    Json(usize),
    /// A row of a CSV file (line number; the header is line 1) or of a worksheet (its row
    /// number as the spreadsheet shows it), with the header's column for each field.
    Row {
        /// The worksheet (spreadsheets only).
        sheet: Option<Arc<str>>,
        row: u64,
        columns: Arc<Columns>,
    },
}

/// `C` for the third column (0-based 2), `AA` for the 27th: as a spreadsheet names columns.
pub fn column_letters(mut col: u32) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (col % 26) as u8);
        if col < 26 {
            break;
        }
        col = col / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

impl Loc {
    /// A problem with `field` of this figure.
    pub fn issue(&self, field: &str, code: &str, message: impl Into<String>) -> FieldIssue {
        match self {
            Loc::Json(i) => FieldIssue::new(format!("/figures/{i}/{field}"), code, message),
            Loc::Row { columns, .. } => match columns.get(field) {
                Some((name, col)) => self.at_column(name, *col, code, message),
                None => self.at_column_named(field, None, code, message),
            },
        }
    }

    /// A problem in a column given by its header name and 0-based index.
    pub fn at_column(
        &self,
        name: &str,
        col: u32,
        code: &str,
        message: impl Into<String>,
    ) -> FieldIssue {
        self.at_column_named(name, Some(col), code, message)
    }

    fn at_column_named(
        &self,
        name: &str,
        col: Option<u32>,
        code: &str,
        message: impl Into<String>,
    ) -> FieldIssue {
        match self {
            Loc::Json(i) => FieldIssue::new(format!("/figures/{i}/{name}"), code, message),
            Loc::Row { sheet, row, .. } => FieldIssue {
                field: format!("{}, column {name}", self.describe()),
                row: Some(*row),
                column: Some(name.to_owned()),
                sheet: sheet.as_deref().map(str::to_owned),
                cell: sheet
                    .as_ref()
                    .and(col)
                    .map(|c| format!("{}{row}", column_letters(c))),
                ..FieldIssue::new("", code, message)
            },
        }
    }

    /// A problem with the figure as a whole.
    pub fn whole(&self, code: &str, message: impl Into<String>) -> FieldIssue {
        match self {
            Loc::Json(i) => FieldIssue::new(format!("/figures/{i}"), code, message),
            Loc::Row { sheet, row, .. } => FieldIssue {
                row: Some(*row),
                sheet: sheet.as_deref().map(str::to_owned),
                ..FieldIssue::new(self.describe(), code, message)
            },
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Loc::Json(i) => format!("/figures/{i}"),
            Loc::Row {
                sheet: Some(s),
                row,
                ..
            } => format!("sheet {s}, row {row}"),
            Loc::Row { row, .. } => format!("row {row}"),
        }
    }

    /// Where a field of this figure is, in words (`row 5, column waarde`).
    pub fn describe_field(&self, field: &str) -> String {
        match self {
            Loc::Json(i) => format!("/figures/{i}/{field}"),
            Loc::Row { columns, .. } => {
                let name = columns.get(field).map(|c| c.0.as_str()).unwrap_or(field);
                format!("{}, column {name}", self.describe())
            }
        }
    }
}

/// One figure as received.
#[derive(Debug, Clone)]
pub struct RawFigure {
    pub loc: Loc,
    pub indicator: Option<String>,
    pub municipality: Option<String>,
    pub value: Option<f64>,
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
    pub respondents: Option<f64>,
    pub cases: Option<f64>,
    pub note: Option<String>,
}

/// A submission as received, with the problems found while reading it.
#[derive(Debug, Clone, Default)]
pub struct RawSubmission {
    pub period: Option<String>,
    pub publication: Option<String>,
    pub catalogue_version: Option<String>,
    pub figures: Vec<RawFigure>,
    pub issues: Issues,
    /// Warnings found while reading (they do not block), e.g. `rows_skipped`.
    pub warnings: Vec<FieldIssue>,
    /// Where the period came from, for error locations (`/period` or `period`).
    pub period_field: String,
}

crate::text_enum! {
    /// Who may see a submission's figures besides the organisation itself.
    pub enum Publication {
        /// The organisation and the Associatie (default); the public only sees aggregates.
        Associatie = "associatie",
        /// Everyone (openbaar).
        Openbaar = "openbaar",
    }
}

/// A submission (the JSON body of `POST /organisations/{id}/submissions`; GraphQL input).
#[derive(Debug, Clone, Deserialize, async_graphql::InputObject, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubmissionInput {
    /// `2021`, `2021-H1`, `2021-Q3` or a CBS code (`2021JJ00`, `2021HJ01`, `2021KW03`).
    pub period: String,
    /// Default `associatie`.
    pub publication: Option<Publication>,
    /// Default: the current catalogue version.
    pub catalogue_version: Option<String>,
    pub figures: Vec<FigureInput>,
}

/// One figure. Which fields it needs depends on the indicator's kind: `value` (flow, stock,
/// amount); `numerator` and `denominator` (ratio); `value` and `respondents` (survey);
/// `value` and `cases` (mean_duration).
#[derive(Debug, Clone, Deserialize, async_graphql::InputObject, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FigureInput {
    /// Indicator code from the catalogue.
    pub indicator: String,
    /// CBS municipality code, for organisations that report per municipality.
    pub municipality: Option<String>,
    pub value: Option<f64>,
    #[graphql(validator(custom = "crate::wire::graphql_int"))]
    pub numerator: Option<i64>,
    #[graphql(validator(custom = "crate::wire::graphql_int"))]
    pub denominator: Option<i64>,
    #[graphql(validator(custom = "crate::wire::graphql_int"))]
    pub respondents: Option<i64>,
    #[graphql(validator(custom = "crate::wire::graphql_int"))]
    pub cases: Option<i64>,
    /// Context (toelichting), at most 2,000 characters; no personal data.
    pub note: Option<String>,
}

impl SubmissionInput {
    /// Typed input (GraphQL) into the raw form.
    pub fn into_raw(self) -> RawSubmission {
        RawSubmission {
            period: Some(self.period),
            publication: self.publication.map(|p| p.as_str().to_owned()),
            catalogue_version: self.catalogue_version,
            figures: self
                .figures
                .into_iter()
                .enumerate()
                .map(|(i, f)| RawFigure {
                    loc: Loc::Json(i),
                    indicator: Some(f.indicator),
                    municipality: f.municipality,
                    value: f.value,
                    numerator: f.numerator.map(|v| v as f64),
                    denominator: f.denominator.map(|v| v as f64),
                    respondents: f.respondents.map(|v| v as f64),
                    cases: f.cases.map(|v| v as f64),
                    note: f.note,
                })
                .collect(),
            issues: Issues::new(),
            warnings: Vec::new(),
            period_field: "/period".to_owned(),
        }
    }
}

fn opt_string(v: Option<&Value>, field: String, issues: &mut Issues) -> Option<String> {
    match v {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(_) => {
            issues.push(FieldIssue::new(
                field,
                "not_a_string",
                "verwacht tekst / expected a string",
            ));
            None
        }
    }
}

fn opt_number(v: Option<&Value>, field: String, issues: &mut Issues) -> Option<f64> {
    match v {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => match n.as_f64() {
            Some(f) if f.is_finite() => Some(f),
            _ => {
                issues.push(FieldIssue::new(
                    field,
                    "not_finite",
                    "getal buiten bereik / number out of range",
                ));
                None
            }
        },
        Some(Value::String(s)) => match numbers::parse(s, numbers::Decimal::Undecided) {
            Ok(f) => Some(f),
            Err(e) => {
                issues.push(FieldIssue::new(field, e.code, e.message));
                None
            }
        },
        Some(_) => {
            issues.push(FieldIssue::new(
                field,
                "not_a_number",
                "verwacht een getal / expected a number",
            ));
            None
        }
    }
}

pub fn number_message(code: &str) -> &'static str {
    match code {
        "not_finite" => "getal moet eindig zijn / the number must be finite (no NaN or infinity)",
        "ambiguous_number" => {
            "dubbelzinnig getal: laat scheidingstekens voor duizendtallen weg / ambiguous \
             number: leave thousands separators out"
        }
        _ => "verwacht een getal / expected a number",
    }
}

/// A number written as text on its own, without a file to decide the decimal separator (a
/// JSON string): see [`numbers`] (an undecided file). `Err` holds the code.
pub fn parse_number(raw: &str) -> Result<f64, &'static str> {
    numbers::parse(raw, numbers::Decimal::Undecided).map_err(|e| e.code)
}

/// Read a JSON body, collecting every type problem with its JSON pointer.
pub fn from_json(body: &Value) -> RawSubmission {
    let mut raw = RawSubmission {
        period_field: "/period".to_owned(),
        ..Default::default()
    };
    let Some(obj) = body.as_object() else {
        raw.issues.push(FieldIssue::new(
            "",
            "not_an_object",
            "de body moet een JSON-object zijn / the body must be a JSON object",
        ));
        return raw;
    };
    for key in obj.keys() {
        if !matches!(
            key.as_str(),
            "period" | "publication" | "catalogueVersion" | "figures"
        ) {
            raw.issues.push(FieldIssue::new(
                format!("/{key}"),
                "unknown_field",
                "onbekend veld / unknown field (expected period, publication, catalogueVersion, figures)",
            ));
        }
    }
    raw.period = opt_string(obj.get("period"), "/period".into(), &mut raw.issues);
    raw.publication = opt_string(
        obj.get("publication"),
        "/publication".into(),
        &mut raw.issues,
    );
    raw.catalogue_version = opt_string(
        obj.get("catalogueVersion"),
        "/catalogueVersion".into(),
        &mut raw.issues,
    );
    match obj.get("figures") {
        Some(Value::Array(items)) => {
            if items.len() > MAX_FIGURES {
                raw.issues.push(too_many_figures());
                return raw;
            }
            raw.figures.reserve(items.len());
            for (i, item) in items.iter().enumerate() {
                if let Some(f) = figure_from(i, item, &mut raw.issues) {
                    raw.figures.push(f);
                }
            }
        }
        None | Some(Value::Null) => raw.issues.push(FieldIssue::new(
            "/figures",
            "missing_figures",
            "figures ontbreekt / figures is required",
        )),
        Some(_) => raw.issues.push(FieldIssue::new(
            "/figures",
            "not_an_array",
            "figures moet een lijst zijn / figures must be an array",
        )),
    }
    raw
}

fn too_many_figures() -> FieldIssue {
    FieldIssue::new(
        "/figures",
        "too_many_figures",
        format!("ten hoogste / at most {MAX_FIGURES} figures per submission"),
    )
}

/// One figure of a JSON body, with every type problem at its JSON pointer.
fn figure_from(i: usize, item: &Value, issues: &mut Issues) -> Option<RawFigure> {
    let Some(f) = item.as_object() else {
        issues.push(FieldIssue::new(
            format!("/figures/{i}"),
            "not_an_object",
            "elk cijfer is een JSON-object / each figure is a JSON object",
        ));
        return None;
    };
    for key in f.keys() {
        if !FIELDS.contains(&key.as_str()) {
            issues.push(FieldIssue::new(
                format!("/figures/{i}/{key}"),
                "unknown_field",
                format!(
                    "onbekend veld / unknown field; known: {}",
                    FIELDS.join(", ")
                ),
            ));
        }
    }
    let at = |name: &str| format!("/figures/{i}/{name}");
    Some(RawFigure {
        loc: Loc::Json(i),
        indicator: opt_string(f.get("indicator"), at("indicator"), issues),
        municipality: opt_string(f.get("municipality"), at("municipality"), issues),
        value: opt_number(f.get("value"), at("value"), issues),
        numerator: opt_number(f.get("numerator"), at("numerator"), issues),
        denominator: opt_number(f.get("denominator"), at("denominator"), issues),
        respondents: opt_number(f.get("respondents"), at("respondents"), issues),
        cases: opt_number(f.get("cases"), at("cases"), issues),
        note: opt_string(f.get("note"), at("note"), issues),
    })
}

/// Read a JSON body as it streams through the parser: one figure's object at a time, never the
/// whole document as a tree, and no further than [`MAX_FIGURES`] figures. Memory stays
/// proportional to the figures kept, not to the body or its errors. `Err` with the one problem
/// that stops reading: not JSON (with its line and column), or too many figures.
// A `FieldIssue` is large (it can name a sheet and a cell), but this error path is taken once
// per request at most.
#[allow(clippy::result_large_err)]
pub fn from_json_bytes(body: &[u8]) -> Result<RawSubmission, FieldIssue> {
    use serde::de::{
        DeserializeSeed, Deserializer, Error as _, IgnoredAny, MapAccess, SeqAccess, Visitor,
    };
    const TOO_MANY: &str = "too many figures";

    struct Top<'a>(&'a mut RawSubmission);
    struct Figures<'a>(&'a mut RawSubmission);

    impl<'de> Visitor<'de> for Top<'_> {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            let raw = self.0;
            let mut has_figures = false;
            while let Some(key) = map.next_key::<String>()? {
                let field = format!("/{key}");
                match key.as_str() {
                    "figures" => {
                        has_figures = true;
                        map.next_value_seed(Figures(&mut *raw))?;
                    }
                    "period" | "publication" | "catalogueVersion" => {
                        let v: Value = map.next_value()?;
                        let text = opt_string(Some(&v), field, &mut raw.issues);
                        match key.as_str() {
                            "period" => raw.period = text,
                            "publication" => raw.publication = text,
                            _ => raw.catalogue_version = text,
                        }
                    }
                    _ => {
                        map.next_value::<IgnoredAny>()?;
                        raw.issues.push(FieldIssue::new(
                            field,
                            "unknown_field",
                            "onbekend veld / unknown field (expected period, publication, catalogueVersion, figures)",
                        ));
                    }
                }
            }
            if !has_figures {
                raw.issues.push(FieldIssue::new(
                    "/figures",
                    "missing_figures",
                    "figures ontbreekt / figures is required",
                ));
            }
            Ok(())
        }
    }

    impl<'de> DeserializeSeed<'de> for Figures<'_> {
        type Value = ();
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_any(self)
        }
    }

    impl<'de> Visitor<'de> for Figures<'_> {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an array of figures")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            let raw = self.0;
            let mut i = 0usize;
            while let Some(item) = seq.next_element::<Value>()? {
                if i >= MAX_FIGURES {
                    return Err(A::Error::custom(TOO_MANY));
                }
                if let Some(f) = figure_from(i, &item, &mut raw.issues) {
                    raw.figures.push(f);
                }
                i += 1;
            }
            Ok(())
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
            self.0.issues.push(FieldIssue::new(
                "/figures",
                "missing_figures",
                "figures ontbreekt / figures is required",
            ));
            Ok(())
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            self.not_an_array()
        }
        fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<(), E> {
            self.not_an_array()
        }
        fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<(), E> {
            self.not_an_array()
        }
        fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<(), E> {
            self.not_an_array()
        }
        fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<(), E> {
            self.not_an_array()
        }
        fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<(), E> {
            self.not_an_array()
        }
    }

    impl Figures<'_> {
        fn not_an_array<E>(self) -> Result<(), E> {
            self.0.issues.push(FieldIssue::new(
                "/figures",
                "not_an_array",
                "figures moet een lijst zijn / figures must be an array",
            ));
            Ok(())
        }
    }

    let mut raw = RawSubmission {
        period_field: "/period".to_owned(),
        ..Default::default()
    };
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') {
        // Valid JSON that is not an object, or not JSON at all.
        return match serde_json::from_slice::<IgnoredAny>(body) {
            Ok(_) => {
                raw.issues.push(FieldIssue::new(
                    "",
                    "not_an_object",
                    "de body moet een JSON-object zijn / the body must be a JSON object",
                ));
                Ok(raw)
            }
            Err(e) => Err(json_issue(&e)),
        };
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let parsed = de.deserialize_map(Top(&mut raw)).and_then(|()| de.end());
    match parsed {
        Ok(()) => Ok(raw),
        // Refused before reading the rest: the problems found so far do not matter.
        Err(e) if e.to_string().starts_with(TOO_MANY) => Err(too_many_figures()),
        Err(e) => Err(json_issue(&e)),
    }
}

fn json_issue(e: &serde_json::Error) -> FieldIssue {
    FieldIssue::new(
        format!("line {}, column {}", e.line(), e.column()),
        "invalid_json",
        e.to_string(),
    )
}

/// Column names accepted in CSV and spreadsheet headers (case-insensitive), Dutch and English.
fn column_for(header: &str) -> Option<&'static str> {
    let h = normal_header(header);
    Some(match h.as_str() {
        "indicator" | "indicatorcode" | "indicator_code" | "code" => "indicator",
        "municipality" | "municipality_code" | "gemeente" | "gemeentecode" => "municipality",
        "value" | "waarde" => "value",
        "numerator" | "teller" => "numerator",
        "denominator" | "noemer" => "denominator",
        "respondents" | "respondenten" | "n" => "respondents",
        "cases" | "casussen" | "aantal_cases" | "aantal" => "cases",
        "note" | "toelichting" | "opmerking" => "note",
        "period" | "periode" => "period",
        _ => return None,
    })
}

fn normal_header(header: &str) -> String {
    header.trim().to_lowercase().replace([' ', '-'], "_")
}

/// Guidance columns of the templates (`GET /api/v1/templates/{teamType}.xlsx|.csv`), Dutch and
/// English: an upload ignores them, so a filled-in template posts as it is. Any other unknown
/// column is refused (`unknown_column`), so a misspelt value column is never silently dropped.
pub const GUIDANCE_COLUMNS: [(&str, &str); 6] = [
    ("omschrijving", "label"),
    ("eenheid", "unit"),
    ("soort", "kind"),
    ("invullen", "fill_in"),
    ("perioden", "period_types"),
    ("definitie", "definition"),
];

fn is_guidance(header: &str) -> bool {
    let h = normal_header(header);
    GUIDANCE_COLUMNS.iter().any(|(nl, en)| h == *nl || h == *en)
}

/// The fields that make a row a figure: a row with an indicator but none of these is an
/// unfilled template row, skipped (and named in the warning `rows_skipped`).
const FIGURE_FIELDS: [&str; 7] = [
    "municipality",
    "value",
    "numerator",
    "denominator",
    "respondents",
    "cases",
    "note",
];

/// Per figure field of a file: the column name as its header writes it, and its 0-based index.
pub type Columns = HashMap<&'static str, (String, u32)>;

/// A cell of an uploaded file as it was read.
#[derive(Debug, Clone, Copy)]
pub enum FileCell<'a> {
    /// Text (every CSV cell; text cells of a worksheet).
    Text(&'a str),
    /// A cell a spreadsheet stores as a number: no locale involved.
    Number(f64),
    /// A cell that cannot be a figure's field (a date, an error value, an uncalculated
    /// formula): its code and message, reported at the cell if its column is a figure field.
    Refused(&'static str, &'a str),
}

/// A number cell whose reading waits for the file's decimal separator.
struct Pending {
    figure: usize,
    field: &'static str,
    raw: String,
}

/// Reads the rows of a CSV file or worksheet into a [`RawSubmission`]: the header, then one
/// figure per row; numbers per file ([`numbers`]), every problem at its row and column.
pub struct RowReader {
    raw: RawSubmission,
    sheet: Option<Arc<str>>,
    index: HashMap<u32, &'static str>,
    columns: Arc<Columns>,
    detector: numbers::Detector,
    pending: Vec<Pending>,
    period_param: Option<String>,
    file_period: Option<(String, u64)>,
    skipped: Vec<u64>,
    stopped: bool,
}

impl RowReader {
    /// `sheet`: the worksheet's name (spreadsheets); `decimal`: the separator when the file's
    /// format decides it (a `;` CSV: decimal comma).
    pub fn new(
        period_param: Option<String>,
        sheet: Option<&str>,
        decimal: Option<numbers::Decimal>,
    ) -> Self {
        RowReader {
            raw: RawSubmission {
                period: period_param.clone(),
                period_field: "period".to_owned(),
                ..Default::default()
            },
            sheet: sheet.map(Arc::from),
            index: HashMap::new(),
            columns: Arc::new(Columns::new()),
            detector: numbers::Detector::new(decimal),
            pending: Vec::new(),
            period_param,
            file_period: None,
            skipped: Vec::new(),
            stopped: false,
        }
    }

    /// Where a row is.
    pub fn loc(&self, row: u64) -> Loc {
        Loc::Row {
            sheet: self.sheet.clone(),
            row,
            columns: self.columns.clone(),
        }
    }

    /// A problem with the file as a whole (or a row of it without a column).
    pub fn push(&mut self, issue: FieldIssue) {
        self.raw.issues.push(issue);
    }

    /// Read the header row (`row` is its number). `false` when the file cannot be read on
    /// (no indicator column): the problems are in the result.
    pub fn header<'a>(
        &mut self,
        row: u64,
        cells: impl IntoIterator<Item = (u32, &'a str)>,
    ) -> bool {
        let mut columns = Columns::new();
        for (col, h) in cells {
            let at = |code: &str, message: String| {
                Loc::Row {
                    sheet: self.sheet.clone(),
                    row,
                    columns: Arc::new(Columns::new()),
                }
                .at_column(h.trim(), col, code, message)
            };
            match column_for(h) {
                Some(field) if columns.contains_key(field) => {
                    let issue = at(
                        "duplicate_column",
                        format!("kolom {field} komt twee keer voor / column appears twice"),
                    );
                    self.raw.issues.push(issue);
                }
                Some(field) => {
                    columns.insert(field, (h.trim().to_owned(), col));
                    self.index.insert(col, field);
                }
                None if h.trim().is_empty() || is_guidance(h) => {}
                None => {
                    let issue = at(
                        "unknown_column",
                        format!(
                            "onbekende kolom / unknown column; use: {} (or Dutch: indicator, \
                             gemeente, waarde, teller, noemer, respondenten, aantal, toelichting); \
                             ignored: {}",
                            FIELDS.join(", "),
                            GUIDANCE_COLUMNS
                                .iter()
                                .map(|(nl, en)| format!("{nl}/{en}"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    );
                    self.raw.issues.push(issue);
                }
            }
        }
        self.columns = Arc::new(columns);
        if !self.columns.contains_key("indicator") {
            let loc = self.loc(row);
            self.raw.issues.push(loc.whole(
                "missing_column",
                "de kolom indicator ontbreekt / the header needs an indicator column",
            ));
            return false;
        }
        true
    }

    /// Read one row below the header. `false` once the file holds more than [`MAX_FIGURES`]
    /// figures: reading stops, and the result is that one problem.
    pub fn row<'a>(
        &mut self,
        row: u64,
        cells: impl IntoIterator<Item = (u32, FileCell<'a>)>,
    ) -> bool {
        if self.stopped {
            return false;
        }
        let loc = self.loc(row);
        let mut fig = RawFigure {
            loc: loc.clone(),
            indicator: None,
            municipality: None,
            value: None,
            numerator: None,
            denominator: None,
            respondents: None,
            cases: None,
            note: None,
        };
        let mut any = false;
        let mut figure_field = false;
        let mut period: Option<String> = None;
        let mut texts: Vec<(&'static str, String)> = Vec::new();
        let figure = self.raw.figures.len();
        for (col, cell) in cells {
            let Some(&field) = self.index.get(&col) else {
                continue;
            };
            if let FileCell::Text(t) = cell
                && t.trim().is_empty()
            {
                continue;
            }
            any = true;
            figure_field |= FIGURE_FIELDS.contains(&field);
            let text = match cell {
                FileCell::Text(t) => t.trim().to_owned(),
                FileCell::Number(n) => format_number(n),
                FileCell::Refused(code, message) => {
                    self.raw.issues.push(loc.issue(field, code, message));
                    continue;
                }
            };
            match field {
                "indicator" => fig.indicator = Some(text),
                "municipality" => fig.municipality = Some(text),
                "note" => fig.note = Some(text),
                "period" => period = Some(text),
                _ => match cell {
                    FileCell::Number(n) => *slot(&mut fig, field) = Some(n),
                    _ => texts.push((field, text)),
                },
            }
        }
        if !any {
            return true;
        }
        if fig.indicator.is_some() && !figure_field {
            self.skipped.push(row);
            return true;
        }
        if self.raw.figures.len() >= MAX_FIGURES {
            // Stop reading: the problems of the rows so far no longer matter.
            self.raw.issues = Issues::new();
            self.raw.issues.push(FieldIssue {
                row: Some(row),
                ..too_many_figures()
            });
            self.raw.figures.clear();
            self.pending.clear();
            self.stopped = true;
            return false;
        }
        for (field, text) in texts {
            if numbers::needs_convention(&text) {
                self.detector.see(&text, || loc.describe_field(field));
                self.pending.push(Pending {
                    figure,
                    field,
                    raw: text,
                });
            } else {
                match numbers::parse(&text, numbers::Decimal::Undecided) {
                    Ok(v) => *slot(&mut fig, field) = Some(v),
                    Err(e) => self.raw.issues.push(loc.issue(field, e.code, e.message)),
                }
            }
        }
        if let Some(p) = period {
            match &self.file_period {
                None => self.file_period = Some((p, row)),
                Some((first, _)) if first.eq_ignore_ascii_case(&p) => {}
                Some((first, first_row)) => {
                    let issue = loc.issue(
                        "period",
                        "mixed_periods",
                        format!(
                            "één periode per bestand: rij {first_row} heeft {first} / one period \
                             per upload"
                        ),
                    );
                    self.raw.issues.push(issue);
                }
            }
        }
        self.raw.figures.push(fig);
        true
    }

    /// The submission as read: numbers read by the file's decimal separator.
    pub fn finish(mut self) -> RawSubmission {
        if self.stopped {
            return self.raw;
        }
        let decimal = self.detector.decimal();
        let both = match self.detector.seen() {
            (Some(c), Some(p)) if decimal == numbers::Decimal::Undecided => Some(format!(
                " (decimale komma bij / decimal comma at {c}; decimale punt bij / decimal point \
                 at {p})"
            )),
            _ => None,
        };
        for p in std::mem::take(&mut self.pending) {
            let fig = &mut self.raw.figures[p.figure];
            match numbers::parse(&p.raw, decimal) {
                Ok(v) => *slot(fig, p.field) = Some(v),
                Err(mut e) => {
                    if let Some(b) = &both {
                        e.message.push_str(b);
                    }
                    let issue = fig.loc.issue(p.field, e.code, e.message);
                    self.raw.issues.push(issue);
                }
            }
        }
        if let Some((p, row)) = self.file_period.take() {
            match &self.period_param {
                Some(q) if !q.eq_ignore_ascii_case(&p) => {
                    let issue = self.loc(row).issue(
                        "period",
                        "period_mismatch",
                        format!("de periode in het bestand ({p}) verschilt van ?period={q}"),
                    );
                    self.raw.issues.push(issue);
                }
                Some(_) => {}
                None => self.raw.period = Some(p),
            }
        }
        if !self.skipped.is_empty() {
            const SHOWN: usize = 50;
            let mut list: Vec<String> = self
                .skipped
                .iter()
                .take(SHOWN)
                .map(u64::to_string)
                .collect();
            if self.skipped.len() > SHOWN {
                list.push("…".to_owned());
            }
            let place = match &self.sheet {
                Some(s) => format!("sheet {s}, rows"),
                None => "rows".to_owned(),
            };
            self.raw.warnings.push(FieldIssue {
                sheet: self.sheet.as_deref().map(str::to_owned),
                ..FieldIssue::new(
                    format!("{place} {}", list.join(", ")),
                    "rows_skipped",
                    format!(
                        "{} rij(en) met alleen een indicator en geen cijfer overgeslagen (een \
                         niet ingevulde sjabloonregel) / {} row(s) with an indicator but no \
                         figure skipped (unfilled template rows)",
                        self.skipped.len(),
                        self.skipped.len()
                    ),
                )
            });
        }
        self.raw
    }
}

fn slot<'a>(fig: &'a mut RawFigure, field: &str) -> &'a mut Option<f64> {
    match field {
        "value" => &mut fig.value,
        "numerator" => &mut fig.numerator,
        "denominator" => &mut fig.denominator,
        "respondents" => &mut fig.respondents,
        _ => &mut fig.cases,
    }
}

/// A number cell shown as text (a number where text belongs: a period `2023`).
fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

/// Read a CSV upload: comma, semicolon or tab separated (detected from the header), UTF-8 with
/// or without BOM, one row per figure; numbers by the file's decimal separator ([`numbers`]: a
/// semicolon file uses the decimal comma). `period` may come from a column (every row the
/// same) instead of the query parameter.
pub fn from_csv(bytes: &[u8], period_param: Option<String>) -> RawSubmission {
    let mut raw = RawSubmission {
        period: period_param.clone(),
        period_field: "period".to_owned(),
        ..Default::default()
    };
    if bytes.starts_with(b"PK\x03\x04") {
        raw.issues.push(FieldIssue::new(
            "file",
            "not_csv",
            "dit is een Excel-werkmap (.xlsx), geen CSV: stuur Content-Type \
             application/vnd.openxmlformats-officedocument.spreadsheetml.sheet / this is an \
             .xlsx workbook, not CSV",
        ));
        return raw;
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let line = bytes[..e.valid_up_to()]
                .iter()
                .filter(|b| **b == b'\n')
                .count()
                + 1;
            raw.issues.push(FieldIssue {
                row: Some(line as u64),
                ..FieldIssue::new(
                    format!("row {line}"),
                    "not_utf8",
                    "het bestand is geen UTF-8 / the file is not UTF-8 (save as CSV UTF-8)",
                )
            });
            return raw;
        }
    };
    let header_line = text.lines().next().unwrap_or("");
    let delimiter = [b';', b',', b'\t']
        .into_iter()
        .max_by_key(|d| header_line.bytes().filter(|b| b == d).count())
        .unwrap_or(b',');
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            raw.issues
                .push(FieldIssue::new("row 1", "invalid_csv", e.to_string()));
            return raw;
        }
    };
    // Excel NL saves "CSV (puntkomma gescheiden)" because its decimal separator is the comma.
    let decimal = (delimiter == b';').then_some(numbers::Decimal::Comma);
    let mut rows = RowReader::new(period_param, None, decimal);
    if !rows.header(1, headers.iter().enumerate().map(|(i, h)| (i as u32, h))) {
        return rows.finish();
    }
    // Line numbers as an editor shows them (blank lines counted), from byte offsets.
    let mut counted_to = 0usize;
    let mut line = 1u64;
    let mut line_at = |byte: u64| -> u64 {
        // A record's position may point at blank lines before it.
        let mut byte = (byte as usize).min(text.len());
        while byte < text.len() && matches!(text.as_bytes()[byte], b'\r' | b'\n') {
            byte += 1;
        }
        if byte > counted_to {
            line += text.as_bytes()[counted_to..byte]
                .iter()
                .filter(|b| **b == b'\n')
                .count() as u64;
            counted_to = byte;
        }
        line
    };
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let row = e.position().map(|p| line_at(p.byte())).unwrap_or(0);
                rows.push(FieldIssue {
                    row: Some(row),
                    ..FieldIssue::new(format!("row {row}"), "invalid_csv", e.to_string())
                });
                continue;
            }
        };
        if record.iter().all(|c| c.is_empty()) {
            continue;
        }
        let row = record.position().map(|p| line_at(p.byte())).unwrap_or(0);
        if record.len() > headers.len() {
            let issue = rows.loc(row).whole(
                "too_many_cells",
                format!(
                    "{} cellen, de kop heeft {} kolommen / more cells than header columns",
                    record.len(),
                    headers.len()
                ),
            );
            rows.push(issue);
        }
        let cells = record
            .iter()
            .enumerate()
            .map(|(i, c)| (i as u32, FileCell::Text(c)));
        if !rows.row(row, cells) {
            break;
        }
    }
    rows.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_as_spreadsheets_write_them() {
        assert_eq!(parse_number("12,5"), Ok(12.5));
        assert_eq!(parse_number(" 12.5 "), Ok(12.5));
        assert_eq!(parse_number("72%"), Ok(72.0));
        assert_eq!(parse_number("-3"), Ok(-3.0));
        assert_eq!(parse_number("1.234,5"), Ok(1234.5));
        assert_eq!(parse_number("1.000"), Err("ambiguous_number"));
        assert_eq!(parse_number("1,000"), Err("ambiguous_number"));
        assert_eq!(parse_number("NaN"), Err("not_finite"));
        assert_eq!(parse_number("inf"), Err("not_finite"));
        assert_eq!(parse_number("abc"), Err("not_a_number"));
        assert_eq!(parse_number("1e5"), Err("not_a_number"));
    }

    #[test]
    fn csv_with_bom_semicolons_and_dutch_headers() {
        let csv = "\u{feff}Indicator;Gemeente;Waarde;Teller;Noemer;Respondenten;Toelichting\n\
                   klachten;;12;;;;\n\
                   cev_helpend;;74,5;;;1939;\"Meting; najaar\"\n\
                   \n\
                   aandeel_zelfmelders;GM0344;;120;400;;\n";
        let raw = from_csv(csv.as_bytes(), Some("2021".into()));
        assert!(raw.issues.is_empty(), "{:?}", raw.issues);
        assert_eq!(raw.figures.len(), 3);
        assert_eq!(raw.figures[1].value, Some(74.5));
        assert_eq!(raw.figures[1].respondents, Some(1939.0));
        assert_eq!(raw.figures[1].note.as_deref(), Some("Meting; najaar"));
        assert_eq!(raw.figures[2].municipality.as_deref(), Some("GM0344"));
        match &raw.figures[2].loc {
            Loc::Row { row, .. } => assert_eq!(*row, 5),
            _ => panic!(),
        }
    }

    #[test]
    fn csv_problems_name_row_and_column() {
        let csv = "indicator,value,colour\nklachten,1.234,5\nklachten,NaN\n";
        let raw = from_csv(csv.as_bytes(), None);
        let fields: Vec<&str> = raw.issues.iter().map(|i| i.field.as_str()).collect();
        assert!(fields.contains(&"row 1, column colour"), "{fields:?}");
        assert!(fields.contains(&"row 3, column value"), "{fields:?}");
    }
}
