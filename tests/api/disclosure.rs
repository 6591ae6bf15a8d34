//! Issue 10: disclosure control, tested as the attacker would. On a seeded national data set
//! with many figures at publication level `associatie`, collect every cell an outsider can
//! obtain for one indicator and year, through every endpoint (aggregate with every grouping and
//! filter, trend, benchmark of every organisation with every peer grouping, values per
//! municipality), in JSON and CSV, over REST and GraphQL. Check that the same cell gets the same
//! answer everywhere, then attack: write every shown cell as a linear equation in the hidden
//! figures and
//!
//! - decide exactly (modular arithmetic over two large primes: integer elimination, no
//!   rounding) whether any hidden figure is determined by the equations, as an outsider and as
//!   every team that knows its own figures;
//! - bound every hidden figure with the attacker's LP (the equations, non-negativity and each
//!   kind's link: numerator ≤ denominator, n·% ≤ 100·n), again also for every team, and require
//!   an interval of at least ±10% around the true value;
//! - try quantile inversion (quartiles of few hidden values give the values) and reading who
//!   reported from withheld cells.
//!
//! The truth (which organisation contributes what) is recomputed here from the stored figures,
//! independently of the views' code. The attacker is given more than the service shows: every
//! published figure exactly and which organisations contribute to which cell.

// Linear algebra over index ranges reads best with indices.
#![allow(clippy::needless_range_loop)]

use std::collections::{BTreeMap, BTreeSet, HashMap};

use diesel::prelude::*;
use serde_json::{Value, json};

use crate::common::*;
use basisset::db::schema::figures;

const YEAR: i32 = 2023;
/// One indicator of every kind (flow, stock, amount, ratio, survey, mean duration).
const INDICATORS: [(&str, Kind); 6] = [
    ("klachten", Kind::Sum),
    ("wachtlijst_inwoners", Kind::Sum),
    ("formatie_fte", Kind::Sum),
    ("aandeel_zelfmelders", Kind::Ratio),
    ("cev_helpend", Kind::Survey),
    ("wachttijd_dagen", Kind::Mean),
];

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Sum,
    Ratio,
    Survey,
    Mean,
}

impl Kind {
    fn comps(self) -> usize {
        if self == Kind::Sum { 1 } else { 2 }
    }
    /// The known link between the components: x0 ≤ f·x1.
    fn link(self) -> Option<f64> {
        match self {
            Kind::Ratio => Some(1.0),
            Kind::Survey => Some(100.0),
            _ => None,
        }
    }
}

/// One organisation's figures for the year, per part (a municipality, or organisation-wide).
#[derive(Debug, Clone)]
struct Part {
    /// The municipality the part counts for on the map, if any.
    municipality: Option<String>,
    comps: [f64; 2],
    published: bool,
}

#[derive(Debug, Clone)]
struct Org {
    id: i64,
    /// Characteristic -> value, as the API writes them.
    attrs: BTreeMap<&'static str, String>,
    parts: Vec<Part>,
}

impl Org {
    fn hidden(&self) -> bool {
        self.parts.iter().any(|p| !p.published)
    }
}

/// A cell, by what it covers: characteristic=value pairs, or a municipality.
type CellKey = BTreeSet<(String, String)>;

fn muni_key(code: &str) -> CellKey {
    BTreeSet::from([("municipality".to_owned(), code.to_owned())])
}

/// What an outsider was shown of a cell.
#[derive(Debug, Clone, PartialEq)]
struct Shown {
    status: String,
    /// Published components (as the attacker derives them from value and counts).
    comps: Option<[f64; 2]>,
    organisations: Option<i64>,
    quartiles: Option<[f64; 3]>,
    min_or_max: bool,
}

fn shown(kind: Kind, a: &Value) -> Shown {
    let status = a["confStatus"].as_str().unwrap_or("?").to_owned();
    let f = |k: &str| a[k].as_f64();
    let comps = match kind {
        Kind::Sum => f("value").map(|v| [v, 0.0]),
        Kind::Ratio => match (f("numerator"), f("denominator")) {
            (Some(n), Some(d)) => Some([n, d]),
            _ => None,
        },
        Kind::Survey => match (f("value"), f("respondents")) {
            (Some(v), Some(n)) => Some([v * n, n]),
            _ => None,
        },
        Kind::Mean => match (f("value"), f("cases")) {
            (Some(v), Some(n)) => Some([v * n, n]),
            _ => None,
        },
    };
    let d = &a["distribution"];
    Shown {
        status,
        comps,
        organisations: a["organisations"].as_i64(),
        quartiles: match (d["q1"].as_f64(), d["median"].as_f64(), d["q3"].as_f64()) {
            (Some(a), Some(b), Some(c)) => Some([a, b, c]),
            _ => None,
        },
        min_or_max: !d["min"].is_null() || !d["max"].is_null(),
    }
}

