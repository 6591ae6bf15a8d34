//! Templates to fill in, per team type (`GET /api/v1/templates/{teamType}.xlsx` or `.csv`): one
//! row per indicator of the current catalogue version that applies to the team type and is not
//! retired, in the order of the catalogue.
//!
//! Columns: first the upload layout with Dutch names (`indicator` filled in; `gemeente`,
//! `waarde`, `teller`, `noemer`, `respondenten`, `aantal`, `toelichting` empty), then guidance
//! the upload ignores ([`crate::submissions::input::GUIDANCE_COLUMNS`]): `omschrijving` (the Dutch
//! label), `eenheid`, `soort`, `invullen` (which columns the indicator's kind needs),
//! `perioden` (the period types it may be reported for) and `definitie`. So a filled-in template
//! posts back as it is: rows left empty (only the indicator) are skipped with the warning
//! `rows_skipped`, and the period is given with `?period=`.
//!
//! The `.xlsx` has the sheet `cijfers` (the columns a kind does not use are grey) and a sheet
//! `uitleg` with instructions; the CSV is in the `excel-nl` dialect (semicolon, decimal comma,
//! BOM, CRLF), so Excel NL opens it by a double click and saves it back the same way.

use std::borrow::Cow;

use rust_xlsxwriter::{Color, Format, FormatPattern, Workbook, XlsxError};

use crate::catalogue::{Catalogue, Indicator, Kind};
use crate::error::{AppError, AppResult};
use crate::registry::TeamType;
use crate::views::csv::{Dialect, neutralise, write_rows};

/// The upload columns, as the template names them (Dutch).
pub const UPLOAD_COLUMNS: [&str; 8] = [
    "indicator",
    "gemeente",
    "waarde",
    "teller",
    "noemer",
    "respondenten",
    "aantal",
    "toelichting",
];

/// The guidance columns, in the template's order.
pub const GUIDANCE: [&str; 6] = [
    "omschrijving",
    "eenheid",
    "soort",
    "invullen",
    "perioden",
    "definitie",
];

/// The sheet an upload reads (see [`super::read::SHEET_NAMES`]).
pub const SHEET: &str = "cijfers";

/// The indicators a template lists: current version, applicable to the team type, not retired.
pub fn indicators(catalogue: &Catalogue, team_type: TeamType) -> Vec<&Indicator> {
    catalogue
        .current()
        .indicators
        .iter()
        .filter(|i| !i.retired && i.applies_to(team_type))
        .collect()
}

/// The Dutch upload columns a kind fills in.
pub fn fill_in(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Flow | Kind::Stock | Kind::Amount => &["waarde"],
        Kind::Ratio => &["teller", "noemer"],
        Kind::Survey => &["waarde", "respondenten"],
        Kind::MeanDuration => &["waarde", "aantal"],
    }
}

