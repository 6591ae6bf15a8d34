//! Passwords people choose: long enough, not common, hashed with argon2id.
//!
//! The rules follow NIST SP 800-63B §5.1.1.2 rather than composition rules: a minimum length
//! (12 characters, counted as Unicode characters after NFC), no maximum below 256, every
//! character allowed (spaces too: passphrases are welcome), and a refusal of passwords found in
//! a list of common ones (`data/passwords/common.txt`, see its SOURCES.md): as typed, lower
//! case, and once more after stripping leading and trailing digits and symbols and undoing the
//! usual letter substitutions, so `Welkom2024!`, `P@ssw0rd123456` and `Vakantie2025!` go the
//! way of `welkom` and `password`. A password holding the account's e-mail name, or made of one
//! repeated character or a straight keyboard or digit run, is refused too.

use std::collections::HashSet;
use std::sync::OnceLock;

use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use unicode_normalization::UnicodeNormalization;

use crate::error::{AppError, AppResult, FieldIssue};

/// Fewest characters a password may have.
pub const MIN_CHARS: usize = 12;
/// Most characters a password may have (hashing cost stays bounded).
pub const MAX_CHARS: usize = 256;

static COMMON_TEXT: &str = include_str!("../../data/passwords/common.txt");

fn common() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| {
        COMMON_TEXT
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect()
    })
}

/// The hasher: argon2id, version 0x13, 19 MiB, 2 passes, 1 lane (OWASP's first argon2id
/// configuration).
fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The password as it is compared and hashed: Unicode NFC, so the same characters typed on
/// another keyboard give the same password.
fn normalised(password: &str) -> String {
    password.nfc().collect()
}

/// Undo the usual letter substitutions.
fn unleet(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '0' => 'o',
            '1' | '!' | '|' => 'i',
            '3' => 'e',
            '4' | '@' => 'a',
            '5' | '$' => 's',
            '7' | '+' => 't',
            '8' => 'b',
            '9' => 'g',
            c => c,
        })
        .collect()
}

/// The word inside: without leading and trailing digits, symbols and spaces.
fn core(s: &str) -> &str {
    s.trim_matches(|c: char| !c.is_alphabetic())
}

/// One character repeated, or a run such as `123456789012`, `abcdefghijkl` or `qwertyuiop`.
fn trivial(s: &str) -> bool {
    let chars: Vec<char> = s.chars().collect();
    if chars.iter().all(|c| *c == chars[0]) {
        return true;
    }
    let distinct: HashSet<char> = chars.iter().copied().collect();
    if distinct.len() <= 3 {
        return true;
    }
    const RUNS: [&str; 5] = [
        "01234567890123456789",
        "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz",
        "qwertyuiopasdfghjklzxcvbnmqwertyuiop",
        "azertyuiopqsdfghjklmwxcvbnazertyuiop",
        "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
    ];
    RUNS.iter()
        .any(|run| run.contains(s) || run.chars().rev().collect::<String>().contains(s))
}

/// Check a new password for the account with this e-mail address: every problem, with field
/// `password` and a stable code (`too_short`, `too_long`, `common_password`,
/// `contains_email`, `trivial_password`).
pub fn check(password: &str, email: &str) -> Vec<FieldIssue> {
    let issue = |code: &str, msg: String| FieldIssue::new("password", code, msg);
    let pw = normalised(password);
    let n = pw.chars().count();
    let mut issues = Vec::new();
    if n < MIN_CHARS {
        issues.push(issue(
            "too_short",
            format!(
                "minstens {MIN_CHARS} tekens (een zin van een paar woorden is prima) / at least \
                 {MIN_CHARS} characters (a phrase of a few words is fine)"
            ),
        ));
    }
    if n > MAX_CHARS {
        issues.push(issue(
            "too_long",
            format!("hoogstens {MAX_CHARS} tekens / at most {MAX_CHARS} characters"),
        ));
    }
    if !issues.is_empty() {
        return issues;
    }
    let lower = pw.to_lowercase();
    let compact: String = lower.chars().filter(|c| !c.is_whitespace()).collect();
    let list = common();
    let unleeted = unleet(&compact);
    let candidates = [
        lower.as_str(),
        compact.as_str(),
        core(&lower),
        core(&compact),
        unleeted.as_str(),
        core(&unleeted),
    ];
    let doubled = |s: &str| {
        let half = s.len() / 2;
        s.len().is_multiple_of(2) && s.is_char_boundary(half) && s[..half] == s[half..]
    };
    if candidates.iter().any(|c| {
        !c.is_empty()
            && (list.contains(c)
                || (doubled(c) && list.contains(&c[..c.len() / 2]))
                || list.contains(core(&unleet(c))))
    }) {
        issues.push(issue(
            "common_password",
            "dit wachtwoord (of het woord erin) staat op de lijst van veelgebruikte wachtwoorden / \
             this password (or the word in it) is on the list of common passwords"
                .to_owned(),
        ));
    }
    let local = email.split('@').next().unwrap_or("").to_lowercase();
    if local.chars().count() >= 4 && compact.contains(&local) {
        issues.push(issue(
            "contains_email",
            "het wachtwoord bevat je e-mailnaam / the password contains your e-mail name"
                .to_owned(),
        ));
    }
    if trivial(&compact) {
        issues.push(issue(
            "trivial_password",
            "een herhaald teken of een reeks op het toetsenbord / one repeated character or a \
             keyboard run"
                .to_owned(),
        ));
    }
    issues
}

