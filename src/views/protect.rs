//! The table family the views publish to callers who may not see every figure (the public,
//! teams for others' figures, admins), and its protection.
//!
//! For one indicator and one year, everything such a caller can obtain is a cell of one of
//! these tables: the national total, the breakdown by each single characteristic, the pairs in
//! [`PUBLIC_TABLES`], and the values per municipality. Filters select cells of the same tables
//! (`teamType=jeugd&groupBy=sizeClass` is the jeugd row of teamType × sizeClass), benchmarks'
//! peers are cells too. The family is protected as a whole by [`crate::disclosure::protect`]
//! and cached per data version, so the same cell gets the same answer and the same suppression
//! through every endpoint, transport and format.

use std::collections::{BTreeMap, HashMap};

use super::stats::Acc;
use super::{Cell, Group, GroupDim, Member, OrgInfo};
use crate::catalogue::Kind;
use crate::disclosure::{self, CellSpec, ConfStatus, Policy, Reason, Relation, Spec};
use crate::error::{AppError, AppResult};

/// The groupings (sets of characteristics) published to callers other than the Associatie.
/// Each is a table with all its cells; filters and groupBy together must name one of them.
pub const PUBLIC_TABLES: &[&[GroupDim]] = &[
    &[],
    &[GroupDim::TeamType],
    &[GroupDim::SizeClass],
    &[GroupDim::Province],
    &[GroupDim::ProvidesHelp],
    &[GroupDim::OrgForm],
    &[GroupDim::SelfRegistration],
    &[GroupDim::TeamType, GroupDim::SizeClass],
    &[GroupDim::TeamType, GroupDim::ProvidesHelp],
    &[GroupDim::SizeClass, GroupDim::ProvidesHelp],
];

/// How costly it is to withhold a cell of a table: secondary suppression takes cheap cells
/// (fine tables) before coarse ones; the national total goes last.
fn table_cost(dims: &[GroupDim]) -> f64 {
    match dims.len() {
        0 => 1000.0,
        1 => match dims[0] {
            GroupDim::Province | GroupDim::OrgForm => 10.0,
            _ => 30.0,
        },
        _ => 3.0,
    }
}
const MUNICIPALITY_COST: f64 = 1.0;

