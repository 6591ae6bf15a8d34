//! Every view as one table: named columns, typed cells, and per row what it stands for (a
//! group, a subtotal or the total), so that sums in a spreadsheet do not count anything twice.
//! The CSV renderings ([`super::csv`]) and the workbooks ([`crate::sheets::export`]) are both
//! written from these tables: the same columns and rows in every format.
//!
//! The first column, `row`, marks each row: `group` (a group, a municipality, an indicator, an
//! organisation), `subtotal` (a row that contains group rows of the same table: a benchmark's
//! peers hold the organisation) or `total` (everything the table covers: an aggregate's total,
//! a trend series without grouping, a benchmark's national figure). Add up only the `group`
//! rows. Completeness lists two breakdowns, by indicator and by organisation (column `scope`):
//! add up within one scope.

use super::aggregate::AggregateView;
use super::benchmark::BenchmarkView;
use super::completeness::CompletenessView;
use super::municipalities::MunicipalityView;
use super::trend::TrendView;
use super::{Aggregate, Group, GroupDim};

/// The aggregate columns shared by the views, in order.
pub const AGG_COLUMNS: [&str; 18] = [
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
    "pooling",
];

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Text: a name, a label, a code (neutralised in CSV, a text cell in a workbook).
    Text(String),
    /// A number the service computed (a decimal).
    Number(f64),
    /// A whole number (a count, a year, an id).
    Int(i64),
    /// Nothing (null).
    Empty,
    /// A value withheld from this caller: empty, marked in a workbook; `confStatus` says why.
    Withheld,
}

impl Cell {
    pub fn text(s: impl AsRef<str>) -> Cell {
        Cell::Text(s.as_ref().to_owned())
    }
    pub fn num(v: Option<f64>) -> Cell {
        v.map(Cell::Number).unwrap_or(Cell::Empty)
    }
    pub fn int(v: Option<i64>) -> Cell {
        v.map(Cell::Int).unwrap_or(Cell::Empty)
    }
}

crate::text_enum! {
    /// What a row stands for (the `row` column).
    pub enum RowKind {
        /// A group: add these up.
        Group = "group",
        /// A row holding group rows of the same table.
        Subtotal = "subtotal",
        /// Everything the table covers.
        Total = "total",
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub kind: RowKind,
    pub cells: Vec<Cell>,
}

/// A view as a table. `columns` excludes the `row` marker, which every rendering puts first.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Row>,
}

