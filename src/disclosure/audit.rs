//! The attacker's linear program (τ-ARGUS' audit of a suppression pattern), for one table
//! family: which hidden contributions can be narrowed down from the published cells?
//!
//! The unknowns are the hidden contributions `x[j][c]` (unit `j`, e.g. an organisation; component
//! `c`, e.g. numerator and denominator). Every published cell fixes the sum of the hidden
//! contributions in it, for every component; the attacker also knows that each is ≥ 0 and, where
//! the kind has one, the link between the components (numerator ≤ denominator; a survey's
//! n·percentage ≤ 100·n). A contribution is protected when the attacker's interval for it reaches
//! at least `p·x` below and above the true value.
//!
//! We certify protection constructively: a *direction* `d` with every published sum unchanged
//! and `x + d` still admissible is a second explanation of the published figures; a target is
//! protected upwards when some direction raises it by `p·x` (downwards likewise). Directions
//! come from LPs over the same constraints, and one LP with many targets in its objective
//! certifies many at once, so a family needs a handful of solves, not two per contribution.
//!
//! An insider (a team knowing its own figures exactly) fixes its own contributions: a direction
//! that moves the insider's own figure does not fool it. A target is protected against every
//! single insider when the directions certifying it have no insider in common; otherwise the LP
//! is solved again with the common insiders held fixed, and, if that fails, per insider.

use microlp::{ComparisonOp, OptimizationDirection, Problem};

/// The hidden contributions of one family.
#[derive(Debug, Clone)]
pub struct AuditProblem {
    /// Components per unit: 1 (a sum) or 2 (numerator and denominator, n·% and n, …).
    pub comps: usize,
    /// True hidden values per unit, `x[j][c]` (only the first `comps` entries are used).
    pub x: Vec<[f64; 2]>,
    /// `Some(f)`: each unit has `x[j][0] ≤ f·x[j][1]` (ratios f = 1, surveys f = 100).
    pub link: Option<f64>,
}

/// One side of one contribution that must be protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Target {
    pub unit: usize,
    pub comp: usize,
    /// Protect the upper side (the attacker's maximum must reach x·(1+p)).
    pub up: bool,
}

/// A target the published cells do not protect, against everyone or against one insider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    pub target: Target,
    /// The unit whose knowledge of its own figure breaks the protection; `None`: an outsider.
    pub insider: Option<usize>,
}

/// Audits a family against shrinking sets of published cells; certificates found for one set
/// stay valid for every subset, so a secondary-suppression loop only re-checks what failed.
pub struct Auditor {
    problem: AuditProblem,
    p: f64,
    scale: Vec<f64>,
    cap: Vec<f64>,
    directions: Vec<Vec<f64>>,
    /// Per target (index `var * 2 + side`): the directions certifying it.
    certified_by: Vec<Vec<usize>>,
    /// Targets certified against every single insider.
    robust: Vec<bool>,
    rng: u64,
    /// Directions from an earlier audit of the family (other values, perhaps other cells),
    /// tried before any LP (see [`Auditor::seed`]).
    seeds: Vec<Vec<f64>>,
    /// LPs solved so far (for tests and logs).
    pub solves: usize,
    /// Seeded directions that were valid here and kept.
    pub seeds_kept: usize,
}

const UP: usize = 0;
const DOWN: usize = 1;

impl Auditor {
    pub fn new(problem: AuditProblem, p: f64) -> Auditor {
        let comps = problem.comps.clamp(1, 2);
        let n = problem.x.len();
        let mut scale = vec![1.0; n * comps];
        let mut cap = vec![1.0; n * comps];
        for c in 0..comps {
            let total: f64 = problem.x.iter().map(|x| x[c].max(0.0)).sum();
            let max = problem.x.iter().map(|x| x[c]).fold(0.0f64, f64::max);
            let floor = if max > 0.0 { max * 1e-3 } else { 1.0 };
            for j in 0..n {
                let v = j * comps + c;
                scale[v] = problem.x[j][c].max(floor);
                // No hidden contribution exceeds the sum of all of them as long as the total
                // is published; as a bound on the search this is plenty (we need +p·x).
                cap[v] = total.max(floor) + problem.x[j][c];
            }
        }
        let targets = n * comps * 2;
        Auditor {
            problem: AuditProblem { comps, ..problem },
            p,
            scale,
            cap,
            directions: Vec::new(),
            certified_by: vec![Vec::new(); targets],
            robust: vec![false; targets],
            rng: 0x2545_F491_4F6C_DD1D,
            seeds: Vec::new(),
            solves: 0,
            seeds_kept: 0,
        }
    }