/// The allowed groupings, written out for error messages and documentation.
pub fn public_tables_text() -> String {
    PUBLIC_TABLES
        .iter()
        .map(|t| {
            if t.is_empty() {
                "(total)".to_owned()
            } else {
                t.iter().map(|d| d.as_str()).collect::<Vec<_>>().join("+")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The public table for a set of characteristics (order and duplicates ignored).
pub fn public_table(dims: &[GroupDim]) -> Option<&'static [GroupDim]> {
    let mut want: Vec<GroupDim> = dims
        .iter()
        .copied()
        .filter(|d| *d != GroupDim::Year)
        .collect();
    want.sort();
    want.dedup();
    PUBLIC_TABLES.iter().copied().find(|t| {
        let mut t = t.to_vec();
        t.sort();
        t == want
    })
}

/// Refuse a grouping outside the published family (400 naming the allowed ones).
pub fn require_public_table(dims: &[GroupDim], field: &str) -> AppResult<&'static [GroupDim]> {
    public_table(dims).ok_or_else(|| {
        AppError::bad_request(
            "GROUPING_NOT_PUBLISHED",
            format!(
                "{field}: the combination {} is not published to this caller (disclosure \
                 control); groupBy and filters together must form one of: {}. The Associatie \
                 sees every combination.",
                if dims.is_empty() {
                    "(none)".to_owned()
                } else {
                    dims.iter()
                        .map(|d| d.as_str())
                        .collect::<Vec<_>>()
                        .join("+")
                },
                public_tables_text()
            ),
        )
    })
}

/// A cell of the family.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CellKey {
    /// A cell of a grouping table: the dimensions of its table set, the others `None`.
    Group(Group),
    /// The value for one municipality (CBS code).
    Municipality(String),
}

/// One protected cell.
#[derive(Debug, Clone)]
pub struct FamilyCell {
    /// Every figure behind the cell, pooled.
    pub acc: Acc,
    /// The contributors: organisations (for municipalities: their part for that municipality).
    pub members: Vec<Member>,
    /// Contributors with figures the public may not see.
    pub hidden: usize,
    /// `None`: published; otherwise why it is withheld from the public.
    pub withheld: Option<Reason>,
}

impl FamilyCell {
    pub fn status(&self) -> ConfStatus {
        self.withheld.map_or(ConfStatus::F, Reason::status)
    }
}

/// The protected family of one indicator and year.
#[derive(Debug, Default)]
pub struct Family {
    pub cells: HashMap<CellKey, FamilyCell>,
    /// Per public table (its dims as listed in [`PUBLIC_TABLES`]): its cells.
    pub tables: HashMap<Vec<GroupDim>, Vec<CellKey>>,
    /// Municipality cells, by code.
    pub municipalities: BTreeMap<String, CellKey>,
    /// LPs solved, secondary-suppression rounds, seeded directions reused and time taken,
    /// for logs and benchmarks.
    pub solves: usize,
    pub rounds: usize,
    pub seeds_kept: usize,
    pub micros: u128,
}

/// Directions of an earlier protection of a family, by organisation, sparse: the audit's
/// certificates, reused (after checking them) when the family is protected again.
#[derive(Debug, Default)]
struct Seeds {
    comps: usize,
    /// Per direction: (organisation, its move per component).
    directions: Vec<Vec<(i64, [f64; 2])>>,
}

/// The last directions per family (indicator and year), kept across data versions: they are
/// hints, checked before use, so a stale or foreign entry costs time, never safety.
fn seed_store() -> &'static std::sync::Mutex<HashMap<String, std::sync::Arc<Seeds>>> {
    static STORE: std::sync::OnceLock<std::sync::Mutex<HashMap<String, std::sync::Arc<Seeds>>>> =
        std::sync::OnceLock::new();
    STORE.get_or_init(Default::default)
}

/// Families whose directions are kept at most (about 50 indicators over 10 years, twice).
const SEED_FAMILIES: usize = 1024;

/// Where seeds for a family come from, best first: its own last protection; else the last
/// protection of the same indicator in another year (`related`); else the last family with
/// as many components (its structure, the organisations and the table cells, is the same;
/// only values differ, and directions are checked against them).
fn seeds_for(key: &str, related: &str, comps: usize, unit_ids: &[i64]) -> Vec<Vec<f64>> {
    let found = seed_store().lock().ok().and_then(|s| {
        s.get(key)
            .or_else(|| s.get(related))
            .or_else(|| s.get(&format!("last:{comps}")))
            .cloned()
    });
    let Some(seeds) = found else {
        return Vec::new();
    };
    if seeds.comps != comps {
        return Vec::new();
    }
    let index: HashMap<i64, usize> = unit_ids
        .iter()
        .enumerate()
        .map(|(i, id)| (*id, i))
        .collect();
    seeds
        .directions
        .iter()
        .filter_map(|moves| {
            let mut dir = vec![0.0; unit_ids.len() * comps];
            for (org, m) in moves {
                // A unit that is gone would leave the direction unbalanced: drop it.
                let &u = index.get(org)?;
                dir[u * comps..u * comps + comps].copy_from_slice(&m[..comps]);
            }
            Some(dir)
        })
        .collect()
}

/// Directions kept per family: the newest (seeds come first in an audit, its own LPs after).
const SEED_DIRECTIONS: usize = 160;

fn remember(key: &str, related: &str, comps: usize, unit_ids: &[i64], directions: &[Vec<f64>]) {
    let newest = &directions[directions.len().saturating_sub(SEED_DIRECTIONS)..];
    let seeds = Seeds {
        comps,
        directions: newest
            .iter()
            .map(|d| {
                unit_ids
                    .iter()
                    .enumerate()
                    .filter_map(|(u, id)| {
                        let m = &d[u * comps..u * comps + comps];
                        m.iter().any(|x| *x != 0.0).then(|| {
                            let mut both = [0.0; 2];
                            both[..comps].copy_from_slice(m);
                            (*id, both)
                        })
                    })
                    .collect()
            })
            .collect(),
    };
    if let Ok(mut store) = seed_store().lock() {
        if store.len() >= SEED_FAMILIES && !store.contains_key(key) {
            store.clear();
        }
        let seeds = std::sync::Arc::new(seeds);
        store.insert(related.to_owned(), seeds.clone());
        store.insert(format!("last:{comps}"), seeds.clone());
        store.insert(key.to_owned(), seeds);
    }
}

