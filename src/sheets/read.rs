//! `.xlsx` uploads of figures: the same layout as the CSV upload (a header row with Dutch or
//! English column names, one figure per row), read into the same raw submission.
//!
//! - **Which sheet**: the sheet named `cijfers` or `figures` (any case) if there is one, else the
//!   first sheet. The header is the first row with anything in it.
//! - **Cells**: a number cell is that number (Excel stores 1000 as 1000: no locale involved),
//!   read to Excel's own precision of 15 significant digits (what Excel shows; a formula's
//!   `0.1+0.2` is 0.3). A text cell is read like a CSV cell, by the file's decimal separator
//!   ([`crate::submissions::numbers`]: a text cell `12,5` decides decimal comma, so text
//!   `1.000` elsewhere is 1000). Empty cells are absent values. Dates, TRUE/FALSE and error
//!   values (`#DEEL/0!`, `#N/B`) where a number or text belongs are refused at their cell.
//! - **Formulas**: the value Excel calculated and saved with the file (what the data officer saw)
//!   is used. A workbook that says its values were never calculated (`fullCalcOnLoad`, as files
//!   written by programs rather than saved by Excel say) has its formula cells refused
//!   (`formula_not_calculated`), as is a formula cell without a saved value: we do not guess a
//!   number nobody has seen.
//! - **Locations**: `sheet S, row N, column NAME` in `field`, plus `sheet`, `row` (as the
//!   spreadsheet numbers it), `column` (the header's name) and `cell` (`C5`).
//! - **Bounds**, checked on the archive's directory before any part is inflated: at most
//!   [`Limits::entries`] parts and [`Limits::unzipped_bytes`] declared uncompressed bytes (each
//!   part is cut off while inflating at its declared size, so the declaration cannot lie); then
//!   at most [`Limits::cells`] cells in the sheet read, streamed cell by cell (a sheet is never
//!   held whole), and at most 100,000 figures like CSV and JSON.

use std::io::{Cursor, Read};

use calamine::{DataRef, Reader, Xlsx};

use crate::error::FieldIssue;
use crate::submissions::input::{FileCell, RawSubmission, RowReader};

/// The bounds of an upload (module documentation).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub entries: usize,
    pub unzipped_bytes: u64,
    pub cells: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            entries: 1_000,
            unzipped_bytes: 256 * 1024 * 1024,
            cells: 5_000_000,
        }
    }
}

/// The sheet names an upload prefers over the first sheet.
pub const SHEET_NAMES: [&str; 2] = ["cijfers", "figures"];

fn file_issue(code: &str, message: impl Into<String>) -> FieldIssue {
    FieldIssue::new("file", code, message)
}

/// Check the archive's directory. `Ok(calculated)`: whether formula values were saved by a
/// program that calculated them (no `fullCalcOnLoad`).
pub fn guard(bytes: &[u8], limits: &Limits) -> Result<bool, Box<FieldIssue>> {
    let not_xlsx = |e: &dyn std::fmt::Display| {
        Box::new(file_issue(
            "invalid_xlsx",
            format!(
                "geen leesbare .xlsx-werkmap / not a readable .xlsx workbook (save as \"Excel-werkmap\"): {e}"
            ),
        ))
    };
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| not_xlsx(&e))?;
    if zip.len() > limits.entries {
        return Err(Box::new(file_issue(
            "xlsx_too_large",
            format!(
                "de werkmap heeft {} onderdelen, ten hoogste {} / the workbook has more than {} parts",
                zip.len(),
                limits.entries,
                limits.entries
            ),
        )));
    }
    let mut total: u64 = 0;
    for i in 0..zip.len() {
        let entry = zip.by_index_data(i).map_err(|e| not_xlsx(&e))?;
        total = total.saturating_add(entry.size());
    }
    if total > limits.unzipped_bytes {
        return Err(Box::new(file_issue(
            "xlsx_too_large",
            format!(
                "de werkmap is uitgepakt {} MiB, ten hoogste {} MiB / the workbook unzips to more than {} MiB",
                total / (1024 * 1024),
                limits.unzipped_bytes / (1024 * 1024),
                limits.unzipped_bytes / (1024 * 1024)
            ),
        )));
    }
    let mut calculated = true;
    if let Ok(mut part) = zip.by_name("xl/workbook.xml") {
        let mut xml = String::new();
        part.read_to_string(&mut xml).map_err(|e| not_xlsx(&e))?;
        if let Some(start) = xml.find("<calcPr") {
            let tag = &xml[start..];
            let tag = &tag[..tag.find('>').unwrap_or(tag.len())];
            calculated =
                !(tag.contains("fullCalcOnLoad=\"1\"") || tag.contains("fullCalcOnLoad=\"true\""));
        }
    }
    Ok(calculated)
}