/// CSV cells of a view, keyed like the JSON ones (value and counts only).
fn csv_rows(text: &str) -> Vec<HashMap<String, String>> {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_owned).collect();
    r.records()
        .map(|rec| {
            header
                .iter()
                .cloned()
                .zip(rec.unwrap().iter().map(str::to_owned))
                .collect()
        })
        .collect()
}

// ---- the truth, recomputed from the stored figures

fn truth(app: &TestApp, indicator: &str, kind: Kind, registry: &[Value]) -> Vec<Org> {
    type Row = (
        i64,
        String,
        chrono::NaiveDate,
        Option<String>,
        Option<f64>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        String,
    );
    let start = chrono::NaiveDate::from_ymd_opt(YEAR, 1, 1).unwrap();
    let end = chrono::NaiveDate::from_ymd_opt(YEAR, 12, 31).unwrap();
    let mut conn = app.conn();
    let rows: Vec<Row> = figures::table
        .filter(figures::counted)
        .filter(figures::indicator.eq(indicator))
        .filter(figures::period_start.ge(start))
        .filter(figures::period_end.le(end))
        .select((
            figures::organisation_id,
            figures::period_type,
            figures::period_start,
            figures::municipality,
            figures::value,
            figures::numerator,
            figures::denominator,
            figures::respondents,
            figures::cases,
            figures::publication,
        ))
        .load(&mut *conn)
        .unwrap();
    let flow = indicator == "klachten";
    let last_value = matches!(indicator, "wachtlijst_inwoners" | "formatie_fte");
    let mut by_part: BTreeMap<(i64, Option<String>), Vec<Row>> = BTreeMap::new();
    for r in rows {
        by_part.entry((r.0, r.3.clone())).or_default().push(r);
    }
    let mut orgs: BTreeMap<i64, Org> = BTreeMap::new();
    for o in registry {
        let id = o["id"].as_i64().unwrap();
        let s = |v: &Value| match v {
            Value::Null => "null".to_owned(),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let help = match &o["providesHelp"] {
            _ if o["providesHelpSource"] == "not_applicable" => "not_applicable",
            Value::Bool(true) => "yes",
            Value::Bool(false) => "no",
            _ => "unknown",
        };
        let attrs = BTreeMap::from([
            ("teamType", s(&o["teamType"])),
            ("sizeClass", s(&o["sizeClass"])),
            ("province", s(&o["province"])),
            ("providesHelp", help.to_owned()),
            ("orgForm", s(&o["orgForm"])),
            ("selfRegistration", s(&o["selfRegistration"])),
        ]);
        orgs.insert(
            id,
            Org {
                id,
                attrs,
                parts: Vec::new(),
            },
        );
    }
    let only_municipality = |id: i64| -> Option<String> {
        let o = registry.iter().find(|o| o["id"] == id)?;
        let served: Vec<&Value> = o["municipalities"].as_array()?.iter().collect();
        (served.len() == 1).then(|| served[0]["code"].as_str().unwrap().to_owned())
    };
    for ((org, muni), rows) in by_part {
        // The year's figure if reported, else the quarters: flows need all four, stocks take
        // the last, the rest pool.
        let yearly: Vec<&Row> = rows.iter().filter(|r| r.1 == "year").collect();
        let chosen: Vec<&Row> = if !yearly.is_empty() {
            yearly
        } else {
            let q: Vec<&Row> = rows.iter().filter(|r| r.1 == "quarter").collect();
            if flow && q.len() < 4 {
                continue;
            }
            if last_value {
                let last = q.iter().map(|r| r.2).max();
                q.into_iter().filter(|r| Some(r.2) == last).collect()
            } else {
                q
            }
        };
        if chosen.is_empty() {
            continue;
        }
        let mut c = [0.0, 0.0];
        for r in &chosen {
            match kind {
                Kind::Sum => c[0] += r.4.unwrap(),
                Kind::Ratio => {
                    c[0] += r.5.unwrap() as f64;
                    c[1] += r.6.unwrap() as f64;
                }
                Kind::Survey => {
                    c[0] += r.4.unwrap() * r.7.unwrap() as f64;
                    c[1] += r.7.unwrap() as f64;
                }
                Kind::Mean => {
                    c[0] += r.4.unwrap() * r.8.unwrap() as f64;
                    c[1] += r.8.unwrap() as f64;
                }
            }
        }
        let municipality = muni.clone().or_else(|| only_municipality(org));
        orgs.get_mut(&org).unwrap().parts.push(Part {
            municipality,
            comps: c,
            published: chosen.iter().all(|r| r.9 == "openbaar"),
        });
    }
    orgs.into_values().filter(|o| !o.parts.is_empty()).collect()
}

// ---- collecting everything an outsider can obtain

struct Collected {
    cells: BTreeMap<CellKey, Shown>,
    /// (source, key) of every answer, for the consistency check.
    seen: Vec<(String, CellKey, Shown)>,
}

impl Collected {
    fn add(&mut self, source: &str, key: CellKey, s: Shown) {
        self.seen.push((source.to_owned(), key.clone(), s.clone()));
        self.cells.entry(key).or_insert(s);
    }
}

fn group_key(group: &Value, extra: &[(String, String)]) -> CellKey {
    let mut k: CellKey = extra.iter().cloned().collect();
    if let Some(obj) = group.as_object() {
        for (dim, v) in obj {
            if dim == "year" || v.is_null() {
                continue;
            }
            let v = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            k.insert((dim.clone(), v));
        }
    }
    k
}

const DIMS: [&str; 6] = [
    "teamType",
    "sizeClass",
    "province",
    "providesHelp",
    "orgForm",
    "selfRegistration",
];

/// Every cell the caller can obtain (`full`), or only the aggregates per published table and
/// the caller's own benchmark (what a team sees beyond the public).
async fn collect(
    app: &TestApp,
    token: Option<&str>,
    indicator: &str,
    kind: Kind,
    orgs: &[Org],
    full: bool,
) -> Collected {
    let mut c = Collected {
        cells: BTreeMap::new(),
        seen: Vec::new(),
    };
    let tables: Vec<Vec<&str>> = basisset::views::protect::PUBLIC_TABLES
        .iter()
        .map(|t| t.iter().map(|d| d.as_str()).collect())
        .collect();
    let base = format!("/api/v1/views/aggregate?indicator={indicator}&period={YEAR}");
    for t in &tables {
        // groupBy = the table, JSON and CSV.
        let url = format!("{base}&groupBy={}", t.join(","));
        let res = app.get(&url, token).await;
        assert_eq!(res.status, 200, "{url}: {}", res.text());
        let v = res.json();
        for row in v["rows"].as_array().unwrap() {
            c.add("aggregate", group_key(&row["group"], &[]), shown(kind, row));
        }
        c.add("aggregate total", CellKey::new(), shown(kind, &v["total"]));
        if !full {
            continue;
        }
        let csv = app.get(&format!("{url}&format=csv"), token).await.text();
        for row in csv_rows(&csv) {
            let mut k = CellKey::new();
            for d in t {
                if row[*d] != "total" {
                    k.insert((d.to_string(), row[*d].clone()));
                }
            }
            if t.iter().any(|d| row[*d] == "total") {
                k.clear();
            }
            let s = c.cells.get(&k).cloned().expect("CSV row of a JSON cell");
            let value = row["value"].parse::<f64>().ok();
            let json_value = match kind {
                Kind::Sum => s.comps.map(|x| x[0]),
                _ => None,
            };
            if kind == Kind::Sum {
                assert_eq!(value.is_some(), json_value.is_some(), "{url} CSV {row:?}");
            }
            assert_eq!(row["confStatus"], s.status, "{url} CSV {row:?}");
            assert_eq!(
                row["organisations"].parse::<i64>().ok(),
                s.organisations,
                "{url} CSV"
            );
        }
        // Filters on one dimension of a pair, groupBy the other; and both as filters.
        if t.len() == 2 {
            let values: BTreeSet<String> = orgs.iter().map(|o| o.attrs[t[0]].clone()).collect();
            for value in values.iter().filter(|v| *v != "null") {
                let url = format!("{base}&{}={value}&groupBy={}", t[0], t[1]);
                let res = app.get(&url, token).await;
                assert_eq!(res.status, 200, "{url}: {}", res.text());
                let v = res.json();
                let extra = [(t[0].to_owned(), value.clone())];
                for row in v["rows"].as_array().unwrap() {
                    c.add(
                        "aggregate filtered",
                        group_key(&row["group"], &extra),
                        shown(kind, row),
                    );
                }
                c.add(
                    "aggregate filtered total",
                    extra.iter().cloned().collect(),
                    shown(kind, &v["total"]),
                );
            }
        }
        // The same through GraphQL.
        let gql_dims: Vec<String> = t
            .iter()
            .map(|d| {
                d.chars()
                    .flat_map(|ch| {
                        if ch.is_ascii_uppercase() {
                            vec!['_', ch]
                        } else {
                            vec![ch.to_ascii_uppercase()]
                        }
                    })
                    .collect()
            })
            .collect();
        let q = format!(
            r#"{{ aggregate(indicator: "{indicator}", period: "{YEAR}", groupBy: [{}]) {{
                total {{ ...A }} rows {{ group {{ teamType sizeClass province providesHelp orgForm selfRegistration }} ...A }} }} }}
               fragment A on AggregateRow {{ value numerator denominator respondents cases organisations confStatus distribution {{ min q1 median q3 max }} }}"#,
            gql_dims.join(", ")
        );
        // `total` is an Aggregate, rows are AggregateRow: query both shapes explicitly.
        let q = q.replace("total { ...A }", "total { value numerator denominator respondents cases organisations confStatus distribution { min q1 median q3 max } }");
        let data = app.gql_ok(&q, json!({}), token).await;
        for row in data["aggregate"]["rows"].as_array().unwrap() {
            c.add(
                "graphql aggregate",
                group_key(&row["group"], &[]),
                shown(kind, row),
            );
        }
        c.add(
            "graphql aggregate total",
            CellKey::new(),
            shown(kind, &data["aggregate"]["total"]),
        );
        // Trend points of the year.
        let url = format!(
            "/api/v1/views/trend?indicator={indicator}&from={}&to={YEAR}&groupBy={}",
            YEAR - 1,
            t.join(",")
        );
        let res = app.get(&url, token).await;
        assert_eq!(res.status, 200, "{url}: {}", res.text());
        for series in res.json()["series"].as_array().unwrap() {
            for p in series["points"].as_array().unwrap() {
                if p["year"] == YEAR {
                    c.add("trend", group_key(&series["group"], &[]), shown(kind, p));
                }
            }
        }
    }
    if !full {
        return c;
    }
    // A span of years, per year.
    let url = format!(
        "/api/v1/views/aggregate?indicator={indicator}&from={}&to={YEAR}&groupBy=year,teamType",
        YEAR - 1
    );
    let v = app.get(&url, token).await.json();
    for row in v["rows"].as_array().unwrap() {
        if row["group"]["year"] == YEAR {
            c.add(
                "aggregate span",
                group_key(&row["group"], &[]),
                shown(kind, row),
            );
        }
    }
    assert!(
        v["total"]["value"].is_null(),
        "a total over years is not a published cell"
    );
    // Benchmarks: every organisation, every peer grouping (including none).
    for o in orgs {
        for peers in [
            None,
            Some(""),
            Some(","),
            Some("teamType"),
            Some("sizeClass,providesHelp"),
            Some("province"),
        ] {
            let mut url = format!(
                "/api/v1/views/benchmark?organisation={}&indicator={indicator}&period={YEAR}",
                o.id
            );
            if let Some(p) = peers {
                url.push_str(&format!("&peers={p}"));
            }
            let res = app.get(&url, token).await;
            if res.status == 404 {
                continue;
            }
            assert_eq!(res.status, 200, "{url}: {}", res.text());
            let v = res.json();
            c.add(
                "benchmark national",
                CellKey::new(),
                shown(kind, &v["national"]),
            );
            c.add(
                "benchmark peers",
                group_key(&v["peerGroup"], &[]),
                shown(kind, &v["peers"]),
            );
        }
        let q = format!(
            r#"{{ benchmark(organisation: {}, indicator: "{indicator}", period: "{YEAR}", peers: []) {{ peerGroup {{ teamType }} peers {{ value numerator denominator respondents cases organisations confStatus distribution {{ min q1 median q3 max }} }} }} }}"#,
            o.id
        );
        let body = app.gql(&q, json!({}), token).await;
        if body["errors"].is_null() {
            c.add(
                "graphql benchmark peers []",
                CellKey::new(),
                shown(kind, &body["data"]["benchmark"]["peers"]),
            );
        }
    }
    // Values per municipality, JSON and CSV.
    let url = format!("/api/v1/views/municipalities?indicator={indicator}&period={YEAR}");
    let v = app.get(&url, token).await.json();
    for row in v["rows"].as_array().unwrap() {
        c.add(
            "municipalities",
            muni_key(row["code"].as_str().unwrap()),
            shown(kind, row),
        );
    }
    let _ = DIMS;
    c
}