impl Family {
    pub fn cell(&self, key: &CellKey) -> Option<&FamilyCell> {
        self.cells.get(key)
    }
}

/// The additive components the attacker sees per kind, and their link.
pub fn components(kind: Kind, acc: &Acc) -> [f64; 2] {
    match kind {
        Kind::Flow | Kind::Stock | Kind::Amount => [acc.sum, 0.0],
        Kind::Ratio => [acc.numerator as f64, acc.denominator as f64],
        Kind::Survey | Kind::MeanDuration => [acc.weighted, acc.weight as f64],
    }
}

fn component_count(kind: Kind) -> usize {
    match kind {
        Kind::Flow | Kind::Stock | Kind::Amount => 1,
        _ => 2,
    }
}

fn link(kind: Kind) -> Option<f64> {
    match kind {
        Kind::Ratio => Some(1.0),
        Kind::Survey => Some(100.0),
        _ => None,
    }
}

/// Whether two pools hold the same figures (up to the order they were summed in).
fn same_figures(a: &Acc, b: &Acc, kind: Kind) -> bool {
    let (x, y) = (components(kind, a), components(kind, b));
    a.figures == b.figures
        && x.iter()
            .zip(&y)
            .all(|(p, q)| (p - q).abs() <= 1e-9 * (1.0 + p.abs().max(q.abs())))
}

/// The key of `org`'s cell in the table with `dims`.
pub fn key_of(org: &OrgInfo, dims: &[GroupDim]) -> Group {
    org.group(dims, None)
}