/// Excel keeps 15 significant digits: read a number cell to that precision.
fn excel_precision(f: f64) -> f64 {
    format!("{f:.14e}").parse().unwrap_or(f)
}

/// A cell as the upload reads it.
enum Value {
    Text(String),
    Number(f64),
    Refused(&'static str, String),
}

fn refused_kind(what: &str) -> String {
    format!(
        "{what} waar een getal of tekst hoort; maak de cel een getal of tekst / {what} where a \
         number or text belongs"
    )
}

fn value_of(v: DataRef<'_>, formula: bool, calculated: bool) -> Option<Value> {
    if formula && !calculated {
        return Some(Value::Refused(
            "formula_not_calculated",
            "de cel bevat een formule waarvan de werkmap geen berekende waarde bewaart (het \
             bestand is niet door Excel opgeslagen): open en bewaar het in Excel, of plak de \
             cellen als waarden / the workbook holds no calculated value for this formula"
                .to_owned(),
        ));
    }
    Some(match v {
        DataRef::Empty if formula => Value::Refused(
            "formula_not_calculated",
            "de formule heeft geen bewaarde waarde / the formula has no saved value".to_owned(),
        ),
        DataRef::Empty => return None,
        DataRef::Int(i) => Value::Number(i as f64),
        DataRef::Float(f) => Value::Number(excel_precision(f)),
        DataRef::String(s) => Value::Text(s),
        DataRef::SharedString(s) => Value::Text(s.to_owned()),
        DataRef::Bool(b) => Value::Refused(
            "not_a_number",
            refused_kind(if b { "WAAR/TRUE" } else { "ONWAAR/FALSE" }),
        ),
        DataRef::DateTime(_) | DataRef::DateTimeIso(_) | DataRef::DurationIso(_) => Value::Refused(
            "not_a_number",
            refused_kind("een datum of tijd / a date or time"),
        ),
        DataRef::Error(e) => Value::Refused(
            if formula {
                "formula_error"
            } else {
                "cell_error"
            },
            format!("de cel geeft de fout {e} / the cell shows the error {e}"),
        ),
    })
}

/// Read an uploaded table of figures, CSV or `.xlsx`, as every transport does: the period,
/// publication level and catalogue version come from the upload's parameters.
pub fn from_table_upload(
    bytes: &[u8],
    xlsx: bool,
    period: Option<String>,
    publication: Option<String>,
    catalogue_version: Option<String>,
) -> RawSubmission {
    let mut raw = if xlsx {
        from_xlsx(bytes, period)
    } else {
        crate::submissions::input::from_csv(bytes, period)
    };
    raw.publication = publication;
    raw.catalogue_version = catalogue_version;
    raw
}

/// Whether an uploaded file is an `.xlsx` workbook (a zip archive) rather than a CSV text.
pub fn looks_like_xlsx(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
}

/// Read an `.xlsx` upload (module documentation).
pub fn from_xlsx(bytes: &[u8], period_param: Option<String>) -> RawSubmission {
    from_xlsx_with(bytes, period_param, &Limits::default())
}

pub fn from_xlsx_with(
    bytes: &[u8],
    period_param: Option<String>,
    limits: &Limits,
) -> RawSubmission {
    let fail = |issue: FieldIssue| {
        let mut raw = RawSubmission {
            period: period_param.clone(),
            period_field: "period".to_owned(),
            ..Default::default()
        };
        raw.issues.push(issue);
        raw
    };
    let calculated = match guard(bytes, limits) {
        Ok(c) => c,
        Err(issue) => return fail(*issue),
    };
    let mut book: Xlsx<_> = match Xlsx::new(Cursor::new(bytes)) {
        Ok(b) => b,
        Err(e) => {
            return fail(file_issue(
                "invalid_xlsx",
                format!("geen leesbare .xlsx-werkmap / not a readable .xlsx workbook: {e}"),
            ));
        }
    };
    let names = book.sheet_names();
    let Some(sheet) = names
        .iter()
        .find(|n| SHEET_NAMES.contains(&n.trim().to_lowercase().as_str()))
        .or(names.first())
        .cloned()
    else {
        return fail(file_issue(
            "invalid_xlsx",
            "de werkmap heeft geen werkblad / the workbook has no worksheet",
        ));
    };
    let mut rows = RowReader::new(period_param.clone(), Some(&sheet), None);
    let mut reader = match book.worksheet_cells_reader(&sheet) {
        Ok(r) => r,
        Err(e) => {
            return fail(file_issue(
                "invalid_xlsx",
                format!("werkblad {sheet} is niet leesbaar / sheet {sheet} cannot be read: {e}"),
            ));
        }
    };
    let mut header_done = false;
    let mut current: Option<u32> = None;
    let mut cells: Vec<(u32, Value)> = Vec::new();
    let mut seen: u64 = 0;
    // Hand one row to the reader; `false` to stop.
    let mut flush = |row: u32, cells: &mut Vec<(u32, Value)>, rows: &mut RowReader| -> bool {
        let number = u64::from(row) + 1;
        let go = if !header_done {
            if cells.is_empty() {
                return true;
            }
            header_done = true;
            let names: Vec<(u32, String)> = cells
                .iter()
                .map(|(c, v)| {
                    let name = match v {
                        Value::Text(t) => t.clone(),
                        Value::Number(n) => n.to_string(),
                        Value::Refused(..) => String::new(),
                    };
                    (*c, name)
                })
                .collect();
            rows.header(number, names.iter().map(|(c, n)| (*c, n.as_str())))
        } else {
            rows.row(
                number,
                cells.iter().map(|(c, v)| {
                    (
                        *c,
                        match v {
                            Value::Text(t) => FileCell::Text(t),
                            Value::Number(n) => FileCell::Number(*n),
                            Value::Refused(code, message) => FileCell::Refused(code, message),
                        },
                    )
                }),
            )
        };
        cells.clear();
        go
    };
    loop {
        match reader.next_cell_with_formula_metadata() {
            Err(e) => {
                rows.push(FieldIssue {
                    sheet: Some(sheet.clone()),
                    ..file_issue(
                        "invalid_xlsx",
                        format!(
                            "werkblad {sheet} is niet leesbaar / sheet {sheet} cannot be read: {e}"
                        ),
                    )
                });
                break;
            }
            Ok(None) => {
                if let Some(r) = current {
                    flush(r, &mut cells, &mut rows);
                }
                break;
            }
            Ok(Some(cell)) => {
                seen += 1;
                if seen > limits.cells {
                    return fail(FieldIssue {
                        sheet: Some(sheet.clone()),
                        ..file_issue(
                            "xlsx_too_large",
                            format!(
                                "werkblad {sheet} heeft meer dan {} cellen / the sheet has more than {} cells",
                                limits.cells, limits.cells
                            ),
                        )
                    });
                }
                let (r, c) = cell.pos;
                if current != Some(r) {
                    if let Some(prev) = current
                        && !flush(prev, &mut cells, &mut rows)
                    {
                        break;
                    }
                    current = Some(r);
                }
                if let Some(v) = value_of(cell.value, cell.formula.is_some(), calculated) {
                    cells.push((c, v));
                }
            }
        }
    }
    if !header_done {
        rows.push(FieldIssue {
            sheet: Some(sheet.clone()),
            ..file_issue(
                "missing_column",
                format!(
                    "werkblad {sheet} is leeg: de eerste rij moet de kolomnamen bevatten / sheet \
                     {sheet} is empty: the first row holds the column names"
                ),
            )
        });
    }
    rows.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn book(rows: &[[&str; 2]]) -> Vec<u8> {
        let mut b = rust_xlsxwriter::Workbook::new();
        let ws = b.add_worksheet();
        for (r, row) in rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                ws.write_string(r as u32, c as u16, *v).unwrap();
            }
        }
        b.save_to_buffer().unwrap()
    }

    #[test]
    fn bounds_are_checked_before_anything_is_inflated() {
        let bytes = book(&[["indicator", "waarde"], ["klachten", "12"]]);
        assert!(guard(&bytes, &Limits::default()).is_ok());
        let tiny = Limits {
            unzipped_bytes: 1_000,
            ..Limits::default()
        };
        assert_eq!(guard(&bytes, &tiny).unwrap_err().code, "xlsx_too_large");
        let few = Limits {
            entries: 3,
            ..Limits::default()
        };
        assert_eq!(guard(&bytes, &few).unwrap_err().code, "xlsx_too_large");
        let cells = Limits {
            cells: 3,
            ..Limits::default()
        };
        let raw = from_xlsx_with(&bytes, None, &cells);
        assert_eq!(raw.issues.iter().next().unwrap().code, "xlsx_too_large");
        assert_eq!(
            guard(b"not a zip", &Limits::default()).unwrap_err().code,
            "invalid_xlsx"
        );
    }

    #[test]
    fn text_cells_follow_the_files_decimal_separator() {
        let bytes = book(&[
            ["indicator", "waarde"],
            ["klachten", "1.000"],
            ["formatie_fte", "12,5"],
        ]);
        let raw = from_xlsx(&bytes, Some("2023".into()));
        assert!(raw.issues.is_empty(), "{:?}", raw.issues);
        assert_eq!(raw.figures[0].value, Some(1000.0));
        assert_eq!(raw.figures[1].value, Some(12.5));
        assert_eq!(excel_precision(0.1 + 0.2), 0.3);
        assert_eq!(excel_precision(1200.0), 1200.0);
    }
}