// ---- the attack

/// A linear equation over the hidden variables: Σ vars = rhs (per component).
struct Equation {
    vars: Vec<usize>,
    rhs: [f64; 2],
}

/// The hidden variables: each organisation's hidden parts, one variable per part.
struct Hidden {
    /// (organisation, part index)
    vars: Vec<(i64, usize)>,
    truth: Vec<[f64; 2]>,
}

fn hidden_vars(orgs: &[Org]) -> Hidden {
    let mut vars = Vec::new();
    let mut truth = Vec::new();
    for o in orgs {
        for (i, p) in o.parts.iter().enumerate() {
            if !p.published {
                vars.push((o.id, i));
                truth.push(p.comps);
            }
        }
    }
    Hidden { vars, truth }
}

fn matches(o: &Org, key: &CellKey) -> bool {
    key.iter().all(|(d, v)| o.attrs.get(d.as_str()) == Some(v))
}

/// The equations the shown cells give: hidden parts in the cell sum to what was shown minus the
/// published parts.
fn equations(orgs: &[Org], hidden: &Hidden, cells: &BTreeMap<CellKey, Shown>) -> Vec<Equation> {
    let index: HashMap<(i64, usize), usize> = hidden
        .vars
        .iter()
        .enumerate()
        .map(|(i, k)| (*k, i))
        .collect();
    let mut out = Vec::new();
    for (key, s) in cells {
        let Some(comps) = s.comps else { continue };
        let mut vars = Vec::new();
        let mut known = [0.0, 0.0];
        let muni = key
            .iter()
            .find(|(d, _)| d == "municipality")
            .map(|(_, v)| v.clone());
        for o in orgs {
            let parts: Vec<usize> = match &muni {
                Some(code) => (0..o.parts.len())
                    .filter(|&i| o.parts[i].municipality.as_deref() == Some(code))
                    .collect(),
                None if matches(o, key) => (0..o.parts.len()).collect(),
                None => Vec::new(),
            };
            for i in parts {
                let p = &o.parts[i];
                if p.published {
                    known[0] += p.comps[0];
                    known[1] += p.comps[1];
                } else {
                    vars.push(index[&(o.id, i)]);
                }
            }
        }
        if vars.is_empty() {
            continue;
        }
        out.push(Equation {
            vars,
            rhs: [comps[0] - known[0], comps[1] - known[1]],
        });
    }
    out
}

