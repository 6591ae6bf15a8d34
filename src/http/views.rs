//! REST: the cross-municipal views. JSON by default; `Accept: text/csv` (or `?format=csv`)
//! gives CSV. Anonymous callers are welcome: what they see is decided per audience.

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::app::AppState;
use crate::db::LazyConn;
use crate::db::versions::Snapshot;
use crate::error::{AppError, AppResult, Problem};
use crate::http::catalogue::parse_param;
use crate::period::Period;
use crate::registry::{OrgForm, OrgSizeClass, TeamType};
use crate::transport::Pending;
use crate::views::aggregate::{AggregateQuery, AggregateView};
use crate::views::benchmark::{BenchmarkQuery, BenchmarkView};
use crate::views::completeness::{CompletenessQuery, CompletenessView};
use crate::views::municipalities::{MunicipalityQuery, MunicipalityView};
use crate::views::trend::{TrendQuery, TrendView};
use crate::views::{self, GroupDim, HelpGroup, Pooling, ViewContext, ViewFilter};

fn wants_csv(req: &HttpRequest, format: Option<&str>) -> bool {
    format.is_some_and(|f| f.eq_ignore_ascii_case("csv"))
        || req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/csv"))
}

/// A view as the caller asked for it: a workbook or a CSV dialect ([`export_view`]), plain CSV
/// (`format=csv` or `Accept: text/csv`), or JSON.
///
/// [`export_view`]: crate::http::sheets::export_view
async fn reply<T: serde::Serialize + crate::views::table::Exportable>(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    format: Option<&str>,
    dialect: Option<&str>,
    view: &T,
    csv: impl FnOnce(&T) -> String,
) -> AppResult<HttpResponse> {
    if let Some(res) = crate::http::sheets::export_view(state, req, format, dialect, view).await? {
        return Ok(res);
    }
    Ok(if wants_csv(req, format) {
        HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
            .body(csv(view))
    } else {
        HttpResponse::Ok().json(view)
    })
}

/// A view for the caller: from the cache without a blocking step where it can be (an anonymous
/// caller, a cached view), else the caller checked and the view computed in one blocking step.
async fn answer<Q, T>(
    state: &web::Data<AppState>,
    caller: Pending,
    query: Q,
    cached: fn(&ViewContext<'_>, &Snapshot, &Q) -> Option<Arc<T>>,
    compute: fn(&mut LazyConn<'_>, &ViewContext<'_>, &Q) -> AppResult<Arc<T>>,
) -> AppResult<Arc<T>>
where
    Q: Send + 'static,
    T: Send + Sync + 'static,
{
    if let Some(view) = caller.cached(state, |ctx, at| cached(ctx, at, &query)) {
        return Ok(view);
    }
    let s = state.clone();
    caller
        .run_lazy(state, move |conn, caller| {
            compute(conn, &ViewContext::new(&s, caller), &query)
        })
        .await
}

/// Organisation filters shared by the views.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct FilterParams {
    #[param(value_type = Option<TeamType>)]
    team_type: Option<String>,
    /// klein, middelgroot, groot, or regionaal (organisations serving several municipalities).
    #[param(value_type = Option<OrgSizeClass>)]
    size_class: Option<String>,
    /// Province code PV20..PV31.
    province: Option<String>,
    #[param(value_type = Option<HelpGroup>)]
    provides_help: Option<String>,
    #[param(value_type = Option<OrgForm>)]
    org_form: Option<String>,
    /// Residents can register themselves: true or false.
    self_registration: Option<bool>,
}

