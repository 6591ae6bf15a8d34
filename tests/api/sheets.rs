//! Spreadsheets: Dutch numbers read per file, `.xlsx` uploads, views as `.xlsx` and as CSV in
//! the `excel-nl` dialect, templates per team type. Everything through the HTTP API.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use rust_xlsxwriter::{CalculationMode, ExcelDateTime, Format, Formula, Workbook};
use serde_json::{Value, json};

use crate::common::*;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

fn path(org: i64) -> String {
    format!("/api/v1/organisations/{org}/submissions")
}

/// The figures of a submission, by indicator.
async fn figures(app: &TestApp, token: &str, id: i64) -> Vec<Value> {
    let detail = app
        .get(&format!("/api/v1/submissions/{id}"), Some(token))
        .await;
    assert_eq!(detail.status, 200, "{}", detail.text());
    detail.json()["figures"].as_array().unwrap().clone()
}

fn figure<'a>(figs: &'a [Value], code: &str) -> &'a Value {
    figs.iter()
        .find(|f| f["indicator"] == code)
        .unwrap_or_else(|| panic!("no {code} in {figs:?}"))
}

fn errors(body: &Value) -> Vec<Value> {
    body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors in {body}"))
        .clone()
}

#[track_caller]
fn error_at<'a>(errors: &'a [Value], field: &str, code: &str) -> &'a Value {
    errors
        .iter()
        .find(|e| e["field"] == field && e["code"] == code)
        .unwrap_or_else(|| panic!("no ({field}, {code}) in {errors:#?}"))
}

/// All sheets of a workbook, as rows of cells.
fn read_book(bytes: &[u8]) -> Vec<(String, Vec<Vec<Data>>)> {
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes.to_vec())).expect("an .xlsx workbook");
    book.sheet_names()
        .into_iter()
        .map(|name| {
            let range = book.worksheet_range(&name).unwrap();
            let rows = range.rows().map(|r| r.to_vec()).collect();
            (name, rows)
        })
        .collect()
}

fn sheet<'a>(book: &'a [(String, Vec<Vec<Data>>)], name: &str) -> &'a [Vec<Data>] {
    &book
        .iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no sheet {name}"))
        .1
}

fn text(d: &Data) -> String {
    match d {
        Data::String(s) => s.clone(),
        Data::Empty => String::new(),
        other => other.to_string(),
    }
}

/// A data sheet as maps from column name to cell.
fn records(rows: &[Vec<Data>]) -> Vec<std::collections::HashMap<String, Data>> {
    let head: Vec<String> = rows[0].iter().map(text).collect();
    rows[1..]
        .iter()
        .map(|r| {
            head.iter()
                .cloned()
                .zip(r.iter().cloned().chain(std::iter::repeat(Data::Empty)))
                .collect()
        })
        .collect()
}

fn total_row(rows: &[Vec<Data>]) -> std::collections::HashMap<String, Data> {
    records(rows)
        .into_iter()
        .find(|r| r["row"] == Data::String("total".into()))
        .expect("a total row")
}

/// Exactly as Excel with Dutch settings saves "CSV (puntkomma gescheiden)" in UTF-8: BOM,
/// semicolons, decimal comma, thousands dots (a number format with separators), CRLF.
const DUTCH_CSV: &str = "\u{feff}indicator;gemeente;waarde;teller;noemer;respondenten;aantal;toelichting\r\n\
    nieuwe_aanmeldingen;;1.000;;;;;\r\n\
    wachtlijst_inwoners;;12.000;;;;;Peildatum 31-12\r\n\
    klachten;;1.234.567;;;;;\r\n\
    formatie_fte;;1.234,5;;;;;\r\n\
    aandeel_zelfmelders;;;1.234;12.000;;;\r\n\
    cev_helpend;;74,5;;;1.939;;\"Najaarsmeting; digitaal\"\r\n\
    wachttijd_dagen;;12,5;;;;1.200;\r\n";