/// Exact: is unit `target` determined by the equations (its indicator vector in the row
/// space)? Gaussian elimination modulo a large prime; integer 0/1 rows, so no rounding.
fn determined_mod(rows: &[Vec<usize>], n: usize, target: usize, p: u64) -> bool {
    let inv = |a: u64| -> u64 {
        let (mut r, mut b, mut e) = (1u128, a as u128, (p - 2) as u128);
        while e > 0 {
            if e & 1 == 1 {
                r = r * b % p as u128;
            }
            b = b * b % p as u128;
            e >>= 1;
        }
        r as u64
    };
    let mut m: Vec<Vec<u64>> = rows
        .iter()
        .map(|r| {
            let mut v = vec![0u64; n];
            for &j in r {
                v[j] = 1;
            }
            v
        })
        .collect();
    // Reduce to row echelon form, then reduce the target vector against it.
    let mut pivots = Vec::new();
    let mut row = 0;
    for col in 0..n {
        let Some(r) = (row..m.len()).find(|&r| m[r][col] != 0) else {
            continue;
        };
        m.swap(row, r);
        let iv = inv(m[row][col]);
        for x in m[row].iter_mut() {
            *x = (*x as u128 * iv as u128 % p as u128) as u64;
        }
        for r2 in 0..m.len() {
            if r2 != row && m[r2][col] != 0 {
                let f = m[r2][col];
                for c2 in 0..n {
                    let sub = (f as u128 * m[row][c2] as u128 % p as u128) as u64;
                    m[r2][c2] = (m[r2][c2] + p - sub) % p;
                }
            }
        }
        pivots.push(col);
        row += 1;
        if row == m.len() {
            break;
        }
    }
    let mut t = vec![0u64; n];
    t[target] = 1;
    for (r, &col) in pivots.iter().enumerate() {
        if t[col] != 0 {
            let f = t[col];
            for c2 in 0..n {
                let sub = (f as u128 * m[r][c2] as u128 % p as u128) as u64;
                t[c2] = (t[c2] + p - sub) % p;
            }
        }
    }
    t.iter().all(|x| *x == 0)
}

