//! CSV renderings of the views (`Accept: text/csv`, `?format=csv`): the tables of
//! [`super::table`], one row per group, columns named like the JSON fields, empty cells for
//! nulls, and a first column `row` marking each row `group`, `subtotal` or `total` (add up only
//! `group` rows).
//!
//! Two dialects (`?dialect=`):
//! - `default`: comma separated, decimal point, UTF-8 without BOM, LF line ends (RFC 4180 but
//!   for the line ends; what programs read).
//! - `excel-nl`: what Excel with Dutch settings opens by a double click: semicolon separated,
//!   decimal comma, UTF-8 with BOM, CRLF line ends. No thousands separators. The same columns
//!   and codes as the default dialect.
//!
//! Text cells (names, labels, codes) that a spreadsheet would read as a formula are neutralised
//! as OWASP's "CSV Injection" advises: a cell starting with `=`, `+`, `-`, `@`, a tab or a
//! carriage return (or a line feed, or the full-width `＝＋－＠`) gets a leading `'`. Numbers the
//! service writes itself (a negative change, say) stay numbers: only text cells change.

use std::borrow::Cow;

use super::aggregate::AggregateView;
use super::benchmark::BenchmarkView;
use super::completeness::CompletenessView;
use super::municipalities::MunicipalityView;
use super::table::{Cell, Table};
use super::trend::TrendView;

/// How a CSV file is written (`?dialect=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dialect {
    /// `default`: comma, decimal point, no BOM, LF.
    #[default]
    Default,
    /// `excel-nl`: semicolon, decimal comma, UTF-8 BOM, CRLF: Excel with Dutch settings.
    ExcelNl,
}

impl Dialect {
    pub const NAMES: [&str; 2] = ["default", "excel-nl"];

    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::Default => "default",
            Dialect::ExcelNl => "excel-nl",
        }
    }

    /// `default` or `excel-nl` (case-insensitive; `excel_nl` too).
    pub fn parse(s: &str) -> Option<Dialect> {
        match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "default" => Some(Dialect::Default),
            "excel-nl" => Some(Dialect::ExcelNl),
            _ => None,
        }
    }
}

/// `s` with a leading `'` when a spreadsheet would take it for a formula.
pub fn neutralise(s: &str) -> Cow<'_, str> {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r', '\n', '＝', '＋', '－', '＠']) {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    }
}

/// A number as the dialect writes it: at most six decimals, no trailing zeros, no thousands
/// separators.
pub fn number(x: f64, dialect: Dialect) -> String {
    let s = format!("{x:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    let s = if s == "-0" { "0" } else { s };
    match dialect {
        Dialect::Default => s.to_owned(),
        Dialect::ExcelNl => s.replace('.', ","),
    }
}

fn cell(c: &Cell, dialect: Dialect) -> String {
    match c {
        Cell::Text(s) => neutralise(s).into_owned(),
        Cell::Number(x) => number(*x, dialect),
        Cell::Int(i) => i.to_string(),
        Cell::Empty | Cell::Withheld => String::new(),
    }
}

/// Write rows of cells (the first row is the header) in a dialect.
pub fn write_rows<'a>(
    rows: impl IntoIterator<Item = Vec<Cow<'a, str>>>,
    dialect: Dialect,
) -> Vec<u8> {
    let mut builder = csv::WriterBuilder::new();
    let mut out = Vec::new();
    if dialect == Dialect::ExcelNl {
        builder.delimiter(b';').terminator(csv::Terminator::CRLF);
        out.extend_from_slice(b"\xEF\xBB\xBF");
    }
    let mut w = builder.from_writer(out);
    for r in rows {
        let _ = w.write_record(r.iter().map(|c| c.as_bytes()));
    }
    w.into_inner().unwrap_or_default()
}

/// A view's table as CSV in a dialect, the `row` marker first.
pub fn render(t: &Table, dialect: Dialect) -> Vec<u8> {
    let header = std::iter::once(
        std::iter::once(Cow::Borrowed("row"))
            .chain(t.columns.iter().map(|c| neutralise(c)))
            .collect::<Vec<_>>(),
    );
    let rows = t.rows.iter().map(|r| {
        std::iter::once(Cow::Borrowed(r.kind.as_str()))
            .chain(r.cells.iter().map(|c| Cow::Owned(cell(c, dialect))))
            .collect::<Vec<_>>()
    });
    write_rows(header.chain(rows), dialect)
}

fn default(t: Table) -> String {
    String::from_utf8(render(&t, Dialect::Default)).unwrap_or_default()
}

pub fn aggregate(v: &AggregateView) -> String {
    default(super::table::aggregate(v))
}

pub fn trend(v: &TrendView) -> String {
    default(super::table::trend(v))
}

pub fn benchmark(v: &BenchmarkView) -> String {
    default(super::table::benchmark(v))
}

pub fn completeness(v: &CompletenessView) -> String {
    default(super::table::completeness(v))
}

pub fn municipalities(v: &MunicipalityView) -> String {
    default(super::table::municipalities(v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::views::table::{Row, RowKind};

    fn table(rows: Vec<Vec<Cell>>) -> Table {
        Table {
            columns: vec!["name".into(), "change".into()],
            rows: rows
                .into_iter()
                .map(|cells| Row {
                    kind: RowKind::Group,
                    cells,
                })
                .collect(),
        }
    }

    #[test]
    fn csv_text_cells_are_neutralised_and_numbers_stay_numbers() {
        let t = table(vec![
            vec![
                Cell::text(r#"=HYPERLINK("http://x","y")"#),
                Cell::Number(-2.5),
            ],
            vec![Cell::text("@SUM(1+1)"), Cell::Int(-3)],
            vec![Cell::text("+cmd"), Cell::Empty],
            vec![Cell::text("-2+3"), Cell::Number(0.0)],
            vec![Cell::text("\tTab"), Cell::Withheld],
            vec![Cell::text("＝1+1"), Cell::Empty],
            vec![Cell::text("'s-Hertogenbosch"), Cell::Number(12.5)],
            vec![Cell::text("Buurtteam = Noord"), Cell::Empty],
        ]);
        assert_eq!(
            String::from_utf8(render(&t, Dialect::Default)).unwrap(),
            "row,name,change\n\
             group,\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",-2.5\n\
             group,'@SUM(1+1),-3\n\
             group,'+cmd,\n\
             group,'-2+3,0\n\
             group,'\tTab,\n\
             group,'＝1+1,\n\
             group,'s-Hertogenbosch,12.5\n\
             group,Buurtteam = Noord,\n"
        );
        assert_eq!(neutralise("Team Noord"), "Team Noord");
        assert_eq!(neutralise("\r=1"), "'\r=1");
    }

    #[test]
    fn excel_nl_dialect_semicolons_decimal_comma_bom_crlf() {
        let mut t = table(vec![
            vec![Cell::text("Team; Noord"), Cell::Number(-1234.5)],
            vec![Cell::text("=1"), Cell::Number(0.25)],
        ]);
        t.rows[1].kind = RowKind::Total;
        assert_eq!(
            String::from_utf8(render(&t, Dialect::ExcelNl)).unwrap(),
            "\u{feff}row;name;change\r\n\
             group;\"Team; Noord\";-1234,5\r\n\
             total;'=1;0,25\r\n"
        );
        assert_eq!(number(1e-9, Dialect::Default), "0");
        assert_eq!(number(1000.0, Dialect::ExcelNl), "1000");
    }
}