impl FilterParams {
    fn to_filter(&self, state: &AppState) -> AppResult<ViewFilter> {
        let province = match self.province.as_deref().filter(|p| !p.trim().is_empty()) {
            Some(p) => Some(
                state
                    .reference
                    .province(p)
                    .ok_or_else(|| {
                        AppError::validation("province", "unknown_province", "use PV20..PV31")
                    })?
                    .code
                    .clone(),
            ),
            None => None,
        };
        Ok(ViewFilter {
            team_type: parse_param("teamType", self.team_type.as_deref())?,
            size_class: parse_param("sizeClass", self.size_class.as_deref())?,
            province,
            provides_help: parse_param("providesHelp", self.provides_help.as_deref())?,
            org_form: parse_param("orgForm", self.org_form.as_deref())?,
            self_registration: self.self_registration,
        })
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct AggregateParams {
    /// Indicator code.
    indicator: String,
    /// One period: 2023, 2023-H1, 2023-Q2, or a CBS code. Or use from/to (years).
    period: Option<String>,
    /// First year of a span.
    from: Option<String>,
    /// Last year of a span.
    to: Option<String>,
    /// Comma-separated: teamType, sizeClass, province, providesHelp, orgForm, selfRegistration,
    /// year. Callers other than the Associatie: groupBy and filters together must form a
    /// published table (README: disclosure policy).
    group_by: Option<String>,
    /// Catalogue version (default current).
    version: Option<String>,
    /// How figures of several organisations are combined: the indicator's own pooling by
    /// default (sum, ratio_of_sums, weighted_mean; distribution for indicators that are not
    /// additive). `distribution` gives quartiles only; a pooled value of an indicator that is
    /// not additive is refused (422, code not_additive on field pooling).
    #[param(value_type = Option<Pooling>)]
    pooling: Option<String>,

    /// `csv` for CSV (same as Accept: text/csv), `xlsx` for an Excel workbook (same as Accept:
    /// application/vnd.openxmlformats-officedocument.spreadsheetml.sheet), `json` (default).
    format: Option<String>,
    /// CSV dialect: `default` (comma, decimal point) or `excel-nl` (semicolon, decimal comma,
    /// BOM, CRLF); given alone it means CSV.
    dialect: Option<String>,
}

/// Aggregate of one indicator for a period or span, grouped and filtered.
#[utoipa::path(get, path = "/api/v1/views/aggregate", operation_id = "getAggregateView", tag = "views",
    params(AggregateParams, FilterParams),
    responses((status = 200, description = "The view: JSON, CSV (Accept: text/csv or format=csv, dialect=excel-nl) or an .xlsx workbook (format=xlsx)", content((AggregateView = "application/json"), (String = "text/csv"), (crate::http::sheets::XlsxFile = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 400, description = "A grouping, period or span not published to this caller (GROUPING_NOT_PUBLISHED, PERIOD_NOT_PUBLISHED, SPAN_NOT_PUBLISHED)", body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn aggregate(
    state: web::Data<AppState>,
    caller: Pending,
    req: HttpRequest,
    q: web::Query<AggregateParams>,
    f: web::Query<FilterParams>,
) -> AppResult<HttpResponse> {
    let query = AggregateQuery {
        indicator: q.indicator.clone(),
        version: q.version.clone(),
        units: views::units_of(q.period.as_deref(), q.from.as_deref(), q.to.as_deref())?,
        group_by: GroupDim::parse_list(q.group_by.as_deref(), "groupBy")?,
        filter: f.to_filter(&state)?,
        pooling: parse_param("pooling", q.pooling.as_deref())?,
    };
    let view = answer(
        &state,
        caller,
        query,
        views::aggregate::aggregate_cached,
        views::aggregate::aggregate_view,
    )
    .await?;
    reply(
        &state,
        &req,
        q.format.as_deref(),
        q.dialect.as_deref(),
        &*view,
        views::csv::aggregate,
    )
    .await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct TrendParams {
    indicator: String,
    /// First year.
    from: i32,
    /// Last year.
    to: i32,
    /// Base year, index = 100 (default: from).
    base: Option<i32>,
    /// Comma-separated: teamType, sizeClass, province, providesHelp, orgForm, selfRegistration.
    group_by: Option<String>,
    /// Only organisations with a value in every year.
    balanced: Option<bool>,
    version: Option<String>,
    /// How figures of several organisations are combined: the indicator's own pooling by
    /// default (sum, ratio_of_sums, weighted_mean; distribution for indicators that are not
    /// additive). `distribution` gives quartiles only; a pooled value of an indicator that is
    /// not additive is refused (422, code not_additive on field pooling).
    #[param(value_type = Option<Pooling>)]
    pooling: Option<String>,

    /// `json` (default), `csv` or `xlsx` (or the Accept header).
    format: Option<String>,
    /// CSV dialect: `default` or `excel-nl`; given alone it means CSV.
    dialect: Option<String>,
}

/// Yearly series per group, indexed to a base year.
#[utoipa::path(get, path = "/api/v1/views/trend", operation_id = "getTrendView", tag = "views",
    params(TrendParams, FilterParams),
    responses((status = 200, description = "The view: JSON, CSV (Accept: text/csv or format=csv, dialect=excel-nl) or an .xlsx workbook (format=xlsx)", content((TrendView = "application/json"), (String = "text/csv"), (crate::http::sheets::XlsxFile = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 400, description = "A grouping or balanced panel not published to this caller (GROUPING_NOT_PUBLISHED)", body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn trend(
    state: web::Data<AppState>,
    caller: Pending,
    req: HttpRequest,
    q: web::Query<TrendParams>,
    f: web::Query<FilterParams>,
) -> AppResult<HttpResponse> {
    let query = TrendQuery {
        indicator: q.indicator.clone(),
        version: q.version.clone(),
        from: q.from,
        to: q.to,
        base: q.base,
        group_by: GroupDim::parse_list(q.group_by.as_deref(), "groupBy")?,
        filter: f.to_filter(&state)?,
        balanced: q.balanced.unwrap_or(false),
        pooling: parse_param("pooling", q.pooling.as_deref())?,
    };
    let view = answer(
        &state,
        caller,
        query,
        views::trend::trend_cached,
        views::trend::trend_view,
    )
    .await?;
    reply(
        &state,
        &req,
        q.format.as_deref(),
        q.dialect.as_deref(),
        &*view,
        views::csv::trend,
    )
    .await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct BenchmarkParams {
    /// Organisation id.
    organisation: i64,
    indicator: String,
    period: String,
    /// Peer dimensions, comma-separated (default teamType,sizeClass).
    peers: Option<String>,
    version: Option<String>,
    /// How figures of several organisations are combined: the indicator's own pooling by
    /// default (sum, ratio_of_sums, weighted_mean; distribution for indicators that are not
    /// additive). `distribution` gives quartiles only; a pooled value of an indicator that is
    /// not additive is refused (422, code not_additive on field pooling).
    #[param(value_type = Option<Pooling>)]
    pooling: Option<String>,

    /// `json` (default), `csv` or `xlsx` (or the Accept header).
    format: Option<String>,
    /// CSV dialect: `default` or `excel-nl`; given alone it means CSV.
    dialect: Option<String>,
}

/// One organisation against its peers and the country.
#[utoipa::path(get, path = "/api/v1/views/benchmark", operation_id = "getBenchmarkView", tag = "views",
    params(BenchmarkParams),
    responses((status = 200, description = "The view: JSON, CSV (Accept: text/csv or format=csv, dialect=excel-nl) or an .xlsx workbook (format=xlsx)", content((BenchmarkView = "application/json"), (String = "text/csv"), (crate::http::sheets::XlsxFile = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 400, description = "Peers or a period not published to this caller (GROUPING_NOT_PUBLISHED, PERIOD_NOT_PUBLISHED)", body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation, or no figure of it the caller may see (the same answer for both)", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn benchmark(
    state: web::Data<AppState>,
    caller: Pending,
    req: HttpRequest,
    q: web::Query<BenchmarkParams>,
) -> AppResult<HttpResponse> {
    let peers = match q.peers.as_deref() {
        Some(p) if !p.trim().is_empty() => GroupDim::parse_list(Some(p), "peers")?,
        _ => vec![GroupDim::TeamType, GroupDim::SizeClass],
    };
    let query = BenchmarkQuery {
        organisation: q.organisation,
        indicator: q.indicator.clone(),
        version: q.version.clone(),
        units: views::units_of(Some(&q.period), None, None)?,
        peers,
        pooling: parse_param("pooling", q.pooling.as_deref())?,
    };
    let view = answer(
        &state,
        caller,
        query,
        views::benchmark::benchmark_cached,
        views::benchmark::benchmark_view,
    )
    .await?;
    reply(
        &state,
        &req,
        q.format.as_deref(),
        q.dialect.as_deref(),
        &*view,
        views::csv::benchmark,
    )
    .await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct CompletenessParams {
    period: String,
    #[param(value_type = Option<TeamType>)]
    team_type: Option<String>,
    version: Option<String>,
    /// `json` (default), `csv` or `xlsx` (or the Accept header).
    format: Option<String>,
    /// CSV dialect: `default` or `excel-nl`; given alone it means CSV.
    dialect: Option<String>,
}

/// Which organisations reported which indicators in a period.
#[utoipa::path(get, path = "/api/v1/views/completeness", operation_id = "getCompletenessView", tag = "views",
    params(CompletenessParams),
    responses((status = 200, description = "The view: JSON, CSV (Accept: text/csv or format=csv, dialect=excel-nl) or an .xlsx workbook (format=xlsx)", content((CompletenessView = "application/json"), (String = "text/csv"), (crate::http::sheets::XlsxFile = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn completeness(
    state: web::Data<AppState>,
    caller: Pending,
    req: HttpRequest,
    q: web::Query<CompletenessParams>,
) -> AppResult<HttpResponse> {
    let query = CompletenessQuery {
        period: Period::parse(&q.period)
            .map_err(|e| AppError::validation("period", "invalid_period", e))?,
        version: q.version.clone(),
        team_type: parse_param("teamType", q.team_type.as_deref())?,
    };
    let view = answer(
        &state,
        caller,
        query,
        views::completeness::completeness_cached,
        views::completeness::completeness_view,
    )
    .await?;
    reply(
        &state,
        &req,
        q.format.as_deref(),
        q.dialect.as_deref(),
        &*view,
        views::csv::completeness,
    )
    .await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct MunicipalityParams {
    indicator: String,
    period: Option<String>,
    from: Option<String>,
    to: Option<String>,
    version: Option<String>,
    /// `json` (default), `csv` or `xlsx` (or the Accept header).
    format: Option<String>,
    /// CSV dialect: `default` or `excel-nl`; given alone it means CSV.
    dialect: Option<String>,
}

/// The value per CBS municipality code, for maps.
#[utoipa::path(get, path = "/api/v1/views/municipalities", operation_id = "getMunicipalityView", tag = "views",
    params(MunicipalityParams),
    responses((status = 200, description = "The view: JSON, CSV (Accept: text/csv or format=csv, dialect=excel-nl) or an .xlsx workbook (format=xlsx)", content((MunicipalityView = "application/json"), (String = "text/csv"), (crate::http::sheets::XlsxFile = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 400, description = "A period not published to this caller (PERIOD_NOT_PUBLISHED)", body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn municipalities(
    state: web::Data<AppState>,
    caller: Pending,
    req: HttpRequest,
    q: web::Query<MunicipalityParams>,
) -> AppResult<HttpResponse> {
    let query = MunicipalityQuery {
        indicator: q.indicator.clone(),
        version: q.version.clone(),
        units: views::units_of(q.period.as_deref(), q.from.as_deref(), q.to.as_deref())?,
    };
    let view = answer(
        &state,
        caller,
        query,
        views::municipalities::municipality_cached,
        views::municipalities::municipality_view,
    )
    .await?;
    reply(
        &state,
        &req,
        q.format.as_deref(),
        q.dialect.as_deref(),
        &*view,
        views::csv::municipalities,
    )
    .await
}
