//! Refusing personal data in free text. Figures are aggregate; notes are for context, not
//! cases. This catches what can be caught mechanically: citizen service numbers (BSN: nine
//! digits passing the 11-test), e-mail addresses, phone numbers, IBANs and dates of birth.
//! It never echoes what it found.

/// What kind of personal data a text seems to hold, if any.
pub fn detect(text: &str) -> Option<&'static str> {
    if has_bsn(text) {
        return Some("een BSN (burgerservicenummer) / a citizen service number");
    }
    if has_email(text) {
        return Some("een e-mailadres / an e-mail address");
    }
    if has_phone(text) {
        return Some("een telefoonnummer / a phone number");
    }
    if has_iban(text) {
        return Some("een IBAN-rekeningnummer / a bank account number");
    }
    if has_birth_date(text) {
        return Some("een geboortedatum / a date of birth");
    }
    None
}

/// Runs of digits, allowing single separators (space, dot, dash) between digit groups.
fn digit_runs(text: &str) -> Vec<(usize, String)> {
    let chars: Vec<char> = text.chars().collect();
    let mut runs = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        let mut digits = String::new();
        while i < chars.len() {
            if chars[i].is_ascii_digit() {
                digits.push(chars[i]);
                i += 1;
            } else if matches!(chars[i], ' ' | '.' | '-')
                && i + 1 < chars.len()
                && chars[i + 1].is_ascii_digit()
                && i > start
            {
                i += 1;
            } else {
                break;
            }
        }
        runs.push((start, digits));
    }
    runs
}

/// The 11-test (elfproef) for a nine-digit BSN.
pub fn is_bsn(digits: &str) -> bool {
    if digits.len() != 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let d: Vec<i64> = digits.bytes().map(|b| (b - b'0') as i64).collect();
    if d.iter().all(|&x| x == 0) {
        return false;
    }
    let sum: i64 = (0..8).map(|i| d[i] * (9 - i as i64)).sum::<i64>() - d[8];
    sum % 11 == 0
}

fn has_bsn(text: &str) -> bool {
    digit_runs(text).iter().any(|(_, d)| is_bsn(d))
}

fn has_email(text: &str) -> bool {
    text.split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '(' | ')' | '<' | '>'))
        .any(|w| {
            let Some((local, domain)) = w.split_once('@') else {
                return false;
            };
            !local.is_empty()
                && domain.contains('.')
                && domain
                    .rsplit('.')
                    .next()
                    .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(char::is_alphabetic))
        })
}

fn has_phone(text: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();
    digit_runs(text).iter().any(|(start, d)| {
        let plus = *start > 0 && chars[*start - 1] == '+';
        (d.len() == 10 && d.starts_with('0') && !d.starts_with("00"))
            || (plus && d.len() == 11 && d.starts_with("31"))
            || (d.len() == 13 && d.starts_with("0031"))
    })
}

fn has_iban(text: &str) -> bool {
    // ASCII letters and digits only, so byte offsets are character offsets.
    let compact: String = text
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_uppercase();
    let bytes = compact.as_bytes();
    (0..bytes.len().saturating_sub(17)).any(|i| {
        let cand = &compact[i..i + 18];
        cand.starts_with("NL")
            && cand[2..4].bytes().all(|b| b.is_ascii_digit())
            && cand[4..8].bytes().all(|b| b.is_ascii_uppercase())
            && cand[8..].bytes().all(|b| b.is_ascii_digit())
            && iban_checksum_ok(cand)
    })
}

fn iban_checksum_ok(iban: &str) -> bool {
    let rearranged = format!("{}{}", &iban[4..], &iban[..4]);
    let mut rem: u64 = 0;
    for c in rearranged.chars() {
        let v = if c.is_ascii_digit() {
            c.to_digit(10).unwrap_or(0) as u64
        } else {
            c as u64 - 'A' as u64 + 10
        };
        let digits = if v >= 10 { 100 } else { 10 };
        rem = (rem * digits + v) % 97;
    }
    rem == 1
}

fn has_birth_date(text: &str) -> bool {
    let lower = text.to_lowercase();
    [
        "geboren",
        "geboortedatum",
        "geb.",
        "date of birth",
        "born on",
        "d.o.b",
    ]
    .iter()
    .any(|kw| {
        lower.match_indices(kw).any(|(i, _)| {
            let after: String = lower[i + kw.len()..].chars().take(24).collect();
            digit_runs(&after).iter().any(|(_, d)| d.len() >= 6)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_bsns_by_the_eleven_test() {
        // 111222333 passes the 11-test; 123456789 does not.
        assert!(is_bsn("111222333"));
        assert!(!is_bsn("123456789"));
        assert!(detect("cliënt 111222333 kreeg hulp").is_some());
        assert!(detect("BSN 111.222.333").is_some());
        assert!(detect("111 22 2333").is_some());
        assert!(detect("we bereikten 123456789 mensen").is_none());
        assert!(detect("In 2021 hielpen we 1.234 gezinnen, 56% zelfmelders").is_none());
    }

    #[test]
    fn finds_contact_details_and_birth_dates() {
        assert!(detect("mail j.jansen@example.nl").is_some());
        assert!(detect("bel 06-12345678").is_some());
        assert!(detect("tel +31 6 12345678").is_some());
        assert!(detect("rekening NL91 ABNA 0417 1643 00").is_some());
        assert!(detect("geboren 12-03-1985").is_some());
        assert!(detect("Wachttijd daalde van 42 naar 30 dagen (2020-2021).").is_none());
        assert!(detect("Zie www.buurtteamsutrecht.nl").is_none());
        // Multi-byte text never trips the scanners.
        assert!(detect("\u{ee2a}OA\u{d4}\u{1ad7b}é€ NL91 ÄBNA").is_none());
        assert!(detect(&"ĳ".repeat(40)).is_none());
    }
}
