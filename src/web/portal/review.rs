//! The Associatie's review queue: every submitted revision, those with warnings first.
//! Accepting and returning happen on the submission's page ([`super::team`]).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use askama::Template;

use super::{OrExit, PortalChrome, PortalResult, render};
use crate::app::AppState;
use crate::auth::Role;
use crate::submissions::{self, Status, SubmissionFilter};
use crate::web::Lang;

pub struct QueueRow {
    pub organisation: String,
    pub period: String,
    pub revision: String,
    pub figures: String,
    pub warnings: i32,
    pub posted_at: String,
    pub href: String,
}

#[derive(Template)]
#[template(path = "web/portal/review.html")]
struct QueuePage {
    c: PortalChrome,
    rows: Vec<QueueRow>,
}

pub async fn queue(state: web::Data<AppState>, req: HttpRequest) -> PortalResult {
    let lang = Lang::of(&req);
    let s = super::signed_in(&state, &req, lang).await?;
    let caller = s.caller();
    caller.require(&[Role::Associatie]).or_exit(lang)?;
    let reference = state.reference.clone();
    let mut rows = state
        .db
        .run(move |conn| {
            let filter = SubmissionFilter {
                status: Some(Status::Submitted),
                limit: Some(1000),
                ..SubmissionFilter::default()
            };
            let list = submissions::list(conn, &caller, &filter)?.items;
            let mut rows = Vec::with_capacity(list.len());
            for sub in list {
                let h = submissions::history(conn, &caller, sub.id)?;
                let latest = h.revisions.last();
                let org =
                    crate::registry::organisations::get(conn, &reference, sub.organisation_id)?;
                rows.push(QueueRow {
                    organisation: org.name,
                    period: sub.period.label.clone(),
                    revision: sub.latest_revision.to_string(),
                    figures: sub.figure_count.to_string(),
                    warnings: latest.map_or(0, |r| r.warning_count),
                    posted_at: latest
                        .map(|r| r.posted_at.0.format("%Y-%m-%d %H:%M UTC").to_string())
                        .unwrap_or_default(),
                    href: format!("/portaal/inzendingen/{}", sub.id),
                });
            }
            Ok(rows)
        })
        .await
        .or_exit(lang)?;
    rows.sort_by(|a, b| {
        b.warnings
            .cmp(&a.warnings)
            .then_with(|| a.posted_at.cmp(&b.posted_at))
    });
    for r in &mut rows {
        r.href = lang.href(&r.href, &[]);
    }
    let p = super::text::PortalTexts::of(lang);
    render(
        &QueuePage {
            c: PortalChrome::new(&req, lang, p.review_title.into(), Some(&s), "review"),
            rows,
        },
        lang,
        StatusCode::OK,
    )
}