#[actix_web::test]
async fn a_dutch_excel_csv_stores_what_was_meant_and_exports_it_back() {
    let app = TestApp::spawn().await;
    let f = app.fixture().await;
    let res = app
        .post_raw(
            &format!(
                "{}?period=2023&publication=openbaar&submit=true",
                path(f.org_a)
            ),
            Some(&f.team_a),
            "text/csv; charset=utf-8",
            DUTCH_CSV,
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let id = res.json()["submissionId"].as_i64().unwrap();
    let figs = figures(&app, &f.team_a, id).await;
    assert_eq!(figs.len(), 7);
    assert_eq!(figure(&figs, "nieuwe_aanmeldingen")["value"], 1000.0);
    assert_eq!(figure(&figs, "wachtlijst_inwoners")["value"], 12000.0);
    assert_eq!(figure(&figs, "klachten")["value"], 1234567.0);
    assert_eq!(figure(&figs, "formatie_fte")["value"], 1234.5);
    let ratio = figure(&figs, "aandeel_zelfmelders");
    assert_eq!(ratio["numerator"], 1234);
    assert_eq!(ratio["denominator"], 12000);
    let survey = figure(&figs, "cev_helpend");
    assert_eq!(survey["value"], 74.5);
    assert_eq!(survey["respondents"], 1939);
    assert_eq!(survey["note"], "Najaarsmeting; digitaal");
    let mean = figure(&figs, "wachttijd_dagen");
    assert_eq!(mean["value"], 12.5);
    assert_eq!(mean["cases"], 1200);

    // The Associatie's view of the one organisation gives the same numbers, in JSON, in the
    // excel-nl CSV and in a workbook.
    for (code, field, want, nl) in [
        ("nieuwe_aanmeldingen", "value", 1000.0, "1000"),
        ("wachtlijst_inwoners", "value", 12000.0, "12000"),
        ("klachten", "value", 1234567.0, "1234567"),
        ("formatie_fte", "value", 1234.5, "1234,5"),
        ("aandeel_zelfmelders", "numerator", 1234.0, "1234"),
        ("aandeel_zelfmelders", "denominator", 12000.0, "12000"),
        ("cev_helpend", "value", 74.5, "74,5"),
        ("cev_helpend", "respondents", 1939.0, "1939"),
        ("wachttijd_dagen", "value", 12.5, "12,5"),
        ("wachttijd_dagen", "cases", 1200.0, "1200"),
    ] {
        let url = format!("/api/v1/views/aggregate?indicator={code}&period=2023");
        let view = app.get(&url, Some(&f.associatie)).await.json();
        assert_eq!(view["total"][field].as_f64(), Some(want), "{code} {view}");
        let csv = app
            .get(&format!("{url}&dialect=excel-nl"), Some(&f.associatie))
            .await;
        assert_eq!(csv.status, 200, "{}", csv.text());
        let text = csv.text();
        let head: Vec<&str> = text
            .trim_start_matches('\u{feff}')
            .lines()
            .next()
            .unwrap()
            .split(';')
            .collect();
        let total: Vec<&str> = text
            .lines()
            .find(|l| l.starts_with("total;"))
            .unwrap()
            .trim_end_matches('\r')
            .split(';')
            .collect();
        let col = head.iter().position(|h| *h == field).unwrap();
        assert_eq!(total[col], nl, "{code} {field}: {text}");
        let book = app
            .get(&format!("{url}&format=xlsx"), Some(&f.associatie))
            .await;
        assert_eq!(book.status, 200, "{}", book.text());
        let book = read_book(&book.body);
        let total = total_row(sheet(&book, "Gegevens"));
        assert_eq!(total[field], Data::Float(want), "{code} {field}");
    }
}

#[actix_web::test]
async fn ambiguous_numbers_are_refused_with_row_and_column() {
    let app = TestApp::spawn().await;
    let f = app.fixture().await;
    let post = |body: &'static str| {
        let app = &app;
        let (org, token) = (f.org_a, f.team_a.clone());
        async move {
            app.post_raw(
                &format!("{}?period=2023", path(org)),
                Some(&token),
                "text/csv",
                body,
            )
            .await
        }
    };
    // A decimal-comma file (semicolons): a dot must group thousands.
    let res =
        post("indicator;waarde;aantal\r\nformatie_fte;1.23;\r\nwachttijd_dagen;12,5;1.20\r\n")
            .await;
    let body = res.assert_problem(422, "VALIDATION_FAILED");
    let errs = errors(&body);
    let e = error_at(&errs, "row 2, column waarde", "ambiguous_number");
    assert_eq!(e["row"], 2);
    assert_eq!(e["column"], "waarde");
    assert!(e["message"].as_str().unwrap().contains("1.23"), "{e}");
    error_at(&errs, "row 3, column aantal", "ambiguous_number");

    // A comma-separated file that does not show its decimal separator: 1.000 is 1000 or 1.
    let res = post("indicator,value\nnieuwe_aanmeldingen,1.000\nklachten,\"1,000\"\n").await;
    let body = res.assert_problem(422, "VALIDATION_FAILED");
    let errs = errors(&body);
    let e = error_at(&errs, "row 2, column value", "ambiguous_number");
    let message = e["message"].as_str().unwrap();
    assert!(
        message.contains("1000") && message.contains(" 1 "),
        "{message}"
    );
    error_at(&errs, "row 3, column value", "ambiguous_number");

    // A decimal-point file: a comma could group thousands or be a decimal comma.
    let res = post("indicator,value\nformatie_fte,12.5\nklachten,\"1,000\"\n").await;
    let errs = errors(&res.assert_problem(422, "VALIDATION_FAILED"));
    error_at(&errs, "row 3, column value", "ambiguous_number");
    assert!(errs.iter().all(|e| e["row"] == 3), "{errs:?}");

    // The same file once it shows its decimal comma: 1.000 is a thousand.
    let res = post("indicator,value\nnieuwe_aanmeldingen,1.000\nformatie_fte,\"42,5\"\n").await;
    assert_eq!(res.status, 201, "{}", res.text());
    let figs = figures(
        &app,
        &f.team_a,
        res.json()["submissionId"].as_i64().unwrap(),
    )
    .await;
    assert_eq!(figure(&figs, "nieuwe_aanmeldingen")["value"], 1000.0);
    assert_eq!(figure(&figs, "formatie_fte")["value"], 42.5);

    // A number in a JSON string has no file to decide: 1.000 is refused, 12,5 is 12.5.
    let res = app
        .post_json(
            &path(f.org_b),
            Some(&f.team_b),
            &json!({"period": "2023", "figures": [
                {"indicator": "klachten", "value": "1.000"},
                {"indicator": "formatie_fte", "value": "12,5"}
            ]}),
        )
        .await;
    let errs = errors(&res.assert_problem(422, "VALIDATION_FAILED"));
    error_at(&errs, "/figures/0/value", "ambiguous_number");
    assert!(
        errs.iter().all(|e| e["field"] == "/figures/0/value"),
        "{errs:?}"
    );
}

