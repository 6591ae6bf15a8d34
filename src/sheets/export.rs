//! Views as Excel workbooks (`?format=xlsx`, or `Accept:` the `.xlsx` media type). Three sheets:
//!
//! 1. **Gegevens** (data): the view's table ([`crate::views::table`]), the same columns and rows
//!    as its CSV: the first column `row` marks `group`, `subtotal` and `total` rows (total rows
//!    bold, subtotals italic; add up only `group` rows). Numbers (values, counts, quartiles,
//!    index, change) are number cells, groups and codes text cells (text cells are never
//!    formulas, so nothing needs neutralising). A withheld value is an empty grey cell; its row's
//!    `confStatus` (A, M, D, N) and `suppressionReason` say why. The header row is frozen and
//!    filterable.
//! 2. **Indicator**: per indicator of the view its code, labels, definition, numerator and
//!    denominator, counting moment, unit, kind, direction, how it pools across organisations and
//!    across periods, additivity, reference, source and catalogue version.
//! 3. **Toelichting** (legend): the source (basisset, the request's path and query), the data
//!    version (read right after the view was computed or taken from the cache, which only holds
//!    views of the current version: a submission landing in between would show as a higher
//!    version than the view's), the time of export, the meaning of the `row` column, and the
//!    suppression legend: every `confStatus` code and every reason, in Dutch and English.

use rust_xlsxwriter::{Color, Format, FormatPattern, Workbook, Worksheet, XlsxError};

use crate::catalogue::Indicator;
use crate::error::{AppError, AppResult};
use crate::views::table::{Cell, RowKind, Table};

/// What a workbook says about where it came from.
#[derive(Debug, Clone)]
pub struct Meta<'a> {
    /// Path and query of the request (secrets redacted).
    pub request: String,
    /// [`crate::db::data_version`] when the view was exported.
    pub data_version: i64,
    pub exported_at: chrono::DateTime<chrono::Utc>,
    /// The indicators the view is about, as the catalogue defines them.
    pub indicators: Vec<&'a Indicator>,
}

pub const DATA_SHEET: &str = "Gegevens";
pub const INDICATOR_SHEET: &str = "Indicator";
pub const LEGEND_SHEET: &str = "Toelichting";

/// The confidentiality codes, Dutch and English.
pub const CONF_STATUS_LEGEND: [(&str, &str, &str); 5] = [
    ("F", "vrij: getoond", "free: shown"),
    (
        "A",
        "achtergehouden: te weinig organisaties (of respondenten) achter de waarde",
        "withheld: too few organisations (or respondents) behind the value",
    ),
    (
        "M",
        "achtergehouden: één organisatie domineert de waarde (p%-regel)",
        "withheld: one organisation dominates the value (p% rule)",
    ),
    (
        "D",
        "achtergehouden zodat een andere achtergehouden waarde niet te herleiden is (secundair)",
        "withheld so that another withheld value cannot be derived (secondary)",
    ),
    (
        "N",
        "niet gepubliceerd voor deze vrager (bijv. een kwartaal of een totaal over jaren)",
        "not published to this caller (e.g. a quarter or a total over several years)",
    ),
];

/// The reasons (`suppressionReason`, `flags`), Dutch and English.
pub const REASON_LEGEND: [(&str, &str, &str); 5] = [
    (
        "few_organisations",
        "te weinig organisaties (minder dan k)",
        "too few organisations (fewer than k)",
    ),
    (
        "small_sample",
        "te weinig respondenten voor een betrouwbaar percentage",
        "too few respondents for a reliable percentage",
    ),
    (
        "dominance",
        "één organisatie domineert de waarde",
        "one organisation dominates the value",
    ),
    (
        "secondary",
        "secundair achtergehouden",
        "withheld to protect another withheld value",
    ),
    (
        "not_published",
        "valt buiten de tabellen die voor deze vrager gepubliceerd worden",
        "outside the tables published to this caller",
    ),
];

