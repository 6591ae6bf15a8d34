//! Disclosure control: what of a table of aggregates may be shown to someone who may not see
//! every contribution behind it. Everything the service answers to anyone but the Associatie
//! passes through here (see `views::protect` for the table family the views publish).
//!
//! The method is the one statistical offices use for magnitude tables (Hundepool et al., 2012,
//! ch. 4; τ-ARGUS):
//!
//! 1. **Primary suppression** per cell over the contributions the caller may not see ([`rules`]):
//!    fewer than k contributors (`A`), or the p% rule (`M`: the second-largest contributor could
//!    estimate the largest within p%). Unreliable surveys are withheld too (`A`, small sample).
//! 2. **Secondary suppression** over the whole family of published tables: further cells are
//!    withheld (`D`) until the attacker's linear program ([`audit`]), given every published cell
//!    and non-negativity, leaves every hidden contribution an interval of at least ±p%, also for
//!    an insider who knows its own contribution.
//!
//! [`protect`] works on abstract cells (lists of units with their hidden contributions), so the
//! rules do not depend on what the cells mean.

pub mod audit;
pub mod rules;

use serde::Serialize;

/// Confidentiality status of a published value, after SDMX `CONF_STATUS`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    serde::Deserialize,
    async_graphql::Enum,
    utoipa::ToSchema,
)]
pub enum ConfStatus {
    /// Free: shown.
    F,
    /// Primary confidential: too few contributors (or, for surveys, too few respondents).
    A,
    /// Primary confidential by a concentration rule (the p% rule). SDMX CL_CONF_STATUS 1.2
    /// reserves `O`/`T`/`G` for (n,k) dominance by one/two units and `M` for "p-percent, p/q or
    /// (n,k) rules".
    M,
    /// Secondary confidential: withheld so that another withheld value cannot be derived.
    D,
    /// Not for publication: outside the table family published to this caller.
    N,
}

impl ConfStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ConfStatus::F => "F",
            ConfStatus::A => "A",
            ConfStatus::M => "M",
            ConfStatus::D => "D",
            ConfStatus::N => "N",
        }
    }

    pub fn is_free(self) -> bool {
        self == ConfStatus::F
    }
}

/// Why a cell is withheld.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// Fewer hidden contributors than k.
    FewContributors,
    /// A survey with fewer respondents than the minimum.
    SmallSample,
    /// The p% rule.
    Dominance,
    /// Secondary suppression.
    Secondary,
}

impl Reason {
    pub fn status(self) -> ConfStatus {
        match self {
            Reason::FewContributors | Reason::SmallSample => ConfStatus::A,
            Reason::Dominance => ConfStatus::M,
            Reason::Secondary => ConfStatus::D,
        }
    }
}

/// The parameters of the disclosure policy (README: "Disclosure policy").
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Policy {
    /// k: least number of contributors a caller may not see individually behind a value.
    pub k: usize,
    /// p: the p% rule and the protection interval, as a fraction (0.10).
    pub p: f64,
    /// Surveys on fewer respondents are withheld from the public.
    pub min_respondents: i64,
    /// Quartiles and percentile ranks over hidden contributions need this many of them.
    pub min_distribution: usize,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            k: 3,
            p: 0.10,
            min_respondents: 30,
            min_distribution: 10,
        }
    }
}

/// One cell of a table family, as the protection sees it.
#[derive(Debug, Clone, Default)]
pub struct CellSpec {
    /// The hidden contributions in this cell: (unit, value per component). A unit appears once.
    pub hidden: Vec<(usize, [f64; 2])>,
    /// Whether each hidden contribution here is the unit's whole hidden value (so the cell is
    /// a sum of units in the audit); cells that split a unit are withheld rather than audited.
    pub whole_units: bool,
    /// Withheld whatever the rules say (an unreliable survey).
    pub small_sample: bool,
    /// Information lost by withholding it; secondary suppression withholds cheap cells first.
    pub cost: f64,
}

/// A parent cell and the children that partition it (a margin and the cells summing to it).
#[derive(Debug, Clone)]
pub struct Relation {
    pub parent: usize,
    pub children: Vec<usize>,
}

/// A table family to protect.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Components per contribution (1 or 2) and their link (see [`audit::AuditProblem`]).
    pub comps: usize,
    pub link: Option<f64>,
    /// Every hidden unit's whole hidden value.
    pub units: Vec<[f64; 2]>,
    pub cells: Vec<CellSpec>,
    pub relations: Vec<Relation>,
    /// Directions from an earlier protection of this family, in this spec's unit order (see
    /// [`audit::Auditor::seed`]); empty for none.
    pub seeds: Vec<Vec<f64>>,
}