fn determined(rows: &[Vec<usize>], n: usize, target: usize) -> bool {
    // Over the rationals iff over GF(p) for almost every prime; two primes make a false alarm
    // practically impossible, and a real determination is never missed.
    determined_mod(rows, n, target, 2_305_843_009_213_693_951)
        && determined_mod(rows, n, target, 1_000_000_007)
}

/// The attacker's LP bounds for one component of variable `target`, with `fixed` variables
/// known (an insider's own figures). Variables are the hidden values themselves (not moves).
fn bounds(
    eqs: &[Equation],
    hidden: &Hidden,
    kind: Kind,
    target: usize,
    comp: usize,
    fixed: &[usize],
) -> (f64, f64) {
    use microlp::{ComparisonOp, OptimizationDirection, Problem};
    let comps = kind.comps();
    let n = hidden.vars.len();
    let scale: Vec<f64> = (0..comps)
        .map(|c| hidden.truth.iter().map(|t| t[c]).fold(1.0f64, f64::max))
        .collect();
    let solve = |dir: OptimizationDirection| -> f64 {
        let mut lp = Problem::new(dir);
        let mut var = Vec::new();
        for j in 0..n {
            for c in 0..comps {
                let obj = if j == target && c == comp { 1.0 } else { 0.0 };
                let bounds = if fixed.contains(&j) {
                    let v = hidden.truth[j][c] / scale[c];
                    (v, v)
                } else {
                    (0.0, f64::INFINITY)
                };
                var.push(lp.add_var(obj, bounds));
            }
        }
        for e in eqs {
            for c in 0..comps {
                let terms: Vec<_> = e.vars.iter().map(|&j| (var[j * comps + c], 1.0)).collect();
                lp.add_constraint(terms.as_slice(), ComparisonOp::Eq, e.rhs[c] / scale[c]);
            }
        }
        if let Some(f) = kind.link() {
            for j in 0..n {
                lp.add_constraint(
                    [
                        (var[j * 2], 1.0),
                        (var[j * 2 + 1], -f * scale[1] / scale[0]),
                    ]
                    .as_slice(),
                    ComparisonOp::Le,
                    1e-9,
                );
            }
        }
        match lp.solve() {
            Ok(s) => match s.into_solution() {
                Ok(s) => s.objective() * scale[comp],
                Err(_) => panic!("LP interrupted"),
            },
            Err(microlp::Error::Unbounded) => f64::INFINITY,
            Err(e) => panic!("attacker LP failed: {e}"),
        }
    };
    (
        solve(OptimizationDirection::Minimize),
        solve(OptimizationDirection::Maximize),
    )
}

