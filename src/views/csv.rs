//! CSV renderings of the views (`Accept: text/csv`): one row per group, columns named like the
//! JSON fields, empty cells for nulls, decimal point.
//!
//! Text cells (names, labels, codes) that a spreadsheet would read as a formula are neutralised
//! as OWASP's "CSV Injection" advises: a cell starting with `=`, `+`, `-`, `@`, a tab or a
//! carriage return (or a line feed, or the full-width `＝＋－＠`) gets a leading `'`. Numbers the
//! service writes itself (a negative change, say) stay numbers: only [`text`] cells change.

use std::borrow::Cow;

use super::aggregate::AggregateView;
use super::benchmark::BenchmarkView;
use super::completeness::CompletenessView;
use super::municipalities::MunicipalityView;
use super::trend::TrendView;
use super::{Aggregate, Group, GroupDim};

const AGG_COLUMNS: [&str; 17] = [
    "value",
    "organisations",
    "numerator",
    "denominator",
    "respondents",
    "cases",
    "min",
    "q1",
    "median",
    "q3",
    "max",
    "suppressed",
    "suppressionReason",
    "confStatus",
    "publicConfStatus",
    "publicSuppressionReason",
    "flags",
];

/// One cell: a number the service formatted, or text (neutralised).
struct Cell(String);

/// A text cell; see the module documentation.
fn text(s: impl AsRef<str>) -> Cell {
    Cell(neutralise(s.as_ref()).into_owned())
}

/// `s` with a leading `'` when a spreadsheet would take it for a formula.
pub fn neutralise(s: &str) -> Cow<'_, str> {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r', '\n', '＝', '＋', '－', '＠']) {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    }
}

fn num(v: Option<f64>) -> Cell {
    Cell(
        v.map(|x| {
            let s = format!("{x:.6}");
            s.trim_end_matches('0').trim_end_matches('.').to_owned()
        })
        .unwrap_or_default(),
    )
}

fn int(v: Option<i64>) -> Cell {
    Cell(v.map(|x| x.to_string()).unwrap_or_default())
}

fn empty() -> Cell {
    Cell(String::new())
}

fn agg_cells(a: &Aggregate) -> Vec<Cell> {
    let d = a.distribution.as_ref();
    vec![
        num(a.value),
        int(a.organisations),
        int(a.numerator),
        int(a.denominator),
        int(a.respondents),
        int(a.cases),
        num(d.and_then(|d| d.min)),
        num(d.map(|d| d.q1)),
        num(d.map(|d| d.median)),
        num(d.map(|d| d.q3)),
        num(d.and_then(|d| d.max)),
        text(a.suppressed.to_string()),
        text(a.suppression_reason.map(|r| r.as_str()).unwrap_or_default()),
        text(a.conf_status.as_str()),
        text(a.public_conf_status.as_str()),
        text(
            a.public_suppression_reason
                .map(|r| r.as_str())
                .unwrap_or_default(),
        ),
        text(
            a.flags
                .iter()
                .map(|f| f.as_str())
                .collect::<Vec<_>>()
                .join("|"),
        ),
    ]
}

fn group_cells(g: &Group, dims: &[GroupDim]) -> Vec<Cell> {
    dims.iter()
        .map(|d| match d {
            GroupDim::TeamType => text(g.team_type.map(|t| t.as_str()).unwrap_or_default()),
            GroupDim::SizeClass => text(g.size_class.map(|s| s.as_str()).unwrap_or_default()),
            GroupDim::Province => text(g.province.as_deref().unwrap_or_default()),
            GroupDim::ProvidesHelp => text(g.provides_help.map(|h| h.as_str()).unwrap_or_default()),
            GroupDim::OrgForm => text(g.org_form.map(|o| o.as_str()).unwrap_or_default()),
            GroupDim::SelfRegistration => text(
                g.self_registration
                    .map(|b| b.to_string())
                    .unwrap_or_default(),
            ),
            GroupDim::Year => int(g.year.map(i64::from)),
        })
        .collect()
}

fn header(columns: &[&str]) -> Vec<Cell> {
    columns.iter().map(text).collect()
}