/// The protected pattern: per cell, `None` (shown) or why it is withheld.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub withheld: Vec<Option<Reason>>,
    /// LPs solved and secondary-suppression rounds, for logs and tests.
    pub solves: usize,
    pub rounds: usize,
    /// Seeded directions that held and were used.
    pub seeds_kept: usize,
    /// The directions the audit found (to seed the next protection of the family).
    pub directions: Vec<Vec<f64>>,
}

/// Choose the cells to withhold: primary rules, then secondary suppression until the audit
/// finds every hidden contribution protected.
pub fn protect(spec: &Spec, policy: &Policy) -> Outcome {
    let comps = spec.comps.clamp(1, 2);
    let n = spec.cells.len();
    let mut withheld: Vec<Option<Reason>> = vec![None; n];
    for (i, cell) in spec.cells.iter().enumerate() {
        withheld[i] = primary(cell, comps, policy);
    }
    // A cell without hidden contributions tells nothing the caller does not know; it is never
    // a constraint and never useful as a complement.
    let constrains =
        |i: usize, w: &[Option<Reason>]| w[i].is_none() && !spec.cells[i].hidden.is_empty();
    // Cells splitting a unit are not audited: withhold those that would show hidden data.
    for (i, cell) in spec.cells.iter().enumerate() {
        if constrains(i, &withheld) && !cell.whole_units {
            withheld[i] = Some(Reason::Secondary);
        }
    }
    let mut auditor = audit::Auditor::new(
        audit::AuditProblem {
            comps,
            x: spec.units.clone(),
            link: spec.link,
        },
        policy.p,
    );
    auditor.seed(spec.seeds.clone());
    let mut rounds = 0;
    loop {
        complete_relations(spec, &mut withheld, policy);
        let published: Vec<usize> = (0..n).filter(|&i| constrains(i, &withheld)).collect();
        let cells: Vec<Vec<usize>> = published
            .iter()
            .map(|&i| spec.cells[i].hidden.iter().map(|(u, _)| *u).collect())
            .collect();
        let failures = auditor.audit(&cells);
        if failures.is_empty() || published.is_empty() {
            break;
        }
        rounds += 1;
        // Withhold one more cell for the first failure: the cheapest published cell near the
        // exposed unit whose removal protects it (tried with the LP), else the cheapest cell
        // holding it, preferably one the insider is not in.
        let f = failures[0];
        let holds = |i: usize, u: usize| spec.cells[i].hidden.iter().any(|(x, _)| *x == u);
        let near: std::collections::HashSet<usize> = published
            .iter()
            .filter(|&&i| holds(i, f.target.unit))
            .flat_map(|&i| spec.cells[i].hidden.iter().map(|(u, _)| *u))
            .collect();
        let mut candidates: Vec<usize> = published
            .iter()
            .copied()
            .filter(|&i| spec.cells[i].hidden.iter().any(|(u, _)| near.contains(u)))
            .collect();
        candidates.sort_by(|&a, &b| spec.cells[a].cost.total_cmp(&spec.cells[b].cost));
        let mut chosen = None;
        for &candidate in candidates.iter().take(12) {
            let without: Vec<Vec<usize>> = published
                .iter()
                .zip(&cells)
                .filter(|(i, _)| **i != candidate)
                .map(|(_, c)| c.clone())
                .collect();
            if auditor.probe(&without, f.target, f.insider) {
                chosen = Some(candidate);
                break;
            }
        }
        let pick = |avoid_insider: bool| {
            published
                .iter()
                .copied()
                .filter(|&i| holds(i, f.target.unit))
                .filter(|&i| !avoid_insider || f.insider.is_none_or(|t| !holds(i, t)))
                .min_by(|&a, &b| spec.cells[a].cost.total_cmp(&spec.cells[b].cost))
        };
        match chosen.or_else(|| pick(true)).or_else(|| pick(false)) {
            Some(i) => withheld[i] = Some(Reason::Secondary),
            None => {
                // The unit is in no published cell, yet exposed: cannot happen with an LP that
                // only has published cells as constraints; withhold everything to be safe.
                tracing::error!(
                    ?f,
                    "disclosure: unprotectable contribution; withholding all"
                );
                for i in published {
                    withheld[i] = Some(Reason::Secondary);
                }
                break;
            }
        }
    }
    Outcome {
        withheld,
        solves: auditor.solves,
        rounds,
        seeds_kept: auditor.seeds_kept,
        directions: auditor.directions().to_vec(),
    }
}