/// Everything an attacker (anonymous, or the team `insider`) learns: returns the exposures.
fn attack(
    orgs: &[Org],
    hidden: &Hidden,
    eqs: &[Equation],
    kind: Kind,
    insider: Option<i64>,
) -> Vec<String> {
    let n = hidden.vars.len();
    let fixed: Vec<usize> = (0..n)
        .filter(|&j| Some(hidden.vars[j].0) == insider)
        .collect();
    let mut rows: Vec<Vec<usize>> = eqs.iter().map(|e| e.vars.clone()).collect();
    rows.extend(fixed.iter().map(|&j| vec![j]));
    let mut exposures = Vec::new();
    // Targets: each hidden part, and each organisation's hidden total.
    let mut targets: Vec<(String, Vec<usize>)> = (0..n)
        .map(|j| {
            (
                format!("org {} part {}", hidden.vars[j].0, hidden.vars[j].1),
                vec![j],
            )
        })
        .collect();
    for o in orgs.iter().filter(|o| o.hidden()) {
        let vars: Vec<usize> = (0..n).filter(|&j| hidden.vars[j].0 == o.id).collect();
        if vars.len() > 1 {
            targets.push((format!("org {} total", o.id), vars));
        }
    }
    for (name, vars) in targets {
        if vars.iter().all(|j| fixed.contains(j)) {
            continue;
        }
        if vars.len() == 1 && determined(&rows, n, vars[0]) {
            exposures.push(format!("{name}: determined exactly"));
            continue;
        }
        if vars.len() > 1 {
            continue; // totals: covered by the exact check of their parts and the LP below
        }
        let j = vars[0];
        for c in 0..kind.comps() {
            let x = hidden.truth[j][c];
            if x <= 0.0 {
                continue;
            }
            let (lo, hi) = bounds(eqs, hidden, kind, j, c, &fixed);
            let tol = 1e-6 * x.max(1.0);
            if hi < 1.1 * x - tol || lo > 0.9 * x + tol {
                exposures.push(format!(
                    "{name} component {c}: {x} within [{lo:.4}, {hi:.4}] (±10% is [{:.4}, {:.4}])",
                    0.9 * x,
                    1.1 * x
                ));
            }
        }
    }
    exposures
}