pub const ROW_LEGEND: [(&str, &str, &str); 3] = [
    (
        "group",
        "een groep (gemeente, indicator, organisatie): alleen deze rijen optellen",
        "a group: add up only these rows",
    ),
    (
        "subtotal",
        "bevat groepsrijen van dezelfde tabel (de vergelijkingsgroep van een benchmark)",
        "holds group rows of the same table (a benchmark's peers)",
    ),
    (
        "total",
        "alles wat de tabel omvat (landelijk, totaal): niet optellen bij de groepen",
        "everything the table covers: do not add to the groups",
    ),
];

fn internal(e: XlsxError) -> AppError {
    AppError::internal(format!("writing a workbook: {e}"))
}

struct Formats {
    header: Format,
    total: Format,
    subtotal: Format,
    withheld: Format,
    wrap: Format,
}

impl Formats {
    fn new() -> Self {
        Formats {
            header: Format::new()
                .set_bold()
                .set_background_color(Color::RGB(0xDDEBF7)),
            total: Format::new().set_bold(),
            subtotal: Format::new().set_italic(),
            withheld: Format::new()
                .set_pattern(FormatPattern::Solid)
                .set_background_color(Color::RGB(0xD9D9D9)),
            wrap: Format::new().set_text_wrap(),
        }
    }
}

/// Write a header row of bold names.
pub fn header(ws: &mut Worksheet, names: &[&str], f: &Format) -> Result<(), XlsxError> {
    for (c, name) in names.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *name, f)?;
    }
    ws.set_freeze_panes(1, 0)?;
    Ok(())
}

fn data_sheet(ws: &mut Worksheet, t: &Table, f: &Formats) -> Result<(), XlsxError> {
    ws.set_name(DATA_SHEET)?;
    let mut names = vec!["row"];
    names.extend(t.columns.iter().map(String::as_str));
    header(ws, &names, &f.header)?;
    for (i, r) in t.rows.iter().enumerate() {
        let row = i as u32 + 1;
        let style = match r.kind {
            RowKind::Total => Some(&f.total),
            RowKind::Subtotal => Some(&f.subtotal),
            RowKind::Group => None,
        };
        let text = |ws: &mut Worksheet, c: u16, s: &str| match style {
            Some(st) => ws.write_string_with_format(row, c, s, st).map(|_| ()),
            None => ws.write_string(row, c, s).map(|_| ()),
        };
        text(ws, 0, r.kind.as_str())?;
        for (j, cell) in r.cells.iter().enumerate() {
            let c = j as u16 + 1;
            match cell {
                Cell::Text(s) => text(ws, c, s)?,
                Cell::Number(x) => match style {
                    Some(st) => ws.write_number_with_format(row, c, *x, st).map(|_| ())?,
                    None => ws.write_number(row, c, *x).map(|_| ())?,
                },
                Cell::Int(x) => match style {
                    Some(st) => ws
                        .write_number_with_format(row, c, *x as f64, st)
                        .map(|_| ())?,
                    None => ws.write_number(row, c, *x as f64).map(|_| ())?,
                },
                Cell::Withheld => ws.write_blank(row, c, &f.withheld).map(|_| ())?,
                Cell::Empty => {}
            }
        }
    }
    if !t.rows.is_empty() {
        ws.autofilter(0, 0, t.rows.len() as u32, t.columns.len() as u16)?;
    }
    ws.set_autofit_max_width(300);
    ws.autofit();
    Ok(())
}