/// Primary rules for one cell.
fn primary(cell: &CellSpec, comps: usize, policy: &Policy) -> Option<Reason> {
    if cell.small_sample {
        return Some(Reason::SmallSample);
    }
    if cell.hidden.is_empty() {
        return None;
    }
    if rules::threshold_unsafe(cell.hidden.len(), policy.k) {
        return Some(Reason::FewContributors);
    }
    for c in 0..comps {
        let values: Vec<f64> = cell.hidden.iter().map(|(_, x)| x[c].max(0.0)).collect();
        if rules::p_percent_unsafe(&values, policy.p) {
            return Some(Reason::Dominance);
        }
    }
    None
}

/// The classic cheap part of secondary suppression: in every relation (a published margin and
/// its children), a single withheld child with hidden contributions would follow by
/// subtraction, so a second one is withheld: the cheapest sibling with enough hidden mass to
/// hide the first one's largest contribution within p%, else the one with most.
fn complete_relations(spec: &Spec, withheld: &mut [Option<Reason>], policy: &Policy) {
    loop {
        let mut changed = false;
        for rel in &spec.relations {
            if withheld[rel.parent].is_some() || spec.cells[rel.parent].hidden.is_empty() {
                continue;
            }
            let with_hidden: Vec<usize> = rel
                .children
                .iter()
                .copied()
                .filter(|&c| !spec.cells[c].hidden.is_empty())
                .collect();
            let suppressed: Vec<usize> = with_hidden
                .iter()
                .copied()
                .filter(|&c| withheld[c].is_some())
                .collect();
            if suppressed.len() != 1 {
                continue;
            }
            let need = spec.cells[suppressed[0]]
                .hidden
                .iter()
                .map(|(_, x)| x[0])
                .fold(0.0f64, f64::max)
                * policy.p;
            let mass = |c: usize| spec.cells[c].hidden.iter().map(|(_, x)| x[0]).sum::<f64>();
            let candidates: Vec<usize> = with_hidden
                .iter()
                .copied()
                .filter(|&c| withheld[c].is_none())
                .collect();
            let enough = candidates
                .iter()
                .copied()
                .filter(|&c| mass(c) >= need)
                .min_by(|&a, &b| {
                    spec.cells[a]
                        .cost
                        .total_cmp(&spec.cells[b].cost)
                        .then(mass(a).total_cmp(&mass(b)))
                });
            let pick = enough.or_else(|| {
                candidates
                    .iter()
                    .copied()
                    .max_by(|&a, &b| mass(a).total_cmp(&mass(b)))
            });
            if let Some(c) = pick {
                withheld[c] = Some(Reason::Secondary);
                changed = true;
            }
        }
        if !changed {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(hidden: &[(usize, f64)], cost: f64) -> CellSpec {
        CellSpec {
            hidden: hidden.iter().map(|&(u, x)| (u, [x, 0.0])).collect(),
            whole_units: true,
            small_sample: false,
            cost,
        }
    }

    /// A two-way table (rows × columns, margins and total) of `units` random contributions.
    fn random_table(rng: &mut u64, units: usize) -> Spec {
        let mut next = || {
            *rng ^= *rng << 13;
            *rng ^= *rng >> 7;
            *rng ^= *rng << 17;
            *rng % 1000
        };
        let (rows, cols) = (3, 4);
        let mut x = Vec::new();
        let mut at = Vec::new();
        for _ in 0..units {
            x.push([(1 + next() % 60) as f64, 0.0]);
            at.push(((next() % rows) as usize, (next() % cols) as usize));
        }
        let mut cells = Vec::new();
        let members = |f: &dyn Fn(usize) -> bool| -> Vec<(usize, f64)> {
            (0..units).filter(|&u| f(u)).map(|u| (u, x[u][0])).collect()
        };
        cells.push(cell(&members(&|_| true), 100.0));
        for r in 0..rows as usize {
            cells.push(cell(&members(&|u| at[u].0 == r), 10.0));
        }
        for c in 0..cols as usize {
            cells.push(cell(&members(&|u| at[u].1 == c), 10.0));
        }
        for r in 0..rows as usize {
            for c in 0..cols as usize {
                cells.push(cell(&members(&|u| at[u] == (r, c)), 1.0));
            }
        }
        Spec {
            seeds: Vec::new(),
            comps: 1,
            link: None,
            units: x,
            cells,
            relations: Vec::new(),
        }
    }

    /// The pattern is a function of the figures alone: seeding the audit with directions from
    /// other figures (as a later protection of a family does) changes how many LPs it takes,
    /// never which cells are withheld. Otherwise two instances with different histories could
    /// publish different patterns for the same figures, and together show more than either.
    #[test]
    fn seeds_never_change_the_pattern() {
        let mut rng = 0x9E37_79B9_7F4A_7C15u64;
        let mut differed_in_solves = 0;
        let mut with_rounds = 0;
        for round in 0..60 {
            let units = 6 + round % 20;
            let spec = random_table(&mut rng, units);
            let cold = protect(&spec, &Policy::default());
            if cold.rounds > 0 {
                with_rounds += 1;
            }
            // Seeds from the same table with other values, and from the cold run itself.
            let mut other = random_table(&mut rng, units);
            other.cells = spec.cells.clone();
            let other_run = protect(&other, &Policy::default());
            for seeds in [other_run.directions.clone(), cold.directions.clone()] {
                let seeded = protect(
                    &Spec {
                        seeds,
                        ..spec.clone()
                    },
                    &Policy::default(),
                );
                assert_eq!(seeded.withheld, cold.withheld, "round {round}");
                if seeded.solves != cold.solves {
                    differed_in_solves += 1;
                }
            }
        }
        assert!(differed_in_solves > 0, "seeds were never used");
        assert!(
            with_rounds > 20,
            "too few tables needed secondary suppression"
        );
    }

    /// A one-way table with its total: one cell is primary-unsafe, so a second one is withheld
    /// and the audit confirms the pair protects both.
    #[test]
    fn one_way_table_gets_a_complementary_suppression() {
        // Units: 0 alone in cell A; 1,2,3 in B; 4,5,6 in C; total = all.
        let units = vec![
            [40.0, 0.0],
            [10.0, 0.0],
            [12.0, 0.0],
            [9.0, 0.0],
            [30.0, 0.0],
            [31.0, 0.0],
            [29.0, 0.0],
        ];
        let cells = vec![
            cell(
                &[
                    (0, 40.0),
                    (1, 10.0),
                    (2, 12.0),
                    (3, 9.0),
                    (4, 30.0),
                    (5, 31.0),
                    (6, 29.0),
                ],
                100.0,
            ),
            cell(&[(0, 40.0)], 1.0),
            cell(&[(1, 10.0), (2, 12.0), (3, 9.0)], 1.0),
            cell(&[(4, 30.0), (5, 31.0), (6, 29.0)], 1.0),
        ];
        let spec = Spec {
            seeds: Vec::new(),
            comps: 1,
            link: None,
            units,
            cells,
            relations: vec![Relation {
                parent: 0,
                children: vec![1, 2, 3],
            }],
        };
        let out = protect(&spec, &Policy::default());
        assert_eq!(out.withheld[1], Some(Reason::FewContributors));
        // B's 31 cannot hide 40 within 10%? It can: 0 + B = 71, 0 ranges over [0, 71].
        // The cheapest complement with enough mass (≥ 4) is B (mass 31 < C's 90).
        assert_eq!(out.withheld[2], Some(Reason::Secondary));
        assert_eq!(out.withheld[3], None);
        assert_eq!(out.withheld[0], None);
    }

    #[test]
    fn dominated_cell_is_withheld() {
        let spec = Spec {
            seeds: Vec::new(),
            comps: 1,
            link: None,
            units: vec![[100.0, 0.0], [5.0, 0.0], [3.0, 0.0]],
            cells: vec![cell(&[(0, 100.0), (1, 5.0), (2, 3.0)], 1.0)],
            relations: vec![],
        };
        let out = protect(&spec, &Policy::default());
        assert_eq!(out.withheld[0], Some(Reason::Dominance));
    }

    /// Two overlapping published cells differ by one contribution: the audit finds it and
    /// withholds a cell although each passes the primary rules on its own.
    #[test]
    fn differencing_across_tables_triggers_secondary_suppression() {
        let units: Vec<[f64; 2]> = [20.0, 21.0, 22.0, 23.0, 24.0]
            .iter()
            .map(|&x| [x, 0.0])
            .collect();
        let spec = Spec {
            seeds: Vec::new(),
            comps: 1,
            link: None,
            units,
            cells: vec![
                cell(
                    &[(0, 20.0), (1, 21.0), (2, 22.0), (3, 23.0), (4, 24.0)],
                    10.0,
                ),
                cell(&[(1, 21.0), (2, 22.0), (3, 23.0), (4, 24.0)], 1.0),
            ],
            relations: vec![],
        };
        let out = protect(&spec, &Policy::default());
        assert_eq!(out.withheld[0], None, "the total stays");
        assert_eq!(out.withheld[1], Some(Reason::Secondary));
        assert!(out.rounds >= 1);
    }

    #[test]
    fn cells_splitting_a_unit_are_not_shown() {
        let mut c = cell(&[(0, 5.0), (1, 5.0), (2, 5.0)], 1.0);
        c.whole_units = false;
        let spec = Spec {
            seeds: Vec::new(),
            comps: 1,
            link: None,
            units: vec![[10.0, 0.0], [10.0, 0.0], [10.0, 0.0]],
            cells: vec![c],
            relations: vec![],
        };
        assert_eq!(
            protect(&spec, &Policy::default()).withheld[0],
            Some(Reason::Secondary)
        );
    }
}