const HEADER: [&str; 9] = [
    "indicator",
    "gemeente",
    "waarde",
    "teller",
    "noemer",
    "respondenten",
    "aantal",
    "toelichting",
    "omschrijving",
];

/// A workbook like a data officer's: sheet `cijfers` (not the first), typed numbers, text with a
/// decimal comma and thousands dots, an empty styled cell, a formula Excel calculated, a
/// guidance column and an unfilled template row.
fn officer_workbook(calculated: bool) -> Vec<u8> {
    let mut book = Workbook::new();
    if calculated {
        // As Excel saves it: values calculated (no fullCalcOnLoad).
        book.set_calculation_mode(CalculationMode::Manual);
    }
    book.add_worksheet().set_name("uitleg").unwrap();
    let ws = book.add_worksheet();
    ws.set_name("Cijfers").unwrap();
    for (c, h) in HEADER.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    let bold = Format::new().set_bold();
    // Row 2: a number cell.
    ws.write_string(1, 0, "nieuwe_aanmeldingen").unwrap();
    ws.write_number(1, 2, 1000.0).unwrap();
    ws.write_blank(1, 1, &bold).unwrap();
    ws.write_string(1, 8, "Nieuwe aanmeldingen").unwrap();
    // Row 3: text with a decimal comma (decides the file's separator).
    ws.write_string(2, 0, "formatie_fte").unwrap();
    ws.write_string(2, 2, "42,5").unwrap();
    // Row 4: text with a thousands dot.
    ws.write_string(3, 0, "wachtlijst_inwoners").unwrap();
    ws.write_string(3, 2, "1.200").unwrap();
    // Row 5: a formula with its calculated value.
    ws.write_string(4, 0, "aandeel_zelfmelders").unwrap();
    ws.write_formula(4, 3, Formula::new("=400+80").set_result("480"))
        .unwrap();
    ws.write_number(4, 4, 1200.0).unwrap();
    // Row 6: unfilled (skipped).
    ws.write_string(5, 0, "klachten").unwrap();
    ws.write_string(5, 8, "Ontvangen klachten").unwrap();
    // Row 7: survey with a note.
    ws.write_string(6, 0, "cev_helpend").unwrap();
    ws.write_number(6, 2, 74.5).unwrap();
    ws.write_number(6, 5, 1939.0).unwrap();
    ws.write_string(6, 7, "Najaarsmeting").unwrap();
    book.save_to_buffer().unwrap()
}

