//! Reading a submission from JSON (REST), from GraphQL input, or from a CSV upload into one raw
//! form that [`super::validate`] checks. Type problems are collected, not thrown, so a caller
//! learns about every problem at once, each with its location.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use crate::error::{FieldIssue, Issues};

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
    /// CSV line (the header is line 1) and the header names used for each field.
    Csv {
        row: u64,
        columns: Arc<HashMap<&'static str, String>>,
    },
}

impl Loc {
    /// A problem with `field` of this figure.
    pub fn issue(&self, field: &str, code: &str, message: impl Into<String>) -> FieldIssue {
        match self {
            Loc::Json(i) => FieldIssue::new(format!("/figures/{i}/{field}"), code, message),
            Loc::Csv { row, columns } => {
                let column = columns
                    .get(field)
                    .cloned()
                    .unwrap_or_else(|| field.to_owned());
                FieldIssue {
                    field: format!("row {row}, column {column}"),
                    code: code.to_owned(),
                    message: message.into(),
                    row: Some(*row),
                    column: Some(column),
                }
            }
        }
    }

    /// A problem with the figure as a whole.
    pub fn whole(&self, code: &str, message: impl Into<String>) -> FieldIssue {
        match self {
            Loc::Json(i) => FieldIssue::new(format!("/figures/{i}"), code, message),
            Loc::Csv { row, .. } => FieldIssue {
                field: format!("row {row}"),
                code: code.to_owned(),
                message: message.into(),
                row: Some(*row),
                column: None,
            },
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Loc::Json(i) => format!("/figures/{i}"),
            Loc::Csv { row, .. } => format!("row {row}"),
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
    pub numerator: Option<i64>,
    pub denominator: Option<i64>,
    pub respondents: Option<i64>,
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
        Some(Value::String(s)) => match parse_number(s) {
            Ok(f) => Some(f),
            Err(code) => {
                issues.push(FieldIssue::new(field, code, number_message(code)));
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
            "gebruik geen scheidingstekens voor duizendtallen / do not use thousands separators"
        }
        _ => "verwacht een getal / expected a number",
    }
}

/// A number as written by people and spreadsheets: optional sign, one decimal separator
/// (`,` or `.`), optional trailing `%`, surrounding spaces. No thousands separators.
pub fn parse_number(raw: &str) -> Result<f64, &'static str> {
    let s = raw.trim().trim_end_matches('%').trim();
    if s.is_empty() {
        return Err("not_a_number");
    }
    let lower = s.to_ascii_lowercase();
    if lower.contains("nan") || lower.contains("inf") {
        return Err("not_finite");
    }
    let commas = s.matches(',').count();
    let dots = s.matches('.').count();
    if commas + dots > 1 {
        return Err("ambiguous_number");
    }
    let normal = s.replace(',', ".");
    let ok = normal
        .trim_start_matches(['-', '+'])
        .chars()
        .all(|c| c.is_ascii_digit() || c == '.')
        && normal.chars().any(|c| c.is_ascii_digit());
    if !ok {
        return Err("not_a_number");
    }
    match normal.parse::<f64>() {
        Ok(f) if f.is_finite() => Ok(f),
        Ok(_) => Err("not_finite"),
        Err(_) => Err("not_a_number"),
    }
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

/// Column names accepted in CSV headers (case-insensitive), Dutch and English.
fn column_for(header: &str) -> Option<&'static str> {
    let h = header.trim().to_lowercase().replace([' ', '-'], "_");
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

/// Read a CSV upload: comma, semicolon or tab separated (detected from the header), UTF-8 with
/// or without BOM, decimal comma or point, one row per figure. `period` may come from a column
/// (every row the same) instead of the query parameter.
pub fn from_csv(bytes: &[u8], period_param: Option<String>) -> RawSubmission {
    let mut raw = RawSubmission {
        period: period_param.clone(),
        period_field: "period".to_owned(),
        ..Default::default()
    };
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
                field: format!("row {line}"),
                code: "not_utf8".to_owned(),
                message: "het bestand is geen UTF-8 / the file is not UTF-8 (save as CSV UTF-8)"
                    .to_owned(),
                row: Some(line as u64),
                column: None,
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
    let header_issue = |column: &str, code: &str, message: String| FieldIssue {
        field: format!("row 1, column {column}"),
        code: code.to_owned(),
        message,
        row: Some(1),
        column: Some(column.to_owned()),
    };
    let mut index: Vec<Option<&'static str>> = Vec::new();
    let mut names: HashMap<&'static str, String> = HashMap::new();
    for h in headers.iter() {
        match column_for(h) {
            Some(field) if names.contains_key(field) => {
                raw.issues.push(header_issue(
                    h,
                    "duplicate_column",
                    format!("kolom {field} komt twee keer voor / column appears twice"),
                ));
                index.push(None);
            }
            Some(field) => {
                names.insert(field, h.trim().to_owned());
                index.push(Some(field));
            }
            None if h.trim().is_empty() => index.push(None),
            None => {
                raw.issues.push(header_issue(
                    h,
                    "unknown_column",
                    format!(
                        "onbekende kolom / unknown column; use: {} (or Dutch: indicator, gemeente, \
                         waarde, teller, noemer, respondenten, aantal, toelichting)",
                        FIELDS.join(", ")
                    ),
                ));
                index.push(None);
            }
        }
    }
    if !names.contains_key("indicator") {
        raw.issues.push(FieldIssue {
            field: "row 1".to_owned(),
            code: "missing_column".to_owned(),
            message: "de kolom indicator ontbreekt / the header needs an indicator column"
                .to_owned(),
            row: Some(1),
            column: None,
        });
        return raw;
    }
    let columns = Arc::new(names);
    let mut csv_period: Option<(String, u64)> = None;
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
                raw.issues.push(FieldIssue {
                    field: format!("row {row}"),
                    code: "invalid_csv".to_owned(),
                    message: e.to_string(),
                    row: Some(row),
                    column: None,
                });
                continue;
            }
        };
        if record.iter().all(|c| c.is_empty()) {
            continue;
        }
        let row = record.position().map(|p| line_at(p.byte())).unwrap_or(0);
        if raw.figures.len() >= MAX_FIGURES {
            // Stop reading: the problems of the rows so far no longer matter.
            raw.issues = Issues::new();
            raw.issues.push(FieldIssue {
                row: Some(row),
                ..too_many_figures()
            });
            raw.figures.clear();
            return raw;
        }
        let loc = Loc::Csv {
            row,
            columns: columns.clone(),
        };
        if record.len() > headers.len() {
            raw.issues.push(loc.whole(
                "too_many_cells",
                format!(
                    "{} cellen, de kop heeft {} kolommen / more cells than header columns",
                    record.len(),
                    headers.len()
                ),
            ));
        }
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
        for (i, cell) in record.iter().enumerate() {
            let Some(Some(field)) = index.get(i) else {
                continue;
            };
            if cell.is_empty() {
                continue;
            }
            let mut number = |slot: &mut Option<f64>| match parse_number(cell) {
                Ok(v) => *slot = Some(v),
                Err(code) => raw
                    .issues
                    .push(loc.issue(field, code, number_message(code))),
            };
            match *field {
                "indicator" => fig.indicator = Some(cell.to_owned()),
                "municipality" => fig.municipality = Some(cell.to_owned()),
                "note" => fig.note = Some(cell.to_owned()),
                "value" => number(&mut fig.value),
                "numerator" => number(&mut fig.numerator),
                "denominator" => number(&mut fig.denominator),
                "respondents" => number(&mut fig.respondents),
                "cases" => number(&mut fig.cases),
                "period" => match &csv_period {
                    None => csv_period = Some((cell.to_owned(), row)),
                    Some((p, _)) if p.eq_ignore_ascii_case(cell) => {}
                    Some((p, first)) => raw.issues.push(loc.issue(
                        "period",
                        "mixed_periods",
                        format!(
                            "één periode per bestand: rij {first} heeft {p} / one period per upload"
                        ),
                    )),
                },
                _ => {}
            }
        }
        raw.figures.push(fig);
    }
    if let Some((p, row)) = csv_period {
        match &period_param {
            Some(q) if !q.eq_ignore_ascii_case(&p) => raw.issues.push(FieldIssue {
                field: format!(
                    "row {row}, column {}",
                    columns.get("period").cloned().unwrap_or_default()
                ),
                code: "period_mismatch".to_owned(),
                message: format!("de periode in het bestand ({p}) verschilt van ?period={q}"),
                row: Some(row),
                column: columns.get("period").cloned(),
            }),
            Some(_) => {}
            None => raw.period = Some(p),
        }
    }
    raw
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
        assert_eq!(parse_number("1.234,5"), Err("ambiguous_number"));
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
            Loc::Csv { row, .. } => assert_eq!(*row, 5),
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
