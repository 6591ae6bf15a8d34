//! Free text (notes, reasons, names): bounded, without control characters, and without
//! personal data ([`personal`]). Every domain that takes free text checks it here.

pub mod personal;

use crate::error::{FieldIssue, IssueSink};

/// Check free text: length, control characters, personal data.
pub fn check_text(
    text: &str,
    max_chars: usize,
    issue: impl Fn(&str, String) -> FieldIssue,
    issues: &mut impl IssueSink,
) {
    if text.chars().count() > max_chars {
        issues.add(issue(
            "too_long",
            format!("maximaal {max_chars} tekens / at most {max_chars} characters"),
        ));
    }
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        issues.add(issue(
            "invalid_text",
            "de tekst bevat stuurtekens / the text contains control characters".to_owned(),
        ));
    }
    check_personal(text, issue, issues);
}

/// Refuse personal data in any free text (notes, reasons, names): code `personal_data`. The
/// message says what kind was found, never what.
pub fn check_personal(
    text: &str,
    issue: impl Fn(&str, String) -> FieldIssue,
    issues: &mut impl IssueSink,
) {
    if let Some(what) = personal::detect(text) {
        issues.add(issue(
            "personal_data",
            format!(
                "de tekst lijkt {what} te bevatten; geen persoonsgegevens in vrije tekst / \
                 the text seems to contain personal data, which is not allowed"
            ),
        ));
    }
}