/// A new password that passed [`check`], hashed: the only form in which a password reaches
/// the database (no transport can store one that skipped the rules).
#[derive(Debug, Clone)]
pub struct NewPassword(String);

impl NewPassword {
    /// Check `password` for the account `email` ([`check`]; 422 naming the field `password`
    /// with every problem), then hash it. Slow on purpose (argon2id): run it off the async
    /// workers and without holding a database connection.
    pub fn prepare(password: &str, email: &str) -> AppResult<NewPassword> {
        let issues = check(password, email);
        if !issues.is_empty() {
            return Err(AppError::Validation(issues.into()));
        }
        Ok(NewPassword(hash(password)?))
    }

    pub(crate) fn hash(&self) -> &str {
        &self.0
    }
}

/// The argon2id hash (PHC string) of a password.
pub fn hash(password: &str) -> AppResult<String> {
    let salt = crate::auth::keys::random_bytes(16);
    argon2()
        .hash_password_with_salt(normalised(password).as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::internal(format!("hashing password: {e}")))
}

/// Whether `password` matches `hash` (any argon2 variant the PHC string names).
pub fn verify(password: &str, hash: &str) -> bool {
    argon2()
        .verify_password(normalised(password).as_bytes(), hash)
        .is_ok()
}

/// A valid hash of a random password, so an unknown account costs the same time to refuse.
pub fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        hash(&crate::auth::base64_url(&crate::auth::keys::random_bytes(
            24,
        )))
        .expect("hash")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(pw: &str) -> Vec<String> {
        check(pw, "j.de.vries@buurtteam.nl")
            .into_iter()
            .map(|i| i.code)
            .collect()
    }

    #[test]
    fn long_uncommon_passwords_and_phrases_pass() {
        assert!(codes("paars konijn eet 3 wortels").is_empty());
        assert!(codes("Gx7#kq2!Lm9@vB").is_empty());
        assert!(codes("fiets-brug-haring-tulp").is_empty());
    }

    #[test]
    fn short_common_and_trivial_passwords_are_refused() {
        assert_eq!(codes("kort"), ["too_short"]);
        assert_eq!(codes(&"x".repeat(257)), ["too_long"]);
        assert!(codes("password1234").contains(&"common_password".to_owned()));
        assert!(codes("Welkom2024!!!").contains(&"common_password".to_owned()));
        assert!(codes("P@ssw0rd123456").contains(&"common_password".to_owned()));
        assert!(codes("wachtwoordwachtwoord").contains(&"common_password".to_owned()));
        assert!(codes("Vakantie2025!").contains(&"common_password".to_owned()));
        assert!(codes("Basisset2026!").contains(&"common_password".to_owned()));
        assert!(codes("123456789012").contains(&"trivial_password".to_owned()));
        assert!(codes("aaaaaaaaaaaaaa").contains(&"trivial_password".to_owned()));
        assert!(codes("qwertyuiopas").contains(&"trivial_password".to_owned()));
        assert!(codes("ababababababab").contains(&"trivial_password".to_owned()));
        assert!(codes("devries-j.de.vries-2026").contains(&"contains_email".to_owned()));
    }

    #[test]
    fn the_same_characters_in_another_normal_form_verify() {
        let composed = "café-op-de-hoek-2026";
        let decomposed = "cafe\u{301}-op-de-hoek-2026";
        let h = hash(composed).unwrap();
        assert!(verify(decomposed, &h));
        assert!(!verify("cafe-op-de-hoek-2026", &h));
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
    }
}
