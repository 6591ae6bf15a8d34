//! Issue 13: the public website. Every page answers HTML on the demo data, shows only what the
//! anonymous API shows (a cell the public may not see never appears, not even as a number in
//! the HTML), and errors are HTML pages.

use chrono::Datelike;
use serde_json::Value;

use crate::common::*;
use basisset::catalogue::Unit;
use basisset::demo::{DemoOptions, seed};
use basisset::web::{Lang, format};

async fn demo_app() -> TestApp {
    let app = TestApp::spawn().await;
    let state = app.state.clone();
    let last = chrono::Utc::now().year() - 1;
    let opts = DemoOptions::new(16, last - 1, Some(last), 13);
    state
        .db
        .run(move |conn| seed(conn, &state.catalogue, &state.reference, &opts))
        .await
        .unwrap();
    app
}

async fn html(app: &TestApp, path: &str) -> String {
    let res = app.get_accept(path, "text/html", None).await;
    assert_eq!(res.status, 200, "{path}: {}", res.text());
    assert_eq!(
        res.header("content-type").as_deref(),
        Some("text/html; charset=utf-8"),
        "{path}"
    );
    let csp = res.header("content-security-policy").unwrap_or_default();
    assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
    assert!(!csp.contains("unsafe-eval"), "{path}: {csp}");
    let body = res.text();
    assert!(body.starts_with("<!doctype html>"), "{path}");
    // No inline script: every <script> loads a file from this origin.
    for (i, _) in body.match_indices("<script") {
        let tag = &body[i..body[i..].find('>').map_or(body.len(), |j| i + j)];
        assert!(
            tag.contains("src=\"/assets/"),
            "{path}: inline script {tag}"
        );
    }
    body
}

/// The `<tr>` of `key` in the table `table` of a page.
fn table_row<'a>(body: &'a str, table: &str, key: &str) -> &'a str {
    let start = body
        .find(&format!("<table id=\"{table}\""))
        .unwrap_or_else(|| panic!("no table {table}"));
    let rest = &body[start..];
    let end = rest.find("</table>").unwrap();
    let rest = &rest[..end];
    let row = rest
        .find(&format!("data-key=\"{key}\""))
        .unwrap_or_else(|| panic!("no row {key} in {table}"));
    let rest = &rest[row..];
    &rest[..rest.find("</tr>").unwrap()]
}

/// The `data-value` of a row: the exact number the page shows (None when empty).
fn data_value(tr: &str) -> Option<f64> {
    let start = tr.find("data-value=\"")? + "data-value=\"".len();
    let raw = &tr[start..start + tr[start..].find('"')?];
    (!raw.is_empty()).then(|| raw.parse().expect("a number"))
}

fn same(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() <= 1e-9 * b.abs().max(1.0))
}