    /// Offer directions found by an earlier audit of this family (when one organisation's
    /// figures change, most of them still hold). Each is checked at the next [`Auditor::audit`]
    /// against that audit's published cells (every cell's sum unchanged) and against the
    /// current values (every contribution stays ≥ 0 and within its link, after scaling the
    /// direction down if it must): only then is it a second explanation of what is published
    /// and used as a certificate. A wrong or stale seed is therefore dropped, never trusted.
    pub fn seed(&mut self, directions: Vec<Vec<f64>>) {
        let vars = self.vars();
        self.seeds = directions.into_iter().filter(|d| d.len() == vars).collect();
    }

    /// Every direction recorded so far (to seed a later audit of the family).
    pub fn directions(&self) -> &[Vec<f64>] {
        &self.directions
    }

    /// `dir` if it keeps every cell of `cells` unchanged, scaled down (if needed) so that
    /// every contribution stays admissible; `None` otherwise.
    fn admissible(&self, cells: &[Vec<usize>], dir: &[f64]) -> Option<Vec<f64>> {
        let comps = self.problem.comps;
        for cell in cells {
            for c in 0..comps {
                let (mut sum, mut size) = (0.0f64, 0.0f64);
                for &j in cell {
                    let v = j * comps + c;
                    sum += dir[v];
                    size += dir[v].abs() + self.scale[v];
                }
                if sum.abs() > 1e-9 * size {
                    return None;
                }
            }
        }
        let mut t = 1.0f64;
        for (v, d) in dir.iter().enumerate() {
            if *d < 0.0 {
                t = t.min(self.value(v).max(0.0) / -d);
            }
        }
        if let (Some(f), 2) = (self.problem.link, comps) {
            for (j, x) in self.problem.x.iter().enumerate() {
                let (d0, d1) = (dir[j * 2], dir[j * 2 + 1]);
                let grow = d0 - f * d1;
                if grow > 0.0 {
                    t = t.min((f * x[1] - x[0]).max(0.0) / grow);
                }
            }
        }
        if t <= 0.0 || !t.is_finite() {
            return None;
        }
        // Keep clear of the bounds by a hair, as the solver's own directions do.
        let t = if t < 1.0 { t * (1.0 - 1e-9) } else { 1.0 };
        let scaled: Vec<f64> = dir.iter().map(|d| d * t).collect();
        scaled.iter().any(|d| *d != 0.0).then_some(scaled)
    }

    fn vars(&self) -> usize {
        self.problem.x.len() * self.problem.comps
    }

    fn value(&self, var: usize) -> f64 {
        self.problem.x[var / self.problem.comps][var % self.problem.comps]
    }

    fn needs(&self, var: usize) -> bool {
        self.value(var) > 0.0
    }

    fn certifies(&self, dir: &[f64], var: usize, side: usize) -> bool {
        let slack = if self.p > 0.0 {
            1e-9 * self.scale[var]
        } else {
            0.0
        };
        let need = self.p * self.value(var) * (1.0 + 1e-6) + slack;
        match side {
            UP => dir[var] >= need,
            _ => -dir[var] >= need,
        }
    }

    fn record(&mut self, dir: Vec<f64>) -> usize {
        let id = self.directions.len();
        for var in 0..self.vars() {
            if !self.needs(var) {
                continue;
            }
            for side in [UP, DOWN] {
                if self.certifies(&dir, var, side) {
                    self.certified_by[var * 2 + side].push(id);
                }
            }
        }
        self.directions.push(dir);
        id
    }

    fn unit_moves(&self, dir: &[f64], unit: usize) -> bool {
        let comps = self.problem.comps;
        (0..comps).any(|c| {
            let v = unit * comps + c;
            dir[v].abs() > 1e-9 * self.scale[v]
        })
    }

    /// The insiders that the directions certifying `var` on `side` cannot fool: units `u` (other
    /// than `var`'s own) such that no convex combination of those directions leaves `u`'s
    /// figure where it is. A convex combination of certifying directions still certifies
    /// (each moves the target far enough), so a target is safe from insider `u` as soon as
    /// `u`'s moves across the directions surround zero: one leaves it alone, or two move it
    /// opposite ways (for two components: zero lies in the convex hull of its moves).
    fn blockers(&self, var: usize, side: usize) -> Vec<usize> {
        let comps = self.problem.comps;
        let own = var / comps;
        let ids = &self.certified_by[var * 2 + side];
        if ids.is_empty() {
            return Vec::new();
        }
        let mut out = Vec::new();
        for u in 0..self.problem.x.len() {
            if u == own {
                continue;
            }
            let mut points: Vec<[f64; 2]> = Vec::with_capacity(ids.len());
            let mut free = false;
            for &d in ids {
                let dir = &self.directions[d];
                if !self.unit_moves(dir, u) {
                    free = true;
                    break;
                }
                let p0 = dir[u * comps];
                let p1 = if comps == 2 { dir[u * comps + 1] } else { 0.0 };
                points.push([
                    p0 / self.scale[u * comps],
                    p1 / self.scale[u * comps + comps - 1],
                ]);
            }
            if !free && !zero_in_hull(&points) {
                out.push(u);
            }
        }
        out
    }