fn guidance(i: &Indicator) -> [String; 6] {
    [
        i.label_nl.clone(),
        i.unit.as_str().to_owned(),
        i.kind.as_str().to_owned(),
        fill_in(i.kind).join(", "),
        i.period_types
            .iter()
            .map(|p| p.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        i.definition.clone(),
    ]
}

/// The file name, e.g. `basisset-sjabloon-jeugd-v2.xlsx`.
pub fn file_name(catalogue: &Catalogue, team_type: TeamType, ext: &str) -> String {
    format!(
        "basisset-sjabloon-{}-{}.{ext}",
        team_type.as_str(),
        catalogue.current().version
    )
}

/// The CSV template (excel-nl dialect).
pub fn csv(catalogue: &Catalogue, team_type: TeamType) -> Vec<u8> {
    let header: Vec<Cow<'_, str>> = UPLOAD_COLUMNS
        .iter()
        .chain(GUIDANCE.iter())
        .map(|c| Cow::Borrowed(*c))
        .collect();
    let rows = indicators(catalogue, team_type).into_iter().map(|i| {
        let mut r: Vec<Cow<'_, str>> = vec![Cow::Owned(i.code.clone())];
        r.extend((1..UPLOAD_COLUMNS.len()).map(|_| Cow::Borrowed("")));
        r.extend(
            guidance(i)
                .into_iter()
                .map(|g| Cow::Owned(neutralise(&g).into_owned())),
        );
        r
    });
    write_rows(std::iter::once(header).chain(rows), Dialect::ExcelNl)
}

const INSTRUCTIONS: [&str; 12] = [
    "Basisset: sjabloon voor het aanleveren van cijfers",
    "",
    "1. Vul per indicator op het blad 'cijfers' de witte cellen in die de kolom 'invullen' noemt; grijze cellen gebruikt de indicator niet.",
    "2. Rijen die u leeg laat (alleen de indicator) worden overgeslagen. Rapporteert u per gemeente, kopieer dan de rij en vul 'gemeente' (GM-code) in.",
    "3. Getallen: typ ze als getal (1000 of 1.000 met Nederlandse instellingen). Percentages als 0-100. Geen formules die niet in Excel zijn berekend.",
    "4. 'toelichting' is voor context, nooit voor persoonsgegevens (BSN, namen, geboortedata).",
    "5. De kolommen omschrijving, eenheid, soort, invullen, perioden en definitie zijn uitleg: die leest de upload niet.",
    "6. Sla op als Excel-werkmap (.xlsx) en lever aan met ?period= (bijv. 2024 of 2024-Q2), eerst met ?dryRun=true:",
    "   curl -X POST 'https://<server>/api/v1/organisations/<id>/submissions?period=2024&dryRun=true' -H 'Authorization: Bearer <token>' -H 'Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' --data-binary @cijfers.xlsx",
    "7. Fouten noemen blad, rij, kolom en cel (bijv. cijfers, rij 5, kolom waarde, C5). Herstel ze en lever opnieuw aan; zonder fouten: ?submit=true.",
    "",
    "Template for posting figures: fill in the white cells named in 'invullen'; empty rows are skipped; errors name sheet, row, column and cell.",
];

fn internal(e: XlsxError) -> AppError {
    AppError::internal(format!("writing a template: {e}"))
}

/// The `.xlsx` template.
pub fn xlsx(catalogue: &Catalogue, team_type: TeamType) -> AppResult<Vec<u8>> {
    let build = || -> Result<Vec<u8>, XlsxError> {
        let head = Format::new()
            .set_bold()
            .set_background_color(Color::RGB(0xDDEBF7));
        let guide_head = Format::new()
            .set_bold()
            .set_italic()
            .set_background_color(Color::RGB(0xF2F2F2));
        let unused = Format::new()
            .set_pattern(FormatPattern::Solid)
            .set_background_color(Color::RGB(0xD9D9D9));
        let guide = Format::new()
            .set_italic()
            .set_font_color(Color::RGB(0x595959));
        let mut book = Workbook::new();
        let ws = book.add_worksheet();
        ws.set_name(SHEET)?;
        for (c, name) in UPLOAD_COLUMNS.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, *name, &head)?;
        }
        for (c, name) in GUIDANCE.iter().enumerate() {
            ws.write_string_with_format(0, (UPLOAD_COLUMNS.len() + c) as u16, *name, &guide_head)?;
        }
        ws.set_freeze_panes(1, 1)?;
        for (r, i) in indicators(catalogue, team_type).into_iter().enumerate() {
            let row = r as u32 + 1;
            ws.write_string(row, 0, &i.code)?;
            let used = fill_in(i.kind);
            for (c, name) in UPLOAD_COLUMNS.iter().enumerate().skip(2).take(5) {
                if !used.contains(name) {
                    ws.write_blank(row, c as u16, &unused)?;
                }
            }
            for (c, g) in guidance(i).iter().enumerate() {
                ws.write_string_with_format(row, (UPLOAD_COLUMNS.len() + c) as u16, g, &guide)?;
            }
        }
        ws.set_column_width(0, 44.0)?;
        for c in 1..UPLOAD_COLUMNS.len() as u16 {
            ws.set_column_width(c, 13.0)?;
        }
        ws.set_column_width(7, 30.0)?;
        ws.set_column_width(8, 50.0)?;
        for c in 9..13u16 {
            ws.set_column_width(c, 16.0)?;
        }
        ws.set_column_width(13, 80.0)?;
        let help = book.add_worksheet();
        help.set_name("uitleg")?;
        for (r, line) in INSTRUCTIONS.iter().enumerate() {
            help.write_string(r as u32, 0, *line)?;
        }
        help.set_column_width(0, 160.0)?;
        book.save_to_buffer()
    };
    build().map_err(internal)
}