#[actix_web::test]
async fn xlsx_uploads_post_and_round_trip_through_the_views() {
    let app = TestApp::spawn().await;
    let f = app.fixture().await;
    let res = app
        .post_raw(
            &format!("{}?period=2023&submit=true", path(f.org_a)),
            Some(&f.team_a),
            XLSX,
            officer_workbook(true),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let out = res.json();
    assert_eq!(out["figureCount"], 5);
    let skipped = out["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["code"] == "rows_skipped")
        .unwrap_or_else(|| panic!("{out}"));
    assert_eq!(skipped["field"], "sheet Cijfers, rows 6");
    let id = out["submissionId"].as_i64().unwrap();
    let figs = figures(&app, &f.team_a, id).await;
    assert_eq!(figure(&figs, "nieuwe_aanmeldingen")["value"], 1000.0);
    assert_eq!(figure(&figs, "formatie_fte")["value"], 42.5);
    assert_eq!(figure(&figs, "wachtlijst_inwoners")["value"], 1200.0);
    assert_eq!(figure(&figs, "aandeel_zelfmelders")["numerator"], 480);
    assert_eq!(figure(&figs, "aandeel_zelfmelders")["denominator"], 1200);
    assert_eq!(figure(&figs, "cev_helpend")["respondents"], 1939);
    assert_eq!(figure(&figs, "cev_helpend")["note"], "Najaarsmeting");

    // Round trip: export each indicator's view as a workbook and read it back.
    for (code, field, want) in [
        ("nieuwe_aanmeldingen", "value", 1000.0),
        ("formatie_fte", "value", 42.5),
        ("wachtlijst_inwoners", "value", 1200.0),
        ("aandeel_zelfmelders", "numerator", 480.0),
        ("aandeel_zelfmelders", "denominator", 1200.0),
        ("aandeel_zelfmelders", "value", 40.0),
        ("cev_helpend", "value", 74.5),
        ("cev_helpend", "respondents", 1939.0),
    ] {
        let res = app
            .get(
                &format!("/api/v1/views/aggregate?indicator={code}&period=2023&format=xlsx"),
                Some(&f.associatie),
            )
            .await;
        assert_eq!(res.status, 200, "{}", res.text());
        let book = read_book(&res.body);
        assert_eq!(
            total_row(sheet(&book, "Gegevens"))[field],
            Data::Float(want),
            "{code} {field}"
        );
    }

    // Errors name sheet, row, column and cell. This workbook was written by a program that did
    // not calculate its formulas (fullCalcOnLoad): its formula cell is refused, not guessed.
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    ws.set_name("figures").unwrap();
    for (c, h) in ["indicator", "value", "numerator", "denominator", "remark"]
        .iter()
        .enumerate()
    {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    ws.write_string(1, 0, "aandeel_zelfmelders").unwrap();
    ws.write_formula(1, 2, Formula::new("=400+80").set_result("480"))
        .unwrap();
    ws.write_number(1, 3, 1200.0).unwrap();
    ws.write_string(2, 0, "formatie_fte").unwrap();
    ws.write_number(2, 1, 12.5).unwrap();
    // No text cell shows the decimal separator: text 1.000 could be a thousand or one.
    ws.write_string(3, 0, "klachten").unwrap();
    ws.write_string(3, 1, "1.000").unwrap();
    ws.write_string(4, 0, "nieuwe_aanmeldingen").unwrap();
    ws.write_datetime_with_format(
        4,
        1,
        ExcelDateTime::from_ymd(2023, 1, 5).unwrap(),
        &Format::new().set_num_format("dd-mm-yyyy"),
    )
    .unwrap();
    ws.write_string(5, 0, "onbekend").unwrap();
    ws.write_number(5, 1, 3.0).unwrap();
    let res = app
        .post_raw(
            &format!("{}?period=2023", path(f.org_b)),
            Some(&f.team_b),
            XLSX,
            book.save_to_buffer().unwrap(),
        )
        .await;
    let body = res.assert_problem(422, "VALIDATION_FAILED");
    let errs = errors(&body);
    let unknown = error_at(
        &errs,
        "sheet figures, row 1, column remark",
        "unknown_column",
    );
    assert_eq!(unknown["cell"], "E1");
    let formula = error_at(
        &errs,
        "sheet figures, row 2, column numerator",
        "formula_not_calculated",
    );
    assert_eq!(formula["sheet"], "figures");
    assert_eq!(formula["row"], 2);
    assert_eq!(formula["column"], "numerator");
    assert_eq!(formula["cell"], "C2");
    let ambiguous = error_at(
        &errs,
        "sheet figures, row 4, column value",
        "ambiguous_number",
    );
    assert_eq!(ambiguous["cell"], "B4");
    error_at(&errs, "sheet figures, row 5, column value", "not_a_number");
    let unknown = error_at(
        &errs,
        "sheet figures, row 6, column indicator",
        "unknown_indicator",
    );
    assert_eq!(unknown["cell"], "A6");

    // Not a workbook at all; and a workbook sent as CSV.
    let res = app
        .post_raw(
            &format!("{}?period=2023", path(f.org_b)),
            Some(&f.team_b),
            XLSX,
            "indicator;waarde\nklachten;1\n",
        )
        .await;
    let errs = errors(&res.assert_problem(422, "VALIDATION_FAILED"));
    error_at(&errs, "file", "invalid_xlsx");
    let res = app
        .post_raw(
            &format!("{}?period=2023", path(f.org_b)),
            Some(&f.team_b),
            "text/csv",
            officer_workbook(true),
        )
        .await;
    let errs = errors(&res.assert_problem(422, "VALIDATION_FAILED"));
    error_at(&errs, "file", "not_csv");
    // The same workbook with uncalculated formulas: refused at the formula's cell.
    let res = app
        .post_raw(
            &format!("{}?period=2023", path(f.org_b)),
            Some(&f.team_b),
            XLSX,
            officer_workbook(false),
        )
        .await;
    let errs = errors(&res.assert_problem(422, "VALIDATION_FAILED"));
    let formula = error_at(
        &errs,
        "sheet Cijfers, row 5, column teller",
        "formula_not_calculated",
    );
    assert_eq!(formula["cell"], "D5");
    assert!(
        errs.iter()
            .all(|e| e["row"] == 5 && e["sheet"] == "Cijfers"),
        "only the formula's figure: {errs:?}"
    );
}

/// Organisations for views with groups, totals and withheld cells.
async fn small_country(app: &TestApp) -> (Fixture, i64) {
    let f = app.fixture().await;
    let c = app.create_org("Sociaal team C", "wmo", &["GM0363"]).await;
    let team_c = app.client_token("team", Some(c)).await;
    for (org, token, value, publication) in [
        (f.org_a, &f.team_a, 120.5_f64, "associatie"),
        (f.org_b, &f.team_b, 80.25, "associatie"),
        (c, &team_c, 40.0, "openbaar"),
    ] {
        for (period, factor) in [("2022", 1.0), ("2023", 1.5)] {
            let res = app
                .post_json(
                    &format!("{}?submit=true", path(org)),
                    Some(token),
                    &json!({"period": period, "publication": publication, "figures": [
                        {"indicator": "formatie_fte", "value": value * factor},
                        {"indicator": "klachten", "value": (value * factor).round()}
                    ]}),
                )
                .await;
            assert_eq!(res.status, 201, "{}", res.text());
        }
    }
    (f, c)
}

#[actix_web::test]
async fn every_view_exports_as_a_workbook() {
    let app = TestApp::spawn().await;
    let (f, _) = small_country(&app).await;
    let data_version = {
        let mut conn = app.conn();
        basisset::db::data_version(&mut conn).unwrap()
    };
    let views = [
        (
            "/api/v1/views/aggregate?indicator=formatie_fte&period=2023&groupBy=teamType",
            Some(f.associatie.as_str()),
            "aggregate-formatie_fte-2023JJ00.xlsx",
        ),
        (
            "/api/v1/views/trend?indicator=formatie_fte&from=2022&to=2023",
            Some(f.associatie.as_str()),
            "trend-formatie_fte-2022-2023.xlsx",
        ),
        (
            &format!(
                "/api/v1/views/benchmark?organisation={}&indicator=formatie_fte&period=2023",
                f.org_a
            ),
            Some(f.team_a.as_str()),
            "benchmark-",
        ),
        (
            "/api/v1/views/completeness?period=2023",
            Some(f.associatie.as_str()),
            "completeness-2023JJ00.xlsx",
        ),
        (
            "/api/v1/views/municipalities?indicator=formatie_fte&period=2023",
            None,
            "municipalities-formatie_fte-2023JJ00.xlsx",
        ),
    ];
    for (url, token, file) in views {
        let res = app.get(&format!("{url}&format=xlsx"), token).await;
        assert_eq!(res.status, 200, "{url}: {}", res.text());
        assert_eq!(res.header("content-type").as_deref(), Some(XLSX), "{url}");
        let disposition = res.header("content-disposition").unwrap();
        assert!(
            disposition.starts_with("attachment; filename=\"") && disposition.contains(file),
            "{url}: {disposition}"
        );
        // The Accept header gives the same workbook.
        let by_accept = app.get_accept(url, XLSX, token).await;
        assert_eq!(by_accept.header("content-type").as_deref(), Some(XLSX));
        let book = read_book(&res.body);
        let names: Vec<&str> = book.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["Gegevens", "Indicator", "Toelichting"], "{url}");
        let data = sheet(&book, "Gegevens");
        assert_eq!(data[0][0], Data::String("row".into()), "{url}");
        assert!(data.len() > 1, "{url}: no rows");
        for r in records(data) {
            let kind = text(&r["row"]);
            assert!(
                ["group", "subtotal", "total"].contains(&kind.as_str()),
                "{url}: {kind}"
            );
        }
        // The legend: source, data version, the codes.
        let legend = sheet(&book, "Toelichting");
        let find = |key: &str| {
            legend
                .iter()
                .find(|r| text(&r[0]).starts_with(key))
                .unwrap_or_else(|| panic!("{key} in {legend:?}"))
                .clone()
        };
        assert_eq!(text(&find("bron")[1]), "basisset");
        assert!(text(&find("verzoek")[1]).starts_with(url.split('?').next().unwrap()));
        assert_eq!(
            find("gegevensversie")[1],
            Data::Float(data_version as f64),
            "{url}"
        );
        for code in [
            "F",
            "A",
            "M",
            "D",
            "N",
            "few_organisations",
            "dominance",
            "total",
        ] {
            find(code);
        }
    }

    // Typed numbers and the marked total row (the Associatie).
    let res = app
        .get(
            "/api/v1/views/aggregate?indicator=formatie_fte&period=2023&groupBy=teamType&format=xlsx",
            Some(&f.associatie),
        )
        .await;
    let book = read_book(&res.body);
    let rows = records(sheet(&book, "Gegevens"));
    let total = rows.iter().find(|r| text(&r["row"]) == "total").unwrap();
    assert_eq!(
        total["value"],
        Data::Float(120.5 * 1.5 + 80.25 * 1.5 + 60.0)
    );
    assert_eq!(total["organisations"], Data::Float(3.0));
    let jeugd = rows
        .iter()
        .find(|r| text(&r["teamType"]) == "jeugd")
        .unwrap();
    assert_eq!(text(&jeugd["row"]), "group");
    assert_eq!(jeugd["value"], Data::Float(120.5 * 1.5 + 80.25 * 1.5));
    let indicator = records(sheet(&book, "Indicator"));
    assert_eq!(indicator.len(), 1);
    assert_eq!(text(&indicator[0]["code"]), "formatie_fte");
    assert!(!text(&indicator[0]["definition"]).is_empty());
    assert_eq!(text(&indicator[0]["kind"]), "amount");

    // Withheld cells (anonymous: two organisations with unpublished figures in the jeugd
    // group): an empty value and the status code.
    let res = app
        .get(
            "/api/v1/views/aggregate?indicator=formatie_fte&period=2023&groupBy=teamType&format=xlsx",
            None,
        )
        .await;
    let book = read_book(&res.body);
    let rows = records(sheet(&book, "Gegevens"));
    let jeugd = rows
        .iter()
        .find(|r| text(&r["teamType"]) == "jeugd")
        .unwrap();
    assert_eq!(jeugd["value"], Data::Empty, "{jeugd:?}");
    assert_ne!(text(&jeugd["confStatus"]), "F");
    assert_eq!(text(&jeugd["suppressed"]), "true");
    let wmo = rows.iter().find(|r| text(&r["teamType"]) == "wmo").unwrap();
    assert_eq!(
        wmo["value"],
        Data::Float(60.0),
        "published figures are shown"
    );
}

#[actix_web::test]
async fn csv_dialects_and_the_total_row() {
    let app = TestApp::spawn().await;
    let (f, _) = small_country(&app).await;
    let url = "/api/v1/views/aggregate?indicator=formatie_fte&period=2023&groupBy=teamType";
    let nl = app
        .get(
            &format!("{url}&format=csv&dialect=excel-nl"),
            Some(&f.associatie),
        )
        .await;
    assert_eq!(nl.status, 200, "{}", nl.text());
    assert_eq!(
        nl.header("content-type").as_deref(),
        Some("text/csv; charset=utf-8")
    );
    assert!(nl.body.starts_with(b"\xEF\xBB\xBF"), "BOM");
    let text = nl.text();
    let body = text.trim_start_matches('\u{feff}');
    assert!(
        body.starts_with("row;indicator;from;to;teamType;value;"),
        "{body}"
    );
    assert!(body.ends_with("\r\n"));
    assert_eq!(
        body.matches("\r\n").count(),
        body.matches('\n').count(),
        "every line ends in CRLF"
    );
    let total = body.lines().find(|l| l.starts_with("total;")).unwrap();
    assert!(
        total.starts_with("total;formatie_fte;2023JJ00;2023JJ00;total;361,125;3;"),
        "{total}"
    );
    let jeugd = body.lines().find(|l| l.contains(";jeugd;")).unwrap();
    assert!(jeugd.starts_with("group;"), "{jeugd}");
    assert!(jeugd.contains(";301,125;"), "{jeugd}");
    // dialect alone means CSV.
    let alone = app
        .get(&format!("{url}&dialect=excel-nl"), Some(&f.associatie))
        .await;
    assert_eq!(alone.text(), text);

    // The default dialect: commas, decimal points, LF, no BOM, the same marker.
    let default = app
        .get(&format!("{url}&format=csv"), Some(&f.associatie))
        .await
        .text();
    assert!(
        default.starts_with("row,indicator,from,to,teamType,value,"),
        "{default}"
    );
    assert!(!default.contains('\r'));
    assert!(
        default
            .lines()
            .any(|l| l.starts_with("total,formatie_fte,2023JJ00,2023JJ00,total,361.125,3,")),
        "{default}"
    );
    assert_eq!(
        app.get(&format!("{url}&dialect=default"), Some(&f.associatie))
            .await
            .text(),
        default
    );
    // Every view marks its rows in CSV.
    for v in [
        "/api/v1/views/trend?indicator=klachten&from=2022&to=2023",
        "/api/v1/views/completeness?period=2023",
        "/api/v1/views/municipalities?indicator=klachten&period=2023",
    ] {
        let csv = app
            .get(&format!("{v}&dialect=excel-nl"), Some(&f.associatie))
            .await
            .text();
        assert!(csv.starts_with("\u{feff}row;"), "{v}: {csv}");
    }
    let benchmark = app
        .get(
            &format!(
                "/api/v1/views/benchmark?organisation={}&indicator=klachten&period=2023&format=csv",
                f.org_a
            ),
            Some(&f.team_a),
        )
        .await
        .text();
    let markers: Vec<&str> = benchmark
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(markers, ["group", "subtotal", "total"], "{benchmark}");

    // Wrong values and combinations.
    app.get(&format!("{url}&dialect=excel-fr"), None)
        .await
        .assert_problem(422, "VALIDATION_FAILED");
    app.get(&format!("{url}&format=xlsx&dialect=excel-nl"), None)
        .await
        .assert_problem(422, "VALIDATION_FAILED");
}

#[actix_web::test]
async fn templates_list_the_applicable_indicators_and_post_back_filled_in() {
    let app = TestApp::spawn().await;
    let f = app.fixture().await;
    let catalogue = app.state.catalogue.clone();
    let current = catalogue.current();
    for team_type in ["wmo", "jeugd", "integraal"] {
        let t: basisset::registry::TeamType = team_type.parse().unwrap();
        let want: Vec<String> = current
            .indicators
            .iter()
            .filter(|i| !i.retired && i.applies_to(t))
            .map(|i| i.code.clone())
            .collect();
        assert!(!want.is_empty());
        let res = app
            .get(&format!("/api/v1/templates/{team_type}.xlsx"), None)
            .await;
        assert_eq!(res.status, 200, "{}", res.text());
        assert_eq!(res.header("content-type").as_deref(), Some(XLSX));
        assert!(
            res.header("content-disposition")
                .unwrap()
                .contains(&format!(
                    "basisset-sjabloon-{team_type}-{}.xlsx",
                    current.version
                ))
        );
        let book = read_book(&res.body);
        let rows = sheet(&book, "cijfers");
        let head: Vec<String> = rows[0].iter().map(text).collect();
        assert_eq!(
            head,
            [
                "indicator",
                "gemeente",
                "waarde",
                "teller",
                "noemer",
                "respondenten",
                "aantal",
                "toelichting",
                "omschrijving",
                "eenheid",
                "soort",
                "invullen",
                "perioden",
                "definitie"
            ]
        );
        let got: Vec<String> = rows[1..].iter().map(|r| text(&r[0])).collect();
        assert_eq!(got, want, "{team_type}");

        let res = app
            .get(&format!("/api/v1/templates/{team_type}.csv"), None)
            .await;
        assert_eq!(res.status, 200);
        let csv = res.text();
        assert!(
            csv.starts_with("\u{feff}indicator;gemeente;waarde;"),
            "{csv}"
        );
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(b';')
            .from_reader(csv.trim_start_matches('\u{feff}').as_bytes());
        let got: Vec<String> = reader.records().map(|r| r.unwrap()[0].to_owned()).collect();
        assert_eq!(got, want, "{team_type} csv");
    }
    app.get("/api/v1/templates/ouderen.xlsx", None)
        .await
        .assert_problem(404, "NOT_FOUND");

    // Fill in the jeugd CSV template as Excel NL would save it: a few values, the rest empty.
    let csv = app.get("/api/v1/templates/jeugd.csv", None).await.text();
    let mut filled = Vec::new();
    let mut count = 0;
    for (i, line) in csv.split("\r\n").enumerate() {
        let mut line = line.to_owned();
        if i > 0 {
            for (code, cells) in [
                ("nieuwe_aanmeldingen;", ";;2.500"),
                ("formatie_fte;", ";;12,75"),
                ("aandeel_zelfmelders;", ";;;1.234;2.000"),
            ] {
                if line.starts_with(code) {
                    // Replace the empty upload cells after the code with the values.
                    let rest = &line[code.len() - 1..];
                    let empty = ";".repeat(7);
                    assert!(rest.starts_with(&empty), "{rest}");
                    let pad = ";".repeat(7 - cells.matches(';').count());
                    line = format!("{}{cells}{pad}{}", &code[..code.len() - 1], &rest[7..]);
                    count += 1;
                }
            }
        }
        filled.push(line);
    }
    assert_eq!(count, 3);
    let res = app
        .post_raw(
            &format!("{}?period=2023&dryRun=true", path(f.org_a)),
            Some(&f.team_a),
            "text/csv",
            filled.join("\r\n"),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let out = res.json();
    assert_eq!(out["figureCount"], 3, "{out}");
    let figs = out["figures"].as_array().unwrap();
    assert_eq!(figure(figs, "nieuwe_aanmeldingen")["value"], 2500.0);
    assert_eq!(figure(figs, "formatie_fte")["value"], 12.75);
    assert_eq!(figure(figs, "aandeel_zelfmelders")["numerator"], 1234);
    assert_eq!(figure(figs, "aandeel_zelfmelders")["denominator"], 2000);
    assert!(
        out["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["code"] == "rows_skipped")
    );

    // The .xlsx template, filled in (every cell kept, as Excel saves it) and posted as it is.
    let template = app.get("/api/v1/templates/jeugd.xlsx", None).await.body;
    let book = read_book(&template);
    let rows = sheet(&book, "cijfers");
    let mut out_book = Workbook::new();
    let ws = out_book.add_worksheet();
    ws.set_name("cijfers").unwrap();
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            if let Data::String(s) = cell {
                ws.write_string(r as u32, c as u16, s).unwrap();
            }
        }
        match text(&row[0]).as_str() {
            "klachten" => {
                ws.write_number(r as u32, 2, 17.0).unwrap();
            }
            "cev_helpend" => {
                ws.write_number(r as u32, 2, 81.5).unwrap();
                ws.write_number(r as u32, 5, 640.0).unwrap();
            }
            _ => {}
        }
    }
    let res = app
        .post_raw(
            &format!("{}?period=2023&dryRun=true", path(f.org_a)),
            Some(&f.team_a),
            XLSX,
            out_book.save_to_buffer().unwrap(),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let out = res.json();
    assert_eq!(out["figureCount"], 2, "{out}");
    let figs = out["figures"].as_array().unwrap();
    assert_eq!(figure(figs, "klachten")["value"], 17.0);
    assert_eq!(figure(figs, "cev_helpend")["respondents"], 640);
}