fn columns(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

fn agg_cells(a: &Aggregate) -> Vec<Cell> {
    let d = a.distribution.as_ref();
    let flags = a
        .flags
        .iter()
        .map(|f| f.as_str())
        .collect::<Vec<_>>()
        .join("|");
    vec![
        if a.suppressed {
            Cell::Withheld
        } else {
            Cell::num(a.value)
        },
        Cell::int(a.organisations),
        Cell::int(a.numerator),
        Cell::int(a.denominator),
        Cell::int(a.respondents),
        Cell::int(a.cases),
        Cell::num(d.and_then(|d| d.min)),
        Cell::num(d.map(|d| d.q1)),
        Cell::num(d.map(|d| d.median)),
        Cell::num(d.map(|d| d.q3)),
        Cell::num(d.and_then(|d| d.max)),
        Cell::text(a.suppressed.to_string()),
        Cell::text(a.suppression_reason.map(|r| r.as_str()).unwrap_or_default()),
        Cell::text(a.conf_status.as_str()),
        Cell::text(a.public_conf_status.as_str()),
        Cell::text(
            a.public_suppression_reason
                .map(|r| r.as_str())
                .unwrap_or_default(),
        ),
        if flags.is_empty() {
            Cell::Empty
        } else {
            Cell::Text(flags)
        },
        Cell::text(a.pooling.as_str()),
    ]
}

fn group_cells(g: &Group, dims: &[GroupDim]) -> Vec<Cell> {
    let text = |s: Option<&str>| s.map(Cell::text).unwrap_or(Cell::Empty);
    dims.iter()
        .map(|d| match d {
            GroupDim::TeamType => text(g.team_type.map(|t| t.as_str())),
            GroupDim::SizeClass => text(g.size_class.map(|s| s.as_str())),
            GroupDim::Province => text(g.province.as_deref()),
            GroupDim::ProvidesHelp => text(g.provides_help.map(|h| h.as_str())),
            GroupDim::OrgForm => text(g.org_form.map(|o| o.as_str())),
            GroupDim::SelfRegistration => {
                text(g.self_registration.map(|b| b.to_string()).as_deref())
            }
            GroupDim::Year => Cell::int(g.year.map(i64::from)),
        })
        .collect()
}

pub fn aggregate(v: &AggregateView) -> Table {
    let mut head = columns(&["indicator", "from", "to"]);
    head.extend(v.group_by.iter().map(|d| d.as_str().to_owned()));
    head.extend(columns(&AGG_COLUMNS));
    let lead = |extra: Vec<Cell>| {
        let mut r = vec![
            Cell::text(&v.indicator.code),
            Cell::text(&v.from.code),
            Cell::text(&v.to.code),
        ];
        r.extend(extra);
        r
    };
    let mut rows: Vec<Row> = v
        .rows
        .iter()
        .map(|row| {
            let mut r = lead(group_cells(&row.group, &v.group_by));
            r.extend(agg_cells(&row.aggregate));
            Row {
                kind: RowKind::Group,
                cells: r,
            }
        })
        .collect();
    let mut total = lead(v.group_by.iter().map(|_| Cell::text("total")).collect());
    total.extend(agg_cells(&v.total));
    rows.push(Row {
        kind: RowKind::Total,
        cells: total,
    });
    Table {
        columns: head,
        rows,
    }
}

pub fn trend(v: &TrendView) -> Table {
    let mut head = columns(&["indicator"]);
    head.extend(v.group_by.iter().map(|d| d.as_str().to_owned()));
    head.extend(columns(&["year", "index", "change", "changeUnit"]));
    head.extend(columns(&AGG_COLUMNS));
    let kind = if v.group_by.is_empty() {
        RowKind::Total
    } else {
        RowKind::Group
    };
    let mut rows = Vec::new();
    for s in &v.series {
        for p in &s.points {
            let mut r = vec![Cell::text(&v.indicator.code)];
            r.extend(group_cells(&s.group, &v.group_by));
            r.extend([
                Cell::Int(i64::from(p.year)),
                Cell::num(p.index),
                Cell::num(p.change),
                Cell::text(v.change_unit.as_str()),
            ]);
            r.extend(agg_cells(&p.aggregate));
            rows.push(Row { kind, cells: r });
        }
    }
    Table {
        columns: head,
        rows,
    }
}

pub fn benchmark(v: &BenchmarkView) -> Table {
    let mut head = columns(&[
        "indicator",
        "from",
        "to",
        "organisation",
        "name",
        "scope",
        "percentileRank",
        "betterThanPercent",
    ]);
    head.extend(columns(&AGG_COLUMNS));
    let lead = |scope: &str| {
        vec![
            Cell::text(&v.indicator.code),
            Cell::text(&v.from.code),
            Cell::text(&v.to.code),
            Cell::Int(v.organisation.id),
            Cell::text(&v.organisation.name),
            Cell::text(scope),
            Cell::num(v.percentile_rank),
            Cell::num(v.better_than_percent),
        ]
    };
    let mut own = lead("organisation");
    own.push(Cell::num(v.value));
    own.extend(std::iter::repeat_n(Cell::Empty, AGG_COLUMNS.len() - 1));
    let mut peers = lead("peers");
    peers.extend(agg_cells(&v.peers));
    let mut national = lead("national");
    national.extend(agg_cells(&v.national));
    Table {
        columns: head,
        rows: vec![
            Row {
                kind: RowKind::Group,
                cells: own,
            },
            Row {
                kind: RowKind::Subtotal,
                cells: peers,
            },
            Row {
                kind: RowKind::Total,
                cells: national,
            },
        ],
    }
}

pub fn completeness(v: &CompletenessView) -> Table {
    let head = columns(&[
        "period",
        "scope",
        "code",
        "name",
        "applicable",
        "reported",
        "coverage",
        "confStatus",
    ]);
    let mut rows: Vec<Row> = v
        .indicators
        .iter()
        .map(|i| Row {
            kind: RowKind::Group,
            cells: vec![
                Cell::text(&v.period.code),
                Cell::text("indicator"),
                Cell::text(&i.code),
                Cell::text(&i.label_nl),
                Cell::Int(i.applicable),
                if i.conf_status.is_free() {
                    Cell::int(i.reported)
                } else {
                    Cell::Withheld
                },
                Cell::num(i.coverage),
                Cell::text(i.conf_status.as_str()),
            ],
        })
        .collect();
    rows.extend(v.organisations.iter().map(|o| Row {
        kind: RowKind::Group,
        cells: vec![
            Cell::text(&v.period.code),
            Cell::text("organisation"),
            Cell::Int(o.id),
            Cell::text(&o.name),
            Cell::Int(o.applicable),
            Cell::Int(o.reported),
            Cell::num(o.coverage),
            Cell::text("F"),
        ],
    }));
    Table {
        columns: head,
        rows,
    }
}

pub fn municipalities(v: &MunicipalityView) -> Table {
    let mut head = columns(&[
        "indicator",
        "from",
        "to",
        "code",
        "name",
        "province",
        "sizeClass",
    ]);
    head.extend(columns(&AGG_COLUMNS));
    let rows = v
        .rows
        .iter()
        .map(|m| {
            let mut r = vec![
                Cell::text(&v.indicator.code),
                Cell::text(&v.from.code),
                Cell::text(&v.to.code),
                Cell::text(&m.code),
                Cell::text(&m.name),
                Cell::text(&m.province),
                Cell::text(m.size_class.as_str()),
            ];
            r.extend(agg_cells(&m.aggregate));
            Row {
                kind: RowKind::Group,
                cells: r,
            }
        })
        .collect();
    Table {
        columns: head,
        rows,
    }
}

/// A view that can be exported: its table, a file name, and the indicators it is about.
pub trait Exportable {
    /// File name without extension, e.g. `aggregate-cev_helpend-2021`.
    fn file_stem(&self) -> String;
    fn table(&self) -> Table;
    /// The indicator codes the view is about (its definitions go into a workbook).
    fn indicator_codes(&self) -> Vec<String>;
    /// The catalogue version the view resolved its indicators in, when it says.
    fn catalogue_version(&self) -> Option<&str> {
        None
    }
}

/// A file name part: letters, digits, `_` and `-` only.
fn safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn span(from: &str, to: &str) -> String {
    if from == to {
        safe(from)
    } else {
        format!("{}-{}", safe(from), safe(to))
    }
}

impl Exportable for AggregateView {
    fn file_stem(&self) -> String {
        format!(
            "aggregate-{}-{}",
            safe(&self.indicator.code),
            span(&self.from.code, &self.to.code)
        )
    }
    fn table(&self) -> Table {
        aggregate(self)
    }
    fn indicator_codes(&self) -> Vec<String> {
        vec![self.indicator.code.clone()]
    }
}

impl Exportable for TrendView {
    fn file_stem(&self) -> String {
        format!(
            "trend-{}-{}-{}",
            safe(&self.indicator.code),
            self.from,
            self.to
        )
    }
    fn table(&self) -> Table {
        trend(self)
    }
    fn indicator_codes(&self) -> Vec<String> {
        vec![self.indicator.code.clone()]
    }
}

impl Exportable for BenchmarkView {
    fn file_stem(&self) -> String {
        format!(
            "benchmark-{}-{}-{}",
            self.organisation.id,
            safe(&self.indicator.code),
            span(&self.from.code, &self.to.code)
        )
    }
    fn table(&self) -> Table {
        benchmark(self)
    }
    fn indicator_codes(&self) -> Vec<String> {
        vec![self.indicator.code.clone()]
    }
}

impl Exportable for CompletenessView {
    fn file_stem(&self) -> String {
        format!("completeness-{}", safe(&self.period.code))
    }
    fn table(&self) -> Table {
        completeness(self)
    }
    fn indicator_codes(&self) -> Vec<String> {
        self.indicators.iter().map(|i| i.code.clone()).collect()
    }
    fn catalogue_version(&self) -> Option<&str> {
        Some(&self.catalogue_version)
    }
}

impl Exportable for MunicipalityView {
    fn file_stem(&self) -> String {
        format!(
            "municipalities-{}-{}",
            safe(&self.indicator.code),
            span(&self.from.code, &self.to.code)
        )
    }
    fn table(&self) -> Table {
        municipalities(self)
    }
    fn indicator_codes(&self) -> Vec<String> {
        vec![self.indicator.code.clone()]
    }
}
