//! Reference data: provinces and municipalities (CBS codes) with population and size class,
//! valid for a stated year. The data files live in `data/reference/` (see SOURCES.md there),
//! are embedded in the binary and loaded idempotently into the database at start-up.

use std::collections::HashMap;

use diesel::prelude::*;
use serde::Serialize;

use crate::db::DbConn;
use crate::db::schema::{municipalities, provinces};
use crate::error::{AppError, AppResult};

const MUNICIPALITIES_CSV: &str = include_str!("../../data/reference/gemeenten.csv");
const PROVINCES_CSV: &str = include_str!("../../data/reference/provincies.csv");

crate::text_enum! {
    /// Municipality size class by number of residents.
    pub enum SizeClass {
        /// Fewer than 50,000 residents.
        Klein = "klein",
        /// 50,000 to 100,000 residents.
        Middelgroot = "middelgroot",
        /// More than 100,000 residents.
        Groot = "groot",
    }
}

impl SizeClass {
    pub fn of_population(population: i64) -> SizeClass {
        if population < 50_000 {
            SizeClass::Klein
        } else if population <= 100_000 {
            SizeClass::Middelgroot
        } else {
            SizeClass::Groot
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, async_graphql::SimpleObject, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Province {
    /// CBS code, `PV20` to `PV31`.
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, async_graphql::SimpleObject, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Municipality {
    /// CBS code, `GM` + 4 digits (GM0363 Amsterdam).
    pub code: String,
    pub name: String,
    /// CBS province code.
    pub province: String,
    /// Residents on 1 January of `year`.
    pub population: i64,
    pub size_class: SizeClass,
    /// The year this municipal division and population are valid for.
    pub year: i32,
}

/// The reference data held in memory (read back from the database at start-up).
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    pub year: i32,
    pub provinces: Vec<Province>,
    pub municipalities: Vec<Municipality>,
    by_code: HashMap<String, usize>,
}

#[derive(Insertable, AsChangeset, Queryable)]
#[diesel(table_name = municipalities)]
struct MunicipalityRow {
    year: i32,
    code: String,
    name: String,
    province_code: String,
    population: i64,
    size_class: String,
}

#[derive(Insertable, AsChangeset, Queryable)]
#[diesel(table_name = provinces)]
struct ProvinceRow {
    code: String,
    name: String,
}

pub fn is_municipality_code(s: &str) -> bool {
    s.len() == 6 && s.starts_with("GM") && s[2..].bytes().all(|b| b.is_ascii_digit())
}

impl Reference {
    pub fn new(provinces: Vec<Province>, municipalities: Vec<Municipality>) -> Self {
        let year = municipalities.iter().map(|m| m.year).max().unwrap_or(0);
        let by_code = municipalities
            .iter()
            .enumerate()
            .filter(|(_, m)| m.year == year)
            .map(|(i, m)| (m.code.clone(), i))
            .collect();
        Reference {
            year,
            provinces,
            municipalities,
            by_code,
        }
    }

    /// Parse the data files embedded in the binary, checking them on the way.
    pub fn builtin() -> Result<Reference, String> {
        Self::from_csv(PROVINCES_CSV, MUNICIPALITIES_CSV)
    }

    pub fn from_csv(provinces_csv: &str, municipalities_csv: &str) -> Result<Reference, String> {
        #[derive(serde::Deserialize)]
        struct P {
            code: String,
            naam: String,
        }
        #[derive(serde::Deserialize)]
        struct M {
            code: String,
            naam: String,
            provincie: String,
            inwoners: i64,
            jaar: i32,
        }
        let mut provinces = Vec::new();
        for r in csv::Reader::from_reader(provinces_csv.as_bytes()).deserialize::<P>() {
            let p = r.map_err(|e| format!("provincies.csv: {e}"))?;
            provinces.push(Province {
                code: p.code,
                name: p.naam,
            });
        }
        let mut municipalities = Vec::new();
        for r in csv::Reader::from_reader(municipalities_csv.as_bytes()).deserialize::<M>() {
            let m = r.map_err(|e| format!("gemeenten.csv: {e}"))?;
            municipalities.push(Municipality {
                size_class: SizeClass::of_population(m.inwoners),
                code: m.code,
                name: m.naam,
                province: m.provincie,
                population: m.inwoners,
                year: m.jaar,
            });
        }
        let reference = Reference::new(provinces, municipalities);
        let problems = reference.check();
        if problems.is_empty() {
            Ok(reference)
        } else {
            Err(problems.join("; "))
        }
    }

    /// Consistency problems (empty when the data is sound).
    pub fn check(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for p in &self.provinces {
            let ok = p.code.len() == 4
                && p.code.starts_with("PV")
                && p.code[2..]
                    .parse::<u32>()
                    .is_ok_and(|n| (20..=31).contains(&n));
            if !ok {
                problems.push(format!("province code {:?} is not PV20..PV31", p.code));
            }
            if !seen.insert(p.code.clone()) {
                problems.push(format!("province {} listed twice", p.code));
            }
        }
        let mut seen = std::collections::HashSet::new();
        for m in &self.municipalities {
            if !is_municipality_code(&m.code) {
                problems.push(format!(
                    "municipality code {:?} is not GM + 4 digits",
                    m.code
                ));
            }
            if !seen.insert((m.year, m.code.clone())) {
                problems.push(format!(
                    "municipality {} listed twice for {}",
                    m.code, m.year
                ));
            }
            if !self.provinces.iter().any(|p| p.code == m.province) {
                problems.push(format!(
                    "municipality {} has unknown province {}",
                    m.code, m.province
                ));
            }
            if m.population <= 0 || m.name.trim().is_empty() {
                problems.push(format!(
                    "municipality {} lacks a name or population",
                    m.code
                ));
            }
        }
        problems
    }

    /// A municipality of the current reference year.
    pub fn municipality(&self, code: &str) -> Option<&Municipality> {
        self.by_code
            .get(&code.trim().to_ascii_uppercase())
            .map(|&i| &self.municipalities[i])
    }

    pub fn province(&self, code: &str) -> Option<&Province> {
        let code = code.trim().to_ascii_uppercase();
        self.provinces.iter().find(|p| p.code == code)
    }

    /// Municipalities of the reference year, optionally filtered.
    pub fn list(
        &self,
        province: Option<&str>,
        size_class: Option<SizeClass>,
    ) -> AppResult<Vec<Municipality>> {
        let province = match province {
            Some(p) => Some(
                self.province(p)
                    .ok_or_else(|| {
                        AppError::validation(
                            "province",
                            "unknown_province",
                            format!("onbekende provincie / unknown province {p:?}: use PV20..PV31"),
                        )
                    })?
                    .code
                    .clone(),
            ),
            None => None,
        };
        Ok(self
            .municipalities
            .iter()
            .filter(|m| m.year == self.year)
            .filter(|m| province.as_ref().is_none_or(|p| &m.province == p))
            .filter(|m| size_class.is_none_or(|s| m.size_class == s))
            .cloned()
            .collect())
    }

    pub fn get(&self, code: &str) -> AppResult<Municipality> {
        self.municipality(code)
            .cloned()
            .ok_or_else(|| AppError::not_found("municipality", code))
    }

    /// Write the reference data into the database; rows already equal are left alone.
    /// Returns the number of rows inserted or changed.
    pub fn sync(&self, conn: &mut DbConn) -> AppResult<usize> {
        let mut changed = 0;
        let existing: HashMap<String, String> = provinces::table
            .select((provinces::code, provinces::name))
            .load::<(String, String)>(conn)?
            .into_iter()
            .collect();
        for p in &self.provinces {
            let row = ProvinceRow {
                code: p.code.clone(),
                name: p.name.clone(),
            };
            match existing.get(&p.code) {
                Some(name) if *name == p.name => {}
                Some(_) => {
                    changed += diesel::update(provinces::table.find(&p.code))
                        .set(&row)
                        .execute(conn)?;
                }
                None => {
                    changed += diesel::insert_into(provinces::table)
                        .values(&row)
                        .execute(conn)?;
                }
            }
        }
        let existing: HashMap<(i32, String), MunicipalityRow> = municipalities::table
            .load::<MunicipalityRow>(conn)?
            .into_iter()
            .map(|r| ((r.year, r.code.clone()), r))
            .collect();
        let mut inserts = Vec::new();
        for m in &self.municipalities {
            let row = MunicipalityRow {
                year: m.year,
                code: m.code.clone(),
                name: m.name.clone(),
                province_code: m.province.clone(),
                population: m.population,
                size_class: m.size_class.as_str().to_owned(),
            };
            match existing.get(&(m.year, m.code.clone())) {
                Some(old)
                    if old.name == row.name
                        && old.province_code == row.province_code
                        && old.population == row.population
                        && old.size_class == row.size_class => {}
                Some(_) => {
                    changed += diesel::update(municipalities::table.find((m.year, &m.code)))
                        .set(&row)
                        .execute(conn)?;
                }
                None => inserts.push(row),
            }
        }
        for chunk in inserts.chunks(500) {
            changed += crate::with_conn!(conn, |c| diesel::insert_into(municipalities::table)
                .values(chunk)
                .execute(c))?;
        }
        Ok(changed)
    }

    /// Read the reference data back from the database.
    pub fn load(conn: &mut DbConn) -> AppResult<Reference> {
        let provinces = provinces::table
            .order(provinces::code)
            .load::<ProvinceRow>(conn)?
            .into_iter()
            .map(|r| Province {
                code: r.code,
                name: r.name,
            })
            .collect();
        let municipalities = municipalities::table
            .order((municipalities::year, municipalities::code))
            .load::<MunicipalityRow>(conn)?
            .into_iter()
            .map(|r| {
                Ok(Municipality {
                    size_class: SizeClass::parse(&r.size_class).ok_or_else(|| {
                        AppError::internal(format!("bad size class {}", r.size_class))
                    })?,
                    code: r.code,
                    name: r.name,
                    province: r.province_code,
                    population: r.population,
                    year: r.year,
                })
            })
            .collect::<AppResult<Vec<_>>>()?;
        Ok(Reference::new(provinces, municipalities))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_reference_data_is_complete_and_consistent() {
        let r = Reference::builtin().expect("reference data parses");
        assert_eq!(r.year, 2024);
        assert_eq!(r.provinces.len(), 12);
        // CBS: 342 municipalities on 1 January 2024.
        assert_eq!(r.list(None, None).unwrap().len(), 342);
        let ams = r.municipality("GM0363").unwrap();
        assert_eq!(ams.name, "Amsterdam");
        assert_eq!(ams.province, "PV27");
        assert_eq!(ams.size_class, SizeClass::Groot);
        assert_eq!(
            r.municipality("gm0088").unwrap().size_class,
            SizeClass::Klein
        );
        assert!(r.check().is_empty());
    }

    #[test]
    fn size_class_boundaries() {
        assert_eq!(SizeClass::of_population(49_999), SizeClass::Klein);
        assert_eq!(SizeClass::of_population(50_000), SizeClass::Middelgroot);
        assert_eq!(SizeClass::of_population(100_000), SizeClass::Middelgroot);
        assert_eq!(SizeClass::of_population(100_001), SizeClass::Groot);
    }
}
