//! REST: spreadsheets. Templates per team type (`GET /api/v1/templates/{teamType}.xlsx|.csv`),
//! and the export of views as `.xlsx` or as CSV in a dialect. The workbooks, templates and CSV
//! dialects are built in [`crate::sheets`] and [`crate::views::csv`]; this only picks the format
//! and writes the response. (`.xlsx` uploads are read by the submissions handler.)

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::app::AppState;
use crate::error::{AppError, AppResult, Problem};
use crate::registry::TeamType;
use crate::sheets::{self, XLSX};
use crate::views::csv::Dialect;
use crate::views::table::Exportable;

/// An `.xlsx` workbook (binary).
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct XlsxFile(#[allow(dead_code)] Vec<u8>);

/// The format a view is answered in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv(Dialect),
    Xlsx,
}

/// From `?format=` (`json`, `csv`, `xlsx`), `?dialect=` (`default`, `excel-nl`; CSV only, and
/// alone it means CSV) and the `Accept` header.
pub fn format_of(
    req: &HttpRequest,
    format: Option<&str>,
    dialect: Option<&str>,
) -> AppResult<Format> {
    let dialect = match dialect.map(str::trim).filter(|d| !d.is_empty()) {
        None => None,
        Some(d) => Some(Dialect::parse(d).ok_or_else(|| {
            AppError::validation(
                "dialect",
                "invalid_value",
                format!("dialect is one of: {}", Dialect::NAMES.join(", ")),
            )
        })?),
    };
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let format = format.map(|f| f.trim().to_ascii_lowercase());
    let chosen = match format.as_deref() {
        Some("xlsx") => Format::Xlsx,
        Some("csv") => Format::Csv(dialect.unwrap_or_default()),
        Some("json") => Format::Json,
        _ if dialect.is_some() => Format::Csv(dialect.unwrap_or_default()),
        _ if accept.contains(XLSX) => Format::Xlsx,
        _ if accept.contains("text/csv") => Format::Csv(Dialect::Default),
        _ => Format::Json,
    };
    if dialect.is_some() && !matches!(chosen, Format::Csv(_)) {
        return Err(AppError::validation(
            "dialect",
            "invalid_combination",
            "dialect applies to CSV (format=csv)",
        ));
    }
    Ok(chosen)
}

fn attachment(name: &str) -> (header::HeaderName, String) {
    (
        header::CONTENT_DISPOSITION,
        format!("attachment; filename=\"{name}\""),
    )
}

/// The view as `.xlsx`, or as CSV in the dialect asked for; `None` for what the handler
/// answers itself (JSON, and CSV without a dialect).
pub async fn export_view<T: Exportable>(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    format: Option<&str>,
    dialect: Option<&str>,
    view: &T,
) -> AppResult<Option<HttpResponse>> {
    match format_of(req, format, dialect)? {
        Format::Json => Ok(None),
        Format::Csv(_) if dialect.is_none_or(|d| d.trim().is_empty()) => Ok(None),
        Format::Csv(d) => Ok(Some(
            HttpResponse::Ok()
                .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
                .insert_header(attachment(&format!("{}.csv", view.file_stem())))
                .body(crate::views::csv::render(&view.table(), d)),
        )),
        Format::Xlsx => {
            let data_version = state.db.run(crate::db::data_version).await?;
            let version = view
                .catalogue_version()
                .map(str::to_owned)
                .or_else(|| query_param(req, "version"))
                .filter(|v| state.catalogue.version(v).is_some())
                .unwrap_or_else(|| state.catalogue.current().version.clone());
            let indicators = view
                .indicator_codes()
                .iter()
                .filter_map(|c| state.catalogue.indicator(&version, c))
                .collect();
            let meta = sheets::export::Meta {
                request: crate::transport::redacted_target(req.uri()),
                data_version,
                exported_at: chrono::Utc::now(),
                indicators,
            };
            let bytes = sheets::export::workbook(&view.table(), &meta)?;
            Ok(Some(
                HttpResponse::Ok()
                    .insert_header((header::CONTENT_TYPE, XLSX))
                    .insert_header(attachment(&format!("{}.xlsx", view.file_stem())))
                    .body(bytes),
            ))
        }
    }
}

fn query_param(req: &HttpRequest, name: &str) -> Option<String> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(req.query_string())
        .ok()?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

fn team_type(raw: &str) -> AppResult<TeamType> {
    TeamType::parse(raw).ok_or_else(|| {
        AppError::not_found(
            "template",
            format!("{raw:?} (team types: {})", TeamType::expected()),
        )
    })
}

/// Template to fill in for a team type, as an Excel workbook.
///
/// One row per indicator of the current catalogue version that applies to the team type (not
/// retired), in the upload layout (`indicator`, `gemeente`, `waarde`, `teller`, `noemer`,
/// `respondenten`, `aantal`, `toelichting`), plus guidance columns the upload ignores
/// (`omschrijving`, `eenheid`, `soort`, `invullen`, `perioden`, `definitie`). Filled in, it posts
/// back as it is (`POST /api/v1/organisations/{id}/submissions?period=...`); rows left empty
/// are skipped.
#[utoipa::path(get, path = "/api/v1/templates/{teamType}.xlsx", tag = "templates",
    params(("teamType" = TeamType, Path, description = "Team type: wmo, jeugd or integraal")),
    responses(
        (status = 200, description = "The template workbook (sheet `cijfers`, instructions on sheet `uitleg`)",
            content((XlsxFile = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 404, description = "Unknown team type", body = Problem, content_type = "application/problem+json")))]
pub async fn template_xlsx(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let t = team_type(&path)?;
    let bytes = sheets::template::xlsx(&state.catalogue, t)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, XLSX))
        .insert_header(attachment(&sheets::template::file_name(
            &state.catalogue,
            t,
            "xlsx",
        )))
        .body(bytes))
}

/// Template to fill in for a team type, as CSV in the `excel-nl` dialect (semicolon, decimal
/// comma, UTF-8 BOM, CRLF): the same rows and columns as the `.xlsx` template.
#[utoipa::path(get, path = "/api/v1/templates/{teamType}.csv", tag = "templates",
    params(("teamType" = TeamType, Path, description = "Team type: wmo, jeugd or integraal")),
    responses(
        (status = 200, description = "The template (CSV, excel-nl dialect)", content((String = "text/csv"))),
        (status = 404, description = "Unknown team type", body = Problem, content_type = "application/problem+json")))]
pub async fn template_csv(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let t = team_type(&path)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
        .insert_header(attachment(&sheets::template::file_name(
            &state.catalogue,
            t,
            "csv",
        )))
        .body(sheets::template::csv(&state.catalogue, t)))
}