async fn seeded() -> (TestApp, Vec<Value>) {
    let app = TestApp::spawn().await;
    let state = app.state.clone();
    // 40 organisations, 60% of them not publishing: the issue's demo attack.
    let opts = basisset::demo::DemoOptions::new(40, YEAR - 1, Some(YEAR), 11);
    state
        .db
        .run(move |conn| basisset::demo::seed(conn, &state.catalogue, &state.reference, &opts))
        .await
        .unwrap();
    let registry = app.get("/api/v1/organisations", None).await.json();
    let registry = registry
        .as_array()
        .cloned()
        .or_else(|| registry["items"].as_array().cloned())
        .expect("organisations");
    (app, registry)
}

/// Same cell, same answer, whichever endpoint, format or transport gave it.
fn assert_consistent(c: &Collected, indicator: &str) {
    for (source, key, s) in &c.seen {
        let first = &c.cells[key];
        assert_eq!(
            s.status, first.status,
            "{indicator} {key:?}: {source} differs"
        );
        assert_eq!(
            s.organisations, first.organisations,
            "{indicator} {key:?}: {source}"
        );
        match (s.comps, first.comps) {
            (Some(a), Some(b)) => assert!(
                (a[0] - b[0]).abs() <= 1e-6 * (1.0 + a[0].abs())
                    && (a[1] - b[1]).abs() <= 1e-6 * (1.0 + a[1].abs()),
                "{indicator} {key:?}: {source} gives {a:?}, elsewhere {b:?}"
            ),
            (None, None) => {}
            _ => panic!("{indicator} {key:?}: {source} shows what another withholds"),
        }
    }
}

/// Quartiles over few hidden figures give the figures; withheld cells do not tell who
/// reported.
fn assert_no_quantile_or_count_leak(orgs: &[Org], c: &Collected, indicator: &str) {
    for (key, s) in &c.cells {
        if key.iter().any(|(d, _)| d == "municipality") {
            continue;
        }
        let hidden = orgs
            .iter()
            .filter(|o| matches(o, key) && o.hidden())
            .count();
        if hidden > 0 {
            assert!(
                !s.min_or_max,
                "{indicator} {key:?}: min/max over hidden figures"
            );
            if s.quartiles.is_some() {
                assert!(
                    hidden >= 10,
                    "{indicator} {key:?}: quartiles over {hidden} hidden figures"
                );
            }
        }
        if s.status != "F" {
            assert!(
                s.comps.is_none() && s.organisations.is_none(),
                "{indicator} {key:?}: withheld cell shows {s:?}"
            );
        }
    }
}

