//! The Associatie's analysis: the public indicator page (trend, the breakdowns by team type,
//! size class, province and provides-help, the map) computed for the Associatie's audience, so
//! every cell shows its exact value, its flags (few organisations, small sample) and what the
//! public sees instead (the `publicConfStatus` the views return to the Associatie). The same
//! view functions, tables and templates as [`crate::web::pages`]; only the audience differs.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use askama::Template;

use super::{Form, OrExit, PortalChrome, PortalResult, render};
use crate::app::AppState;
use crate::auth::Role;
use crate::catalogue::IndicatorFilter;
use crate::views::ViewContext;
use crate::web::Lang;
use crate::web::pages::{
    self, Audience, Fact, IndicatorOption, Table, YearOption, indicator_label,
};

#[derive(Template)]
#[template(path = "web/portal/analysis.html")]
struct AnalysisPage {
    c: PortalChrome,
    action: &'static str,
    indicators: Vec<IndicatorOption>,
    years: Vec<YearOption>,
    en: bool,
    label: String,
    year: i32,
    facts: Vec<Fact>,
    public_href: String,
    trend: Table,
    breakdowns: Vec<Table>,
    municipalities: Table,
    unattributed: String,
}

/// `/portaal/analyse?indicator=CODE&period=2024`, the public page's parameters (default: the catalogue's first indicator,
/// the latest year with figures). The Associatie only; 403 for everyone else.
pub async fn analysis(state: web::Data<AppState>, req: HttpRequest) -> PortalResult {
    let lang = Lang::of(&req);
    let s = super::signed_in(&state, &req, lang).await?;
    let caller = s.caller();
    caller.require(&[Role::Associatie]).or_exit(lang)?;
    let q = Form::parse(req.query_string().as_bytes());
    let code = match q.get("indicator").trim() {
        "" => state
            .catalogue
            .list(&IndicatorFilter::default())
            .or_exit(lang)?
            .first()
            .map(|i| i.code.clone())
            .unwrap_or_default(),
        c => c.to_owned(),
    };
    let ind = state.catalogue.get(&code, None).or_exit(lang)?;
    let period = Some(q.get("period")).filter(|p| !p.trim().is_empty());
    let st = state.clone();
    let (figures, municipalities) = state
        .db
        .run(move |conn| {
            let ctx = ViewContext::new(&st, &caller);
            let figures =
                pages::indicator_figures(conn, &ctx, &code, period.as_deref(), &pages::BREAKDOWNS)?;
            let municipalities = pages::municipality_figures(conn, &ctx, &code, figures.year)?;
            Ok((figures, municipalities))
        })
        .await
        .or_exit(lang)?;
    let (trend, breakdowns) =
        pages::indicator_tables(&state, &ind, &figures, lang, Audience::Associatie);
    let year = figures.year;
    let label = indicator_label(&ind, lang);
    let p = super::text::PortalTexts::of(lang);
    render(
        &AnalysisPage {
            c: PortalChrome::new(
                &req,
                lang,
                format!("{} · {label}", p.an_title),
                Some(&s),
                "analysis",
            ),
            action: pages::ANALYSIS,
            indicators: pages::indicator_options(&state, &ind.code, lang).or_exit(lang)?,
            years: pages::year_options(figures.latest, year),
            en: lang == Lang::En,
            public_href: lang.href(
                &format!("/indicatoren/{}", ind.code),
                &[("period", &year.to_string())],
            ),
            facts: pages::indicator_facts(&state, &ind, lang),
            municipalities: pages::municipality_table(
                &state,
                &ind,
                &municipalities,
                year,
                lang,
                Audience::Associatie,
            ),
            unattributed: crate::web::format::count(
                municipalities.unattributed_organisations,
                lang,
            ),
            label,
            year,
            trend,
            breakdowns,
        },
        lang,
        StatusCode::OK,
    )
}