fn write(header: Vec<Cell>, rows: Vec<Vec<Cell>>) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(header.iter().map(|c| &c.0));
    for r in rows {
        let _ = w.write_record(r.iter().map(|c| &c.0));
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

pub fn aggregate(v: &AggregateView) -> String {
    let mut head = header(&["indicator", "from", "to"]);
    head.extend(v.group_by.iter().map(|d| text(d.as_str())));
    head.extend(header(&AGG_COLUMNS));
    let lead = |extra: Vec<Cell>| {
        let mut r = vec![
            text(&v.indicator.code),
            text(&v.from.code),
            text(&v.to.code),
        ];
        r.extend(extra);
        r
    };
    let mut rows: Vec<Vec<Cell>> = v
        .rows
        .iter()
        .map(|row| {
            let mut r = lead(group_cells(&row.group, &v.group_by));
            r.extend(agg_cells(&row.aggregate));
            r
        })
        .collect();
    let mut total = lead(v.group_by.iter().map(|_| text("total")).collect());
    total.extend(agg_cells(&v.total));
    rows.push(total);
    write(head, rows)
}

pub fn trend(v: &TrendView) -> String {
    let mut head = header(&["indicator"]);
    head.extend(v.group_by.iter().map(|d| text(d.as_str())));
    head.extend(header(&["year", "index", "change", "changeUnit"]));
    head.extend(header(&AGG_COLUMNS));
    let mut rows = Vec::new();
    for s in &v.series {
        for p in &s.points {
            let mut r = vec![text(&v.indicator.code)];
            r.extend(group_cells(&s.group, &v.group_by));
            r.extend([
                int(Some(i64::from(p.year))),
                num(p.index),
                num(p.change),
                text(v.change_unit.as_str()),
            ]);
            r.extend(agg_cells(&p.aggregate));
            rows.push(r);
        }
    }
    write(head, rows)
}

pub fn benchmark(v: &BenchmarkView) -> String {
    let mut head = header(&[
        "indicator",
        "from",
        "to",
        "organisation",
        "name",
        "scope",
        "percentileRank",
        "betterThanPercent",
    ]);
    head.extend(header(&AGG_COLUMNS));
    let lead = |scope: &str| {
        vec![
            text(&v.indicator.code),
            text(&v.from.code),
            text(&v.to.code),
            int(Some(v.organisation.id)),
            text(&v.organisation.name),
            text(scope),
            num(v.percentile_rank),
            num(v.better_than_percent),
        ]
    };
    let mut own = lead("organisation");
    own.push(num(v.value));
    own.extend(std::iter::repeat_with(empty).take(AGG_COLUMNS.len() - 1));
    let mut peers = lead("peers");
    peers.extend(agg_cells(&v.peers));
    let mut national = lead("national");
    national.extend(agg_cells(&v.national));
    write(head, vec![own, peers, national])
}

pub fn completeness(v: &CompletenessView) -> String {
    let head = header(&[
        "period",
        "scope",
        "code",
        "name",
        "applicable",
        "reported",
        "coverage",
        "confStatus",
    ]);
    let mut rows: Vec<Vec<Cell>> = v
        .indicators
        .iter()
        .map(|i| {
            vec![
                text(&v.period.code),
                text("indicator"),
                text(&i.code),
                text(&i.label_nl),
                int(Some(i.applicable)),
                int(i.reported),
                num(i.coverage),
                text(i.conf_status.as_str()),
            ]
        })
        .collect();
    rows.extend(v.organisations.iter().map(|o| {
        vec![
            text(&v.period.code),
            text("organisation"),
            int(Some(o.id)),
            text(&o.name),
            int(Some(o.applicable)),
            int(Some(o.reported)),
            num(o.coverage),
            text("F"),
        ]
    }));
    write(head, rows)
}

pub fn municipalities(v: &MunicipalityView) -> String {
    let mut head = header(&[
        "indicator",
        "from",
        "to",
        "code",
        "name",
        "province",
        "sizeClass",
    ]);
    head.extend(header(&AGG_COLUMNS));
    let rows = v
        .rows
        .iter()
        .map(|m| {
            let mut r = vec![
                text(&v.indicator.code),
                text(&v.from.code),
                text(&v.to.code),
                text(&m.code),
                text(&m.name),
                text(&m.province),
                text(m.size_class.as_str()),
            ];
            r.extend(agg_cells(&m.aggregate));
            r
        })
        .collect();
    write(head, rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_text_cells_are_neutralised_and_numbers_stay_numbers() {
        let out = write(
            header(&["name", "change"]),
            vec![
                vec![text(r#"=HYPERLINK("http://x","y")"#), num(Some(-2.5))],
                vec![text("@SUM(1+1)"), int(Some(-3))],
                vec![text("+cmd"), num(None)],
                vec![text("-2+3"), num(Some(0.0))],
                vec![text("\tTab"), empty()],
                vec![text("＝1+1"), empty()],
                vec![text("'s-Hertogenbosch"), num(Some(12.5))],
                vec![text("Buurtteam = Noord"), empty()],
            ],
        );
        assert_eq!(
            out,
            "name,change\n\
             \"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",-2.5\n\
             '@SUM(1+1),-3\n\
             '+cmd,\n\
             '-2+3,0\n\
             '\tTab,\n\
             '＝1+1,\n\
             's-Hertogenbosch,12.5\n\
             Buurtteam = Noord,\n"
        );
        assert_eq!(neutralise("Team Noord"), "Team Noord");
        assert_eq!(neutralise("\r=1"), "'\r=1");
    }
}