#[actix_web::test]
async fn an_outsider_and_every_team_learn_no_hidden_figure_within_ten_percent() {
    let (app, registry) = seeded().await;
    let mut report = Vec::new();
    for (indicator, kind) in INDICATORS {
        let orgs = truth(&app, indicator, kind, &registry);
        let hidden = hidden_vars(&orgs);
        assert!(
            hidden.vars.len() >= 10,
            "{indicator}: the data set must hide many figures"
        );
        // Anonymous.
        let collected = collect(&app, None, indicator, kind, &orgs, true).await;
        assert_consistent(&collected, indicator);
        assert_no_quantile_or_count_leak(&orgs, &collected, indicator);
        let shown_free = collected.cells.values().filter(|s| s.status == "F").count();
        assert!(
            shown_free >= 5,
            "{indicator}: the attack needs published cells ({shown_free})"
        );
        let eqs = equations(&orgs, &hidden, &collected.cells);
        let mut exposures = attack(&orgs, &hidden, &eqs, kind, None);
        // Every team with hidden figures, knowing its own figures (and seeing what a team sees).
        for o in orgs.iter().filter(|o| o.hidden()) {
            let token = app.client_token("team", Some(o.id)).await;
            let mut as_team = collect(&app, Some(&token), indicator, kind, &orgs, false).await;
            let own = app
                .get(
                    &format!("/api/v1/views/benchmark?organisation={}&indicator={indicator}&period={YEAR}", o.id),
                    Some(&token),
                )
                .await
                .json();
            as_team.add(
                "own benchmark peers",
                group_key(&own["peerGroup"], &[]),
                shown(kind, &own["peers"]),
            );
            // A team sees the public cells plus cells holding only its own hidden figures.
            let mut cells = collected.cells.clone();
            for (k, s) in &as_team.cells {
                if s.status == "F" && collected.cells.get(k).is_none_or(|p| p.status != "F") {
                    let others_hidden = orgs
                        .iter()
                        .filter(|x| x.id != o.id && x.hidden() && (matches(x, k)))
                        .count();
                    assert_eq!(
                        others_hidden, 0,
                        "{indicator}: team {} sees {k:?} beyond the public",
                        o.id
                    );
                    cells.insert(k.clone(), s.clone());
                }
            }
            let eqs = equations(&orgs, &hidden, &cells);
            exposures.extend(
                attack(&orgs, &hidden, &eqs, kind, Some(o.id))
                    .into_iter()
                    .map(|e| format!("as team {}: {e}", o.id)),
            );
        }
        report.push(format!(
            "{indicator}: {} hidden figures, {} cells shown, {} equations, {} exposures",
            hidden.vars.len(),
            shown_free,
            eqs.len(),
            exposures.len()
        ));
        assert!(
            exposures.is_empty(),
            "{indicator}: {} hidden figures exposed, e.g.:\n{}",
            exposures.len(),
            exposures[..exposures.len().min(20)].join("\n")
        );
    }
    eprintln!("{}", report.join("\n"));
}

#[actix_web::test]
async fn groupings_outside_the_published_family_are_refused() {
    let (app, _) = seeded().await;
    let base = format!("/api/v1/views/aggregate?indicator=klachten&period={YEAR}");
    for bad in [
        "&groupBy=teamType,sizeClass,providesHelp",
        "&groupBy=province,orgForm",
        "&teamType=jeugd&groupBy=sizeClass,province",
        "&teamType=jeugd&sizeClass=groot&groupBy=providesHelp",
    ] {
        let res = app.get(&format!("{base}{bad}"), None).await;
        let body = res.assert_problem(400, "GROUPING_NOT_PUBLISHED");
        assert!(
            body["detail"]
                .as_str()
                .unwrap()
                .contains("teamType+sizeClass"),
            "{body}"
        );
    }
    // Sub-year periods and balanced panels are for the Associatie only.
    app.get(
        &format!("/api/v1/views/aggregate?indicator=klachten&period={YEAR}-Q2"),
        None,
    )
    .await
    .assert_problem(400, "PERIOD_NOT_PUBLISHED");
    app.get(
        &format!(
            "/api/v1/views/trend?indicator=klachten&from={}&to={YEAR}&balanced=true",
            YEAR - 1
        ),
        None,
    )
    .await
    .assert_problem(400, "GROUPING_NOT_PUBLISHED");
    let assoc = app.client_token("associatie", None).await;
    let full = app
        .get(
            &format!("{base}&groupBy=teamType,sizeClass,providesHelp"),
            Some(&assoc),
        )
        .await;
    assert_eq!(full.status, 200, "{}", full.text());
    // The Associatie sees each cell exactly, with what the public gets of it.
    let row = &full.json()["rows"][0];
    assert_eq!(row["confStatus"], "F");
    assert_eq!(row["publicConfStatus"], "N");
    // GraphQL refuses the same way.
    let body = app
        .gql(
            &format!(r#"{{ aggregate(indicator: "klachten", period: "{YEAR}", groupBy: [PROVINCE, ORG_FORM]) {{ total {{ value }} }} }}"#),
            json!({}),
            None,
        )
        .await;
    assert_eq!(gql_error_code(&body), "GROUPING_NOT_PUBLISHED");
}