fn group_key(row: &Value, dim: &str) -> String {
    match &row["group"][dim] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[actix_web::test]
async fn every_page_answers_html_and_shows_only_what_the_public_may_see() {
    let app = demo_app().await;
    let assoc = app.client_token("associatie", None).await;

    let dashboard = html(&app, "/").await;
    assert!(dashboard.contains("<html lang=\"nl\">"));
    assert!(dashboard.contains("Preventie en eigen kracht"));
    // Dutch notation: a decimal comma before the percent sign.
    let has_dutch_percent = dashboard.split("headline-value\">").skip(1).any(|s| {
        s.split('<')
            .next()
            .is_some_and(|v| v.ends_with('%') && v.contains(','))
    });
    assert!(has_dutch_percent, "{dashboard}");
    let english = html(&app, "/?lang=en").await;
    assert!(english.contains("<html lang=\"en\">"));
    assert!(english.contains("Prevention and own strength"));

    let list = html(&app, "/indicatoren").await;
    assert!(list.contains("/indicatoren/aandeel_zelfmelders"));

    // One indicator: every breakdown cell equals the anonymous API's; a cell the public may not
    // see is marked suppressed and its exact value (the Associatie's) is nowhere in the row.
    let code = "aandeel_zelfmelders";
    let year = chrono::Utc::now().year() - 1;
    let page = html(&app, &format!("/indicatoren/{code}?period={year}")).await;
    let mut suppressed = 0;
    let mut shown = 0;
    for dim in ["teamType", "sizeClass", "province", "providesHelp"] {
        let q = format!("/api/v1/views/aggregate?indicator={code}&period={year}&groupBy={dim}");
        let public = app.get(&q, None).await.json();
        let full = app.get(&q, Some(&assoc)).await.json();
        assert!(page.contains(&q.replace('&', "&#38;")), "download link {q}");
        for format in ["format=csv", "format=csv&dialect=excel-nl", "format=xlsx"] {
            let res = app.get(&format!("{q}&{format}"), None).await;
            assert_eq!(res.status, 200, "{q}&{format}: {}", res.text());
            assert!(page.contains(&format!("{q}&{format}").replace('&', "&#38;")));
        }
        for (p, f) in public["rows"]
            .as_array()
            .unwrap()
            .iter()
            .zip(full["rows"].as_array().unwrap())
        {
            let key = group_key(p, dim);
            assert_eq!(key, group_key(f, dim));
            let tr = table_row(&page, dim, &key);
            if p["suppressed"] == true {
                suppressed += 1;
                assert!(
                    tr.contains("data-status=\"suppressed\""),
                    "{dim} {key}: {tr}"
                );
                assert!(tr.contains("data-value=\"\""), "{dim} {key}: {tr}");
                if let Some(exact) = f["value"].as_f64() {
                    let shown_exact = format::value(exact, Unit::Percent, Lang::Nl);
                    assert!(
                        !tr.contains(&shown_exact),
                        "{dim} {key} leaks {shown_exact}: {tr}"
                    );
                    assert!(
                        !tr.contains(&exact.to_string()),
                        "{dim} {key} leaks {exact}: {tr}"
                    );
                }
                assert!(
                    !f["organisations"].is_null()
                        && !tr.contains(&format!(">{}<", f["organisations"])),
                    "{dim} {key}: {tr}"
                );
            } else if let Some(v) = p["value"].as_f64() {
                shown += 1;
                let exact = data_value(tr);
                assert!(same(exact, v), "{dim} {key}: {tr}");
                assert!(
                    tr.contains(&format::value(exact.unwrap(), Unit::Percent, Lang::Nl)),
                    "{dim} {key}: {tr}"
                );
            }
        }
    }
    assert!(shown > 0, "some cells shown");
    assert!(suppressed > 0, "the small demo set has suppressed cells");

    // The map: every municipality the anonymous view withholds is marked, never shown.
    let map = html(&app, &format!("/kaart?indicator={code}&period={year}")).await;
    let q = format!("/api/v1/views/municipalities?indicator={code}&period={year}");
    let public = app.get(&q, None).await.json();
    let mut cells = 0;
    for r in public["rows"].as_array().unwrap() {
        let tr = table_row(&map, "gemeenten", r["code"].as_str().unwrap());
        cells += 1;
        if r["suppressed"] == true {
            assert!(tr.contains("data-status=\"suppressed\""), "{tr}");
            assert!(tr.contains("data-value=\"\""), "{tr}");
        } else if let Some(v) = r["value"].as_f64() {
            assert!(same(data_value(tr), v), "{v}: {tr}");
        }
    }
    assert!(cells > 0);
    assert_eq!(map.matches("<tr data-key=\"GM").count(), 342);

    // A municipality an organisation serves.
    let orgs = app.get("/api/v1/organisations", None).await.json();
    let gm = orgs[0]["primaryMunicipality"].as_str().unwrap().to_owned();
    let org_name = orgs
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["primaryMunicipality"] == gm.as_str())
        .unwrap()["name"]
        .as_str()
        .unwrap()
        .to_owned();
    let muni = html(&app, &format!("/gemeenten/{gm}")).await;
    assert!(muni.contains(&org_name), "{org_name}");
    let muni_en = html(&app, &format!("/gemeenten/{gm}?lang=en")).await;
    assert!(muni_en.contains("<html lang=\"en\">"));

    // HEAD answers like GET, without a body.
    let res = app
        .send(
            actix_web::test::TestRequest::default()
                .method(actix_web::http::Method::HEAD)
                .uri("/kaart"),
        )
        .await;
    assert_eq!(res.status, 200);
}

#[actix_web::test]
async fn errors_are_html_pages_and_the_api_keeps_its_problem_documents() {
    let app = TestApp::spawn().await;
    for path in [
        "/indicatoren/bestaat_niet",
        "/gemeenten/GM9999",
        "/bestaat-niet",
    ] {
        let res = app
            .get_accept(path, "text/html,application/xhtml+xml", None)
            .await;
        assert_eq!(res.status, 404, "{path}");
        assert_eq!(
            res.header("content-type").as_deref(),
            Some("text/html; charset=utf-8"),
            "{path}"
        );
        assert!(res.text().contains("404"), "{path}");
        assert!(res.text().contains("Deze pagina bestaat niet."), "{path}");
    }
    let res = app
        .get_accept("/indicatoren/bestaat_niet?lang=en", "text/html", None)
        .await;
    assert!(res.text().contains("This page does not exist."));
    // A year outside the published range: 422, as a page.
    let res = app
        .get_accept(
            "/indicatoren/aandeel_zelfmelders?period=1990",
            "text/html",
            None,
        )
        .await;
    assert_eq!(res.status, 422);
    assert!(res.header("content-type").unwrap().starts_with("text/html"));
    // A query string the page cannot read: 400, as a page.
    let res = app
        .get_accept("/kaart?period=2024&period=2025", "text/html", None)
        .await;
    assert_eq!(res.status, 400, "{}", res.text());
    assert!(res.header("content-type").unwrap().starts_with("text/html"));
    // The API and unknown routes without Accept: text/html stay problem+json.
    app.get("/bestaat-niet", None)
        .await
        .assert_problem(404, "NOT_FOUND");
    app.get_accept("/api/v1/bestaat-niet", "text/html", None)
        .await
        .assert_problem(404, "NOT_FOUND");
    // The vendored libraries and the boundaries are served from the binary.
    for (asset, ty) in [
        (
            "/assets/vendor/plot.umd.min.js",
            "text/javascript; charset=utf-8",
        ),
        ("/assets/vendor/d3.min.js", "text/javascript; charset=utf-8"),
        (
            "/assets/vendor/topojson-client.min.js",
            "text/javascript; charset=utf-8",
        ),
        ("/assets/web/charts.js", "text/javascript; charset=utf-8"),
        ("/assets/web/map.js", "text/javascript; charset=utf-8"),
        ("/assets/web/site.css", "text/css; charset=utf-8"),
        ("/assets/web/gemeenten_2024.topojson", "application/json"),
    ] {
        let res = app.get(asset, None).await;
        assert_eq!(res.status, 200, "{asset}");
        assert_eq!(res.header("content-type").as_deref(), Some(ty), "{asset}");
    }
}