    fn next_rand(&mut self) -> f64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        (self.rng >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Maximise `objective` (weights on scaled variables) over directions that keep every cell
    /// in `cells` unchanged and the units in `fixed` where they are; `capped` variables move at
    /// most a little over p·x (enough to certify, and it keeps the answer small).
    ///
    /// Each change is split into a rise and a fall, both ≥ 0, with a small cost per unit moved,
    /// so that the LP moves only what it must: the directions it returns are sparse, which is
    /// what makes "no insider in common" checkable.
    fn solve(
        &mut self,
        cells: &[Vec<usize>],
        objective: &[(usize, f64)],
        fixed: &[usize],
        capped: &[usize],
    ) -> Option<Vec<f64>> {
        self.solve_with(cells, objective, fixed, capped, 1e-3)
    }

    fn solve_with(
        &mut self,
        cells: &[Vec<usize>],
        objective: &[(usize, f64)],
        fixed: &[usize],
        capped: &[usize],
        move_cost: f64,
    ) -> Option<Vec<f64>> {
        self.solve_once(cells, objective, fixed, capped, move_cost)
    }

    fn solve_once(
        &mut self,
        cells: &[Vec<usize>],
        objective: &[(usize, f64)],
        fixed: &[usize],
        capped: &[usize],
        move_cost: f64,
    ) -> Option<Vec<f64>> {
        self.solves += 1;
        let comps = self.problem.comps;
        let n = self.problem.x.len();
        let nv = n * comps;
        let mut weights = vec![0.0; nv];
        for &(v, w) in objective {
            weights[v] += w;
        }
        let mut is_fixed = vec![false; n];
        for &u in fixed {
            is_fixed[u] = true;
        }
        let mut is_capped = vec![false; nv];
        for &v in capped {
            is_capped[v] = true;
        }
        let mut lp = Problem::new(OptimizationDirection::Maximize);
        // With a cost per move, each change is split into a rise and a fall (both ≥ 0) so the
        // cost applies to either; without, one variable per change.
        let split = move_cost > 0.0;
        let mut rise = Vec::with_capacity(nv);
        let mut fall = Vec::with_capacity(if split { nv } else { 0 });
        for v in 0..nv {
            let s = self.scale[v];
            let x = self.value(v).max(0.0);
            let (up, down) = if is_fixed[v / comps] {
                (0.0, 0.0)
            } else if is_capped[v] {
                let c = (1.01 * self.p * x + 1e-6 * s) / s;
                (c, c.min(x / s))
            } else {
                (self.cap[v] / s, x / s)
            };
            if split {
                rise.push(lp.add_var(weights[v] - move_cost, (0.0, up)));
                fall.push(lp.add_var(-weights[v] - move_cost, (0.0, down)));
            } else {
                rise.push(lp.add_var(weights[v], (-down, up)));
            }
        }
        let term = |v: usize, a: f64, out: &mut Vec<(microlp::Variable, f64)>| {
            out.push((rise[v], a));
            if split {
                out.push((fall[v], -a));
            }
        };
        for cell in cells {
            for c in 0..comps {
                let max = cell
                    .iter()
                    .map(|&j| self.scale[j * comps + c])
                    .fold(0.0f64, f64::max);
                if max <= 0.0 {
                    continue;
                }
                let mut terms = Vec::with_capacity(cell.len() * 2);
                for &j in cell {
                    let v = j * comps + c;
                    term(v, self.scale[v] / max, &mut terms);
                }
                lp.add_constraint(terms.as_slice(), ComparisonOp::Eq, 0.0);
            }
        }
        if let (Some(f), 2) = (self.problem.link, comps) {
            // (x0 + d0) ≤ f·(x1 + d1)  ⇔  s0·u0 − f·s1·u1 ≤ f·x1 − x0
            for (j, fixed) in is_fixed.iter().enumerate() {
                if *fixed {
                    continue;
                }
                let (v0, v1) = (j * comps, j * comps + 1);
                let (a, b) = (self.scale[v0], f * self.scale[v1]);
                let m = a.max(b);
                let rhs = (f * self.problem.x[j][1] - self.problem.x[j][0]) / m;
                let mut terms = Vec::with_capacity(4);
                term(v0, a / m, &mut terms);
                term(v1, -b / m, &mut terms);
                lp.add_constraint(terms.as_slice(), ComparisonOp::Le, rhs.max(0.0));
            }
        }
        let solution = lp.solve().ok()?.into_solution().ok()?;
        Some(
            (0..nv)
                .map(|v| {
                    let mut d = solution.var_value(rise[v]);
                    if split {
                        d -= solution.var_value(fall[v]);
                    }
                    let d = d * self.scale[v];
                    // Round-off of the solver is not a move.
                    if d.abs() <= 1e-9 * self.scale[v] {
                        0.0
                    } else {
                        d
                    }
                })
                .collect(),
        )
    }

    fn pending(&self, side: usize, var: usize) -> bool {
        self.needs(var) && self.certified_by[var * 2 + side].is_empty()
    }

    /// Every target the published `cells` leave unprotected (empty: the pattern is safe).
    pub fn audit(&mut self, cells: &[Vec<usize>]) -> Vec<Failure> {
        let vars = self.vars();
        let n = self.problem.x.len();
        // Seeds are checked against the first (largest) published set; what holds there holds
        // for every later, smaller one.
        for dir in std::mem::take(&mut self.seeds) {
            if let Some(dir) = self.admissible(cells, &dir) {
                self.record(dir);
                self.seeds_kept += 1;
            }
        }
        // Units in no published cell can move freely and hold nobody else's figure in place.
        let mut constrained = vec![false; n];
        for cell in cells {
            for &u in cell {
                constrained[u] = true;
            }
        }
        for v in 0..vars {
            if self.needs(v) && !constrained[v / self.problem.comps] {
                for side in [UP, DOWN] {
                    let t = v * 2 + side;
                    if self.certified_by[t].is_empty() {
                        // The unit alone, moved by p·x: nothing published sees it.
                        let mut dir = vec![0.0; vars];
                        dir[v] =
                            if side == UP { 1.0 } else { -1.0 } * self.p * self.value(v) * 1.01;
                        self.record(dir);
                    }
                    self.robust[t] = true;
                }
            }
        }
        // 1. Harvest: one LP pushes every pending target in its wanted direction at once.
        let s0 = self.solves;
        self.harvest(cells, false);
        let s1 = self.solves;
        // 2. What harvesting left: one LP per target, which decides it.
        let mut failures = Vec::new();
        for v in 0..vars {
            for side in [UP, DOWN] {
                if !self.pending(side, v) {
                    continue;
                }
                let w = if side == UP { 1.0 } else { -1.0 };
                if let Some(dir) = self.solve(cells, &[(v, w)], &[], &[v]) {
                    self.record(dir);
                }
                if self.pending(side, v) {
                    failures.push(Failure {
                        target: self.target(v, side),
                        insider: None,
                    });
                }
            }
        }
        // 3. Insiders: each target must stay protected with any one other unit held fixed.
        // Harvest again with a random half of the units held fixed each time: the directions
        // found avoid them, and a target whose certifying directions have no unit in common
        // is safe from every insider.
        let s2 = self.solves;
        self.harvest(cells, true);
        let s3 = self.solves;
        let pending_insider = (0..vars * 2)
            .filter(|&t| self.needs(t / 2) && !self.robust[t] && !self.certified_by[t].is_empty())
            .count();
        for v in 0..vars {
            for side in [UP, DOWN] {
                let t = v * 2 + side;
                if !self.needs(v) || self.robust[t] || self.certified_by[t].is_empty() {
                    continue;
                }
                let w = if side == UP { 1.0 } else { -1.0 };
                let common = self.blockers(v, side);
                if !common.is_empty()
                    && let Some(dir) = self.solve(cells, &[(v, w)], &common, &[v])
                {
                    self.record(dir);
                }
                // Each success adds a direction avoiding `u`, so the common set shrinks.
                let mut broken = None;
                while let Some(&u) = self.blockers(v, side).first() {
                    if let Some(dir) = self.solve(cells, &[(v, w)], &[u], &[v]) {
                        let id = self.record(dir);
                        if self.certified_by[t].contains(&id) {
                            continue;
                        }
                    }
                    broken = Some(u);
                    break;
                }
                // The insider reported is the smallest that breaks the target, whatever
                // directions happen to be known (blockers are tried in ascending order and only
                // shrink; every breaking insider stays a blocker): the pattern chosen from the
                // failures depends on the figures, never on the audit's history (seeds, earlier
                // rounds), so instances with different histories publish the same pattern.
                match broken {
                    Some(u) => failures.push(Failure {
                        target: self.target(v, side),
                        insider: Some(u),
                    }),
                    None => self.robust[t] = true,
                }
            }
        }
        tracing::trace!(
            units = n,
            cells = cells.len(),
            harvest = s1 - s0,
            singles = s2 - s1,
            insider_harvest = s3 - s2,
            insider_pending = pending_insider,
            insider_singles = self.solves - s3,
            failures = failures.len(),
            "disclosure audit"
        );
        failures
    }

    /// Solve LPs that push many targets at once (each in its wanted direction), until they stop
    /// certifying anything new. With `insiders`, the targets are those not yet safe from
    /// insiders, and each LP holds a random half of the units fixed.
    fn harvest(&mut self, cells: &[Vec<usize>], insiders: bool) {
        let vars = self.vars();
        let comps = self.problem.comps;
        let n = self.problem.x.len();
        // Insider robustness needs several certifying directions per target before a blocker
        // disappears, so progress is checked every few rounds.
        let check_every = if insiders { 4 } else { 1 };
        let mut idle = 0;
        let mut rounds = 0;
        let mut before = self.progress(insiders);
        while idle < 2 && rounds < 48 {
            rounds += 1;
            let fixed: Vec<usize> = if insiders {
                (0..n).filter(|_| self.next_rand() < 0.3).collect()
            } else {
                Vec::new()
            };
            let mut is_fixed = vec![false; n];
            for &u in &fixed {
                is_fixed[u] = true;
            }
            let mut objective = Vec::new();
            let mut capped = Vec::new();
            for v in 0..vars {
                if is_fixed[v / comps] || !self.needs(v) {
                    continue;
                }
                let open = |side: usize| {
                    let t = v * 2 + side;
                    if insiders {
                        !self.robust[t] && !self.certified_by[t].is_empty()
                    } else {
                        self.certified_by[t].is_empty()
                    }
                };
                let sign = match (open(UP), open(DOWN)) {
                    (true, true) => {
                        if self.next_rand() < 0.5 {
                            1.0
                        } else {
                            -1.0
                        }
                    }
                    (true, false) => 1.0,
                    (false, true) => -1.0,
                    (false, false) => continue,
                };
                objective.push((v, sign * (0.5 + self.next_rand())));
                capped.push(v);
            }
            if objective.is_empty() {
                break;
            }
            match self.solve(cells, &objective, &fixed, &capped) {
                Some(dir) => {
                    self.record(dir);
                }
                None => break,
            }
            if rounds % check_every == 0 {
                if insiders {
                    self.mark_robust();
                }
                let now = self.progress(insiders);
                if now == before {
                    idle += 1;
                } else {
                    idle = 0;
                }
                before = now;
            }
        }
        if insiders {
            self.mark_robust();
        }
    }

    /// Targets certified (outsiders) or safe from insiders, for progress checks.
    fn progress(&self, insiders: bool) -> usize {
        if insiders {
            self.robust.iter().filter(|r| **r).count()
        } else {
            self.certified_count()
        }
    }

    fn mark_robust(&mut self) {
        for v in 0..self.vars() {
            for side in [UP, DOWN] {
                let t = v * 2 + side;
                if self.needs(v)
                    && !self.robust[t]
                    && !self.certified_by[t].is_empty()
                    && self.blockers(v, side).is_empty()
                {
                    self.robust[t] = true;
                }
            }
        }
    }

    fn certified_count(&self) -> usize {
        self.certified_by.iter().filter(|c| !c.is_empty()).count()
    }

    fn target(&self, var: usize, side: usize) -> Target {
        Target {
            unit: var / self.problem.comps,
            comp: var % self.problem.comps,
            up: side == UP,
        }
    }

    /// Whether `target` would be protected (against `insider`, if given) by the published
    /// `cells`, without keeping what the LP found: for trying out a suppression.
    pub fn probe(&mut self, cells: &[Vec<usize>], target: Target, insider: Option<usize>) -> bool {
        let comps = self.problem.comps;
        let v = target.unit * comps + target.comp;
        let (side, w) = if target.up { (UP, 1.0) } else { (DOWN, -1.0) };
        let fixed: Vec<usize> = insider.into_iter().collect();
        self.solve(cells, &[(v, w)], &fixed, &[v])
            .is_some_and(|dir| self.certifies(&dir, v, side))
    }

    /// The attacker's exact interval for a linear function of the hidden values given the
    /// published `cells` (LP min and max; `None` where unbounded). For tests and diagnostics.
    pub fn interval(
        &mut self,
        cells: &[Vec<usize>],
        weights: &[(usize, usize, f64)],
        fixed: &[usize],
    ) -> (Option<f64>, Option<f64>) {
        let comps = self.problem.comps;
        let objective: Vec<(usize, f64)> = weights
            .iter()
            .map(|&(u, c, w)| (u * comps + c, w * self.scale[u * comps + c]))
            .collect();
        let base: f64 = weights
            .iter()
            .map(|&(u, c, w)| w * self.problem.x[u][c])
            .sum();
        let eval = |dir: &[f64]| -> f64 {
            base + weights
                .iter()
                .map(|&(u, c, w)| w * dir[u * comps + c])
                .sum::<f64>()
        };
        let hi = self
            .solve_with(cells, &objective, fixed, &[], 0.0)
            .map(|d| eval(&d));
        let neg: Vec<(usize, f64)> = objective.iter().map(|&(v, w)| (v, -w)).collect();
        let lo = self
            .solve_with(cells, &neg, fixed, &[], 0.0)
            .map(|d| eval(&d));
        (lo, hi)
    }
}

/// Whether the origin lies in the convex hull of 2-d points (1-d points have y = 0): no open
/// half-plane through the origin holds them all.
fn zero_in_hull(points: &[[f64; 2]]) -> bool {
    let eps = 1e-12;
    if points
        .iter()
        .any(|p| p[0].abs() <= eps && p[1].abs() <= eps)
    {
        return true;
    }
    let mut angles: Vec<f64> = points.iter().map(|p| p[1].atan2(p[0])).collect();
    angles.sort_by(|a, b| a.total_cmp(b));
    // The largest gap between consecutive directions (around the circle): more than π means
    // every point lies in one open half-plane.
    let mut gap = angles[0] + 2.0 * std::f64::consts::PI - angles[angles.len() - 1];
    for w in angles.windows(2) {
        gap = gap.max(w[1] - w[0]);
    }
    gap <= std::f64::consts::PI + 1e-9
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(x: &[f64]) -> AuditProblem {
        AuditProblem {
            comps: 1,
            x: x.iter().map(|&v| [v, 0.0]).collect(),
            link: None,
        }
    }

    #[test]
    fn a_lone_contribution_in_a_published_cell_is_disclosed() {
        let mut a = Auditor::new(one(&[10.0, 20.0, 30.0]), 0.10);
        // Cell {0} published: unit 0 is exact.
        let failures = a.audit(&[vec![0], vec![0, 1, 2]]);
        assert!(
            failures
                .iter()
                .any(|f| f.target.unit == 0 && f.insider.is_none())
        );
        let (lo, hi) = a.interval(&[vec![0], vec![0, 1, 2]], &[(0, 0, 1.0)], &[]);
        assert!((lo.unwrap() - 10.0).abs() < 1e-6 && (hi.unwrap() - 10.0).abs() < 1e-6);
    }

    #[test]
    fn three_similar_contributions_in_one_cell_are_protected_also_from_insiders() {
        let mut a = Auditor::new(one(&[10.0, 12.0, 11.0]), 0.10);
        assert_eq!(a.audit(&[vec![0, 1, 2]]), vec![]);
    }

    #[test]
    fn seeds_that_are_no_explanation_are_not_trusted() {
        // Cell {0} published: unit 0 is exact. A "direction" raising and lowering unit 0 alone
        // would certify it, but it changes the published cell: it must be refused.
        let mut a = Auditor::new(one(&[10.0, 20.0, 30.0]), 0.10);
        a.seed(vec![
            vec![5.0, 0.0, -5.0],
            vec![-5.0, 0.0, 5.0],
            vec![1.0, -1.0, 0.0],
        ]);
        let failures = a.audit(&[vec![0], vec![0, 1, 2]]);
        assert_eq!(a.seeds_kept, 0);
        assert!(
            failures
                .iter()
                .any(|f| f.target.unit == 0 && f.insider.is_none())
        );
        // A seed that is an explanation but overshoots (would make a contribution negative) is
        // scaled down, and kept only as far as it is admissible.
        let mut b = Auditor::new(one(&[10.0, 1.0, 30.0]), 0.10);
        b.seed(vec![vec![5.0, -5.0, 0.0]]);
        let failures = b.audit(&[vec![0, 1, 2]]);
        assert_eq!(b.seeds_kept, 1);
        assert!(b.directions()[0][1] >= -1.0 && b.directions()[0][0] <= 1.0 + 1e-9);
        // The audit decides as it would have without the seed.
        let mut c = Auditor::new(one(&[10.0, 1.0, 30.0]), 0.10);
        assert_eq!(failures, c.audit(&[vec![0, 1, 2]]));
    }

    #[test]
    fn a_seeded_audit_finds_what_an_unseeded_one_finds_with_fewer_solves() {
        let x = [10.0, 12.0, 11.0, 40.0, 9.0, 13.0];
        let cells = vec![
            vec![0, 1, 2],
            vec![3, 4, 5],
            vec![0, 3],
            vec![0, 1, 2, 3, 4, 5],
        ];
        let mut cold = Auditor::new(one(&x), 0.10);
        let cold_failures = cold.audit(&cells);
        // Other values (one unit changed), seeded with the first audit's directions.
        let y = [10.0, 12.0, 11.0, 44.0, 9.0, 13.0];
        let mut fresh = Auditor::new(one(&y), 0.10);
        let fresh_failures = fresh.audit(&cells);
        let mut seeded = Auditor::new(one(&y), 0.10);
        seeded.seed(cold.directions().to_vec());
        let seeded_failures = seeded.audit(&cells);
        assert_eq!(seeded_failures, fresh_failures);
        assert!(
            seeded.solves <= fresh.solves,
            "{} > {}",
            seeded.solves,
            fresh.solves
        );
        let _ = cold_failures;
    }

    #[test]
    fn two_contributions_fall_to_an_insider() {
        // The total of two: each is free for an outsider but the other one knows it.
        let mut a = Auditor::new(one(&[10.0, 12.0]), 0.10);
        let failures = a.audit(&[vec![0, 1]]);
        assert!(!failures.is_empty());
        assert!(failures.iter().all(|f| f.insider.is_some()), "{failures:?}");
    }

    #[test]
    fn differencing_two_published_cells_is_caught() {
        // Cells {0,1,2,3} and {1,2,3} published: 0 = difference, exactly.
        let mut a = Auditor::new(one(&[5.0, 7.0, 9.0, 11.0]), 0.10);
        let cells = vec![vec![0, 1, 2, 3], vec![1, 2, 3]];
        let failures = a.audit(&cells);
        assert!(
            failures
                .iter()
                .any(|f| f.target.unit == 0 && f.insider.is_none())
        );
    }

    /// A 2x2 table with its margins published and every interior cell hidden, the textbook case
    /// of complementary suppression: the cells can trade mass along the cycle +0 −1 −2 +3, as far as the cells
    /// it takes from allow. Values 20, 50 / 10, 30: t ∈ [−20, 10], so cell 0 ∈ [0, 30].
    #[test]
    fn cycle_in_a_two_way_table_gives_the_textbook_interval() {
        let mut a = Auditor::new(one(&[20.0, 50.0, 10.0, 30.0]), 0.10);
        let cells = vec![vec![0, 1], vec![2, 3], vec![0, 2], vec![1, 3]];
        let (lo, hi) = a.interval(&cells, &[(0, 0, 1.0)], &[]);
        assert!((lo.unwrap() - 0.0).abs() < 1e-6, "{lo:?}");
        assert!((hi.unwrap() - 30.0).abs() < 1e-6, "{hi:?}");
        // Outsiders cannot pin anything down, but every unit is in a cycle with all others:
        // an insider fixes the cycle and learns everything.
        let failures = a.audit(&cells);
        assert!(failures.iter().all(|f| f.insider.is_some()));
        assert!(!failures.is_empty());
    }

    #[test]
    fn ratio_link_is_known_to_the_attacker() {
        // Unit 0 has numerator = denominator (100%). Denominators are pinned exactly by cells
        // {0} for component 1? Cells apply to both components, so use a family where only the
        // link pins the numerator: numerators {0,1,2} sum published with 1, 2 having large room.
        let p = AuditProblem {
            comps: 2,
            x: vec![[50.0, 50.0], [10.0, 100.0], [10.0, 100.0]],
            link: Some(1.0),
        };
        let mut a = Auditor::new(p, 0.10);
        // Only the whole is published: unit 0's numerator may rise only as far as its
        // denominator rises, which the others' denominators allow.
        let (lo, hi) = a.interval(&[vec![0, 1, 2]], &[(0, 0, 1.0)], &[]);
        assert!((lo.unwrap() - 0.0).abs() < 1e-6);
        assert!((hi.unwrap() - 70.0).abs() < 1e-6, "{hi:?}");
    }

    // Textbook tables (citations as in the SDC handbook's source, GitHub sdcTools/HandbookSDC,
    // chapter 4 "Magnitude tabular data", and the R package sdcTools/sdcTable's tests).

    /// Handbook on SDC, example 3 (after Geurts 1992): a 2x2 interior suppressed with all
    /// margins published (rows 7, 3; columns 6, 4). The handbook gives X11 ∈ [3, 6].
    #[test]
    fn handbook_example_3_interval() {
        // Interior consistent with the margins: X11 = 4, X12 = 3, X21 = 2, X22 = 1.
        let mut a = Auditor::new(one(&[4.0, 3.0, 2.0, 1.0]), 0.10);
        let cells = vec![vec![0, 1], vec![2, 3], vec![0, 2], vec![1, 3]];
        let (lo, hi) = a.interval(&cells, &[(0, 0, 1.0)], &[]);
        assert!((lo.unwrap() - 3.0).abs() < 1e-6, "{lo:?}");
        assert!((hi.unwrap() - 6.0).abs() < 1e-6, "{hi:?}");
    }

    /// sdcTable's test problem (`R/test_problems.R`, `tests/testthat/test-simpleheuristic.R`): a
    /// 4x4 table with nine suppressions, at least two in every row and column, where cell w|b
    /// (47) can still be recomputed exactly; one more suppression (x|d) makes it [0, 78], the
    /// answer sdcTable's test asserts. The "two per row and column" count cannot see this; the
    /// LP does.
    #[test]
    fn two_per_row_and_column_is_not_enough() {
        // Suppressed cells as units: w|a 30, w|b 47, w|c 64, x|a 90, x|c 5, y|b 100, y|d 85,
        // z|b 991, z|d 685, and (second pattern) x|d 31.
        let values = [30.0, 47.0, 64.0, 90.0, 5.0, 100.0, 85.0, 991.0, 685.0, 31.0];
        let (wa, wb, wc, xa, xc, yb, yd, zb, zd, xd) = (0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
        let mut a = Auditor::new(one(&values), 0.10);
        // Each row and column: the sum of its suppressed cells is known (margin minus the
        // published cells).
        let p0 = vec![
            vec![wa, wb, wc],
            vec![xa, xc],
            vec![yb, yd],
            vec![zb, zd],
            vec![wa, xa],
            vec![wb, yb, zb],
            vec![wc, xc],
            vec![yd, zd],
            vec![xd], // x|d published (a constant): its own cell
        ];
        let (lo, hi) = a.interval(&p0, &[(wb, 0, 1.0)], &[]);
        assert!((lo.unwrap() - 47.0).abs() < 1e-6 && (hi.unwrap() - 47.0).abs() < 1e-6);
        assert!(a.audit(&p0).iter().any(|f| f.target.unit == wb));
        let p2 = vec![
            vec![wa, wb, wc],
            vec![xa, xc, xd],
            vec![yb, yd],
            vec![zb, zd],
            vec![wa, xa],
            vec![wb, yb, zb],
            vec![wc, xc],
            vec![yd, zd, xd],
        ];
        let (lo, hi) = a.interval(&p2, &[(wb, 0, 1.0)], &[]);
        assert!((lo.unwrap() - 0.0).abs() < 1e-6, "{lo:?}");
        assert!((hi.unwrap() - 78.0).abs() < 1e-6, "{hi:?}");
    }

    /// The τ-ARGUS manual's singleton example (manual 4.1, §2.10): row A = 52, 15, 62, 17 and
    /// row B = 24, 18, 31, 8 with margins; c12 (15) has a single contributor, c14 (17) is
    /// p%-unsafe. Suppressing c12, c14, c22, c24 leaves c12 ∈ [7, 32] for an outsider, but the
    /// single contributor of c12 knows 15 and recomputes the others exactly.
    #[test]
    fn singleton_insider_undoes_a_rectangle() {
        let (c12, c14, c22, c24) = (0, 1, 2, 3);
        let mut a = Auditor::new(one(&[15.0, 17.0, 18.0, 8.0]), 0.10);
        let cells = vec![
            vec![c12, c14],
            vec![c22, c24],
            vec![c12, c22],
            vec![c14, c24],
        ];
        let (lo, hi) = a.interval(&cells, &[(c12, 0, 1.0)], &[]);
        assert!((lo.unwrap() - 7.0).abs() < 1e-6 && (hi.unwrap() - 32.0).abs() < 1e-6);
        let (lo, hi) = a.interval(&cells, &[(c14, 0, 1.0)], &[c12]);
        assert!((lo.unwrap() - 17.0).abs() < 1e-6 && (hi.unwrap() - 17.0).abs() < 1e-6);
        let failures = a.audit(&cells);
        assert!(
            failures
                .iter()
                .any(|f| f.target.unit == c14 && f.insider == Some(c12)),
            "{failures:?}"
        );
    }
}
