//! The registry: reference data (provinces, municipalities) and wijkteam organisations.

pub mod organisations;
pub mod reference;

pub use organisations::{OrgSizeClass, Organisation, ProvidesHelpSource};
pub use reference::{Municipality, Province, Reference, SizeClass};

crate::text_enum! {
    /// What a wijkteam is for.
    pub enum TeamType {
        /// Adult support under the Wmo.
        Wmo = "wmo",
        /// Youth and family (Jeugdwet).
        Jeugd = "jeugd",
        /// All ages, all questions.
        Integraal = "integraal",
    }
}

crate::text_enum! {
    /// Legal or organisational form of a wijkteam organisation.
    pub enum OrgForm {
        Stichting = "stichting",
        Cooperatie = "cooperatie",
        /// (Public) BV.
        Bv = "bv",
        /// Part of the municipality itself.
        Gemeentelijk = "gemeentelijk",
        /// A network of organisations.
        Netwerk = "netwerk",
        /// A provider acting as main contractor.
        Hoofdaannemer = "hoofdaannemer",
    }
}
