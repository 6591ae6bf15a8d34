//! Spreadsheets: what a data officer who lives in Excel (Dutch locale) needs.
//!
//! - [`read`]: `.xlsx` uploads of figures, in the same layout as the CSV upload, read into the
//!   same raw submission (so the same validation applies), with every problem at its sheet, row,
//!   column and cell. Bounded before anything is inflated (zip bombs).
//! - [`export`]: every view as a workbook: a data sheet with typed numbers, the indicator's
//!   definition, and a legend with the suppression codes, the source and the data version.
//! - [`template`]: per team type a template to fill in (`.xlsx`, or CSV in the `excel-nl`
//!   dialect) listing the indicators that apply, which posts back as it is.
//!
//! Numbers written as text are read per file ([`crate::submissions::numbers`]); the CSV
//! renderings of the views and their dialects are in [`crate::views::csv`].
//!
//! Spreadsheets are REST only: GraphQL takes JSON input and CSV text (`postSubmissionCsv`), and
//! answers JSON.

pub mod export;
pub mod read;
pub mod template;

/// The media type of `.xlsx` workbooks.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