fn indicator_sheet(ws: &mut Worksheet, meta: &Meta<'_>, f: &Formats) -> Result<(), XlsxError> {
    ws.set_name(INDICATOR_SHEET)?;
    let names = [
        "code",
        "labelNl",
        "labelEn",
        "definition",
        "numerator",
        "denominator",
        "countingMoment",
        "unit",
        "kind",
        "direction",
        "acrossOrganisations",
        "acrossPeriods",
        "additive",
        "reference",
        "source",
        "catalogueVersion",
    ];
    header(ws, &names, &f.header)?;
    for (i, ind) in meta.indicators.iter().enumerate() {
        let row = i as u32 + 1;
        let values = [
            ind.code.as_str(),
            &ind.label_nl,
            &ind.label_en,
            &ind.definition,
            ind.numerator.as_deref().unwrap_or_default(),
            ind.denominator.as_deref().unwrap_or_default(),
            &ind.counting_moment,
            ind.unit.as_str(),
            ind.kind.as_str(),
            ind.direction.as_str(),
            &ind.across_organisations,
            &ind.across_periods,
            if ind.additive { "true" } else { "false" },
            ind.reference.as_deref().unwrap_or_default(),
            ind.source.as_str(),
            &ind.version,
        ];
        for (c, v) in values.iter().enumerate() {
            if !v.is_empty() {
                ws.write_string_with_format(row, c as u16, *v, &f.wrap)?;
            }
        }
    }
    for (c, width) in [
        (0u16, 28.0),
        (1, 36.0),
        (2, 36.0),
        (3, 80.0),
        (4, 40.0),
        (5, 40.0),
    ] {
        ws.set_column_width(c, width)?;
    }
    for c in 6..names.len() as u16 {
        ws.set_column_width(c, 24.0)?;
    }
    Ok(())
}

fn line(
    ws: &mut Worksheet,
    row: &mut u32,
    cells: &[&str],
    style: &Format,
) -> Result<(), XlsxError> {
    for (c, v) in cells.iter().enumerate() {
        ws.write_string_with_format(*row, c as u16, *v, style)?;
    }
    *row += 1;
    Ok(())
}

fn legend_sheet(ws: &mut Worksheet, meta: &Meta<'_>, f: &Formats) -> Result<(), XlsxError> {
    ws.set_name(LEGEND_SHEET)?;
    let row = &mut 0u32;
    line(ws, row, &["bron / source", "basisset"], &f.header)?;
    line(ws, row, &["verzoek / request", &meta.request], &f.wrap)?;
    ws.write_string(*row, 0, "gegevensversie / data version")?;
    ws.write_number(*row, 1, meta.data_version as f64)?;
    *row += 1;
    let at = meta.exported_at.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    line(
        ws,
        row,
        &["geëxporteerd op / exported at (UTC)", &at],
        &f.wrap,
    )?;
    *row += 1;
    line(ws, row, &["row", "betekenis", "meaning"], &f.header)?;
    for (code, nl, en) in ROW_LEGEND {
        line(ws, row, &[code, nl, en], &f.wrap)?;
    }
    *row += 1;
    line(ws, row, &["confStatus", "betekenis", "meaning"], &f.header)?;
    for (code, nl, en) in CONF_STATUS_LEGEND {
        line(ws, row, &[code, nl, en], &f.wrap)?;
    }
    line(
        ws,
        row,
        &[
            "",
            "een achtergehouden waarde is een lege grijze cel",
            "a withheld value is an empty grey cell",
        ],
        &f.wrap,
    )?;
    *row += 1;
    line(
        ws,
        row,
        &["suppressionReason / flags", "betekenis", "meaning"],
        &f.header,
    )?;
    for (code, nl, en) in REASON_LEGEND {
        line(ws, row, &[code, nl, en], &f.wrap)?;
    }
    ws.set_column_width(0, 34.0)?;
    ws.set_column_width(1, 70.0)?;
    ws.set_column_width(2, 70.0)?;
    Ok(())
}

/// The workbook of a view (module documentation).
pub fn workbook(t: &Table, meta: &Meta<'_>) -> AppResult<Vec<u8>> {
    let f = Formats::new();
    let mut book = Workbook::new();
    data_sheet(book.add_worksheet(), t, &f).map_err(internal)?;
    indicator_sheet(book.add_worksheet(), meta, &f).map_err(internal)?;
    legend_sheet(book.add_worksheet(), meta, &f).map_err(internal)?;
    book.save_to_buffer().map_err(internal)
}