/// Build and protect the family from every organisation's rolled-up cell for the year
/// (`members`) and the parts per municipality (`parts`: organisation, CBS code, cell).
/// `family` names it (indicator and year) and `related` its indicator, for reusing the
/// audit's directions from the last time it (or a family like it) was protected.
pub fn build(
    kind: Kind,
    orgs: &HashMap<i64, OrgInfo>,
    members: &[Member],
    parts: &[(i64, String, Cell)],
    policy: &Policy,
    family: &str,
    related: &str,
) -> Family {
    let started = std::time::Instant::now();
    let comps = component_count(kind);
    // Units: organisations with hidden figures, with their whole hidden value.
    let mut unit_of: HashMap<i64, usize> = HashMap::new();
    let mut units: Vec<[f64; 2]> = Vec::new();
    let mut unit_ids: Vec<i64> = Vec::new();
    let mut unit_hidden: Vec<Acc> = Vec::new();
    for m in members {
        if !m.cell.published() {
            unit_of.insert(m.organisation, units.len());
            unit_ids.push(m.organisation);
            units.push(components(kind, &m.cell.hidden));
            unit_hidden.push(m.cell.hidden);
        }
    }
    let total_mass: f64 = units.iter().map(|x| x[0]).sum::<f64>().max(1e-9);

    let mut keys: Vec<CellKey> = Vec::new();
    let mut family_cells: Vec<FamilyCell> = Vec::new();
    let mut specs: Vec<CellSpec> = Vec::new();
    let mut index: HashMap<CellKey, usize> = HashMap::new();
    let mut tables: HashMap<Vec<GroupDim>, Vec<CellKey>> = HashMap::new();

    let push = |key: CellKey,
                members: Vec<Member>,
                cost: f64,
                keys: &mut Vec<CellKey>,
                family_cells: &mut Vec<FamilyCell>,
                specs: &mut Vec<CellSpec>,
                index: &mut HashMap<CellKey, usize>| {
        let mut acc = Acc::default();
        let mut hidden = Vec::new();
        let mut whole_units = true;
        for m in &members {
            acc.merge(&m.cell.acc);
            if !m.cell.published()
                && let Some(&u) = unit_of.get(&m.organisation)
            {
                let x = components(kind, &m.cell.hidden);
                if !same_figures(&m.cell.hidden, &unit_hidden[u], kind) {
                    whole_units = false;
                }
                hidden.push((u, x));
            } else if !m.cell.published() {
                // A hidden part of an organisation without hidden figures for the year as a
                // whole cannot be audited; withhold the cell.
                whole_units = false;
                hidden.push((usize::MAX, components(kind, &m.cell.hidden)));
            }
        }
        let mass: f64 = hidden.iter().map(|(_, x)| x[0]).sum();
        let small_sample = kind == Kind::Survey && acc.weight < policy.min_respondents;
        let n_hidden = hidden.len();
        // Units unknown to the audit are never constraints (whole_units = false withholds).
        hidden.retain(|(u, _)| *u != usize::MAX);
        index.insert(key.clone(), keys.len());
        keys.push(key);
        specs.push(CellSpec {
            hidden,
            whole_units,
            small_sample,
            cost: cost * (1.0 + mass / total_mass),
        });
        family_cells.push(FamilyCell {
            acc,
            members,
            hidden: n_hidden,
            withheld: None,
        });
    };

    for dims in PUBLIC_TABLES {
        let mut groups: BTreeMap<Group, Vec<Member>> = BTreeMap::new();
        for m in members {
            if let Some(org) = orgs.get(&m.organisation) {
                groups.entry(key_of(org, dims)).or_default().push(*m);
            }
        }
        let list = tables.entry(dims.to_vec()).or_default();
        for (group, ms) in groups {
            let key = CellKey::Group(group);
            list.push(key.clone());
            push(
                key,
                ms,
                table_cost(dims),
                &mut keys,
                &mut family_cells,
                &mut specs,
                &mut index,
            );
        }
    }
    let mut by_municipality: BTreeMap<String, Vec<Member>> = BTreeMap::new();
    for (org, code, cell) in parts {
        by_municipality
            .entry(code.clone())
            .or_default()
            .push(Member {
                organisation: *org,
                cell: *cell,
            });
    }
    let mut municipalities = BTreeMap::new();
    for (code, ms) in by_municipality {
        let key = CellKey::Municipality(code.clone());
        municipalities.insert(code, key.clone());
        push(
            key,
            ms,
            MUNICIPALITY_COST,
            &mut keys,
            &mut family_cells,
            &mut specs,
            &mut index,
        );
    }

    // Relations: each cell of a table with dims D is a child of the cell of D minus one
    // dimension that holds it.
    let mut relations = Vec::new();
    for dims in PUBLIC_TABLES.iter().filter(|d| !d.is_empty()) {
        for drop in dims.iter() {
            let parent_dims: Vec<GroupDim> = dims.iter().copied().filter(|d| d != drop).collect();
            let mut children: BTreeMap<Group, Vec<usize>> = BTreeMap::new();
            for key in &tables[&dims.to_vec()] {
                let CellKey::Group(g) = key else { continue };
                let parent = g.project(&parent_dims);
                children.entry(parent).or_default().push(index[key]);
            }
            for (parent, kids) in children {
                if let Some(&p) = index.get(&CellKey::Group(parent)) {
                    relations.push(Relation {
                        parent: p,
                        children: kids,
                    });
                }
            }
        }
    }

    let outcome = disclosure::protect(
        &Spec {
            comps,
            link: link(kind),
            units,
            cells: specs,
            relations,
            seeds: seeds_for(family, related, comps, &unit_ids),
        },
        policy,
    );
    remember(family, related, comps, &unit_ids, &outcome.directions);
    let mut cells = HashMap::with_capacity(keys.len());
    for ((key, mut cell), withheld) in keys.into_iter().zip(family_cells).zip(outcome.withheld) {
        cell.withheld = withheld;
        cells.insert(key, cell);
    }
    Family {
        cells,
        tables,
        municipalities,
        solves: outcome.solves,
        rounds: outcome.rounds,
        seeds_kept: outcome.seeds_kept,
        micros: started.elapsed().as_micros(),
    }
}
