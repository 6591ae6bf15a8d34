//! CSV renderings of the views (`Accept: text/csv`): one row per group, columns named like the
//! JSON fields, empty cells for nulls, decimal point.

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

fn num(v: Option<f64>) -> String {
    v.map(|x| {
        let s = format!("{x:.6}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    })
    .unwrap_or_default()
}

fn int(v: Option<i64>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

fn agg_cells(a: &Aggregate) -> Vec<String> {
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
        a.suppressed.to_string(),
        a.suppression_reason
            .map(|r| r.as_str().to_owned())
            .unwrap_or_default(),
        a.conf_status.as_str().to_owned(),
        a.public_conf_status.as_str().to_owned(),
        a.public_suppression_reason
            .map(|r| r.as_str().to_owned())
            .unwrap_or_default(),
        a.flags
            .iter()
            .map(|f| f.as_str())
            .collect::<Vec<_>>()
            .join("|"),
    ]
}

fn group_cells(g: &Group, dims: &[GroupDim]) -> Vec<String> {
    dims.iter()
        .map(|d| {
            match d {
                GroupDim::TeamType => g.team_type.map(|t| t.as_str().to_owned()),
                GroupDim::SizeClass => g.size_class.map(|s| s.as_str().to_owned()),
                GroupDim::Province => g.province.clone(),
                GroupDim::ProvidesHelp => g.provides_help.map(|h| h.as_str().to_owned()),
                GroupDim::OrgForm => g.org_form.map(|o| o.as_str().to_owned()),
                GroupDim::SelfRegistration => g.self_registration.map(|b| b.to_string()),
                GroupDim::Year => g.year.map(|y| y.to_string()),
            }
            .unwrap_or_default()
        })
        .collect()
}

fn write(header: Vec<String>, rows: Vec<Vec<String>>) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(&header);
    for r in rows {
        let _ = w.write_record(&r);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

pub fn aggregate(v: &AggregateView) -> String {
    let mut header = vec!["indicator".to_owned(), "from".to_owned(), "to".to_owned()];
    header.extend(v.group_by.iter().map(|d| d.as_str().to_owned()));
    header.extend(AGG_COLUMNS.iter().map(|c| c.to_string()));
    let lead = |extra: Vec<String>| {
        let mut r = vec![
            v.indicator.code.clone(),
            v.from.code.clone(),
            v.to.code.clone(),
        ];
        r.extend(extra);
        r
    };
    let mut rows: Vec<Vec<String>> = v
        .rows
        .iter()
        .map(|row| {
            let mut r = lead(group_cells(&row.group, &v.group_by));
            r.extend(agg_cells(&row.aggregate));
            r
        })
        .collect();
    let mut total = lead(v.group_by.iter().map(|_| "total".to_owned()).collect());
    total.extend(agg_cells(&v.total));
    rows.push(total);
    write(header, rows)
}

pub fn trend(v: &TrendView) -> String {
    let mut header = vec!["indicator".to_owned()];
    header.extend(v.group_by.iter().map(|d| d.as_str().to_owned()));
    header.extend(
        ["year", "index", "change", "changeUnit"]
            .iter()
            .map(|c| c.to_string()),
    );
    header.extend(AGG_COLUMNS.iter().map(|c| c.to_string()));
    let mut rows = Vec::new();
    for s in &v.series {
        for p in &s.points {
            let mut r = vec![v.indicator.code.clone()];
            r.extend(group_cells(&s.group, &v.group_by));
            r.extend([
                p.year.to_string(),
                num(p.index),
                num(p.change),
                v.change_unit.as_str().to_owned(),
            ]);
            r.extend(agg_cells(&p.aggregate));
            rows.push(r);
        }
    }
    write(header, rows)
}

pub fn benchmark(v: &BenchmarkView) -> String {
    let mut header: Vec<String> = [
        "indicator",
        "from",
        "to",
        "organisation",
        "name",
        "scope",
        "percentileRank",
        "betterThanPercent",
    ]
    .iter()
    .map(|c| c.to_string())
    .collect();
    header.extend(AGG_COLUMNS.iter().map(|c| c.to_string()));
    let lead = |scope: &str| {
        vec![
            v.indicator.code.clone(),
            v.from.code.clone(),
            v.to.code.clone(),
            v.organisation.id.to_string(),
            v.organisation.name.clone(),
            scope.to_owned(),
            num(v.percentile_rank),
            num(v.better_than_percent),
        ]
    };
    let mut own = lead("organisation");
    own.push(num(v.value));
    own.extend(std::iter::repeat_n(String::new(), AGG_COLUMNS.len() - 1));
    let mut peers = lead("peers");
    peers.extend(agg_cells(&v.peers));
    let mut national = lead("national");
    national.extend(agg_cells(&v.national));
    write(header, vec![own, peers, national])
}

pub fn completeness(v: &CompletenessView) -> String {
    let header = [
        "period",
        "scope",
        "code",
        "name",
        "applicable",
        "reported",
        "coverage",
        "confStatus",
    ]
    .iter()
    .map(|c| c.to_string())
    .collect();
    let mut rows: Vec<Vec<String>> = v
        .indicators
        .iter()
        .map(|i| {
            vec![
                v.period.code.clone(),
                "indicator".into(),
                i.code.clone(),
                i.label_nl.clone(),
                i.applicable.to_string(),
                int(i.reported),
                num(i.coverage),
                i.conf_status.as_str().to_owned(),
            ]
        })
        .collect();
    rows.extend(v.organisations.iter().map(|o| {
        vec![
            v.period.code.clone(),
            "organisation".into(),
            o.id.to_string(),
            o.name.clone(),
            o.applicable.to_string(),
            o.reported.to_string(),
            num(o.coverage),
            "F".to_owned(),
        ]
    }));
    write(header, rows)
}

pub fn municipalities(v: &MunicipalityView) -> String {
    let mut header: Vec<String> = [
        "indicator",
        "from",
        "to",
        "code",
        "name",
        "province",
        "sizeClass",
    ]
    .iter()
    .map(|c| c.to_string())
    .collect();
    header.extend(AGG_COLUMNS.iter().map(|c| c.to_string()));
    let rows = v
        .rows
        .iter()
        .map(|m| {
            let mut r = vec![
                v.indicator.code.clone(),
                v.from.code.clone(),
                v.to.code.clone(),
                m.code.clone(),
                m.name.clone(),
                m.province.clone(),
                m.size_class.as_str().to_owned(),
            ];
            r.extend(agg_cells(&m.aggregate));
            r
        })
        .collect();
    write(header, rows)
}
