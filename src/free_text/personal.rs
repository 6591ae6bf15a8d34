//! Refusing personal data in free text. Figures are aggregate; notes, reasons and names are for
//! context, not cases. This catches what can be caught mechanically, and never echoes what it
//! found.
//!
//! **Normalisation first.** The text is read after Unicode NFKC (full-width digits and `＠`, the
//! math and circled forms), with every default-ignorable character removed (zero-width space
//! and joiners, word joiner, byte order mark, soft hyphen, bidi controls, variation selectors,
//! tags), every decimal digit of any script (General_Category Nd: Arabic-Indic, Devanagari,
//! Bengali, ...) read as its ASCII digit, and the look-alike dashes, slashes, dots and spaces
//! read as `-`, `/`, `.` and a space. Then:
//!
//! - **Numbers** are runs of digit groups joined by one separator (space, `.`, `-`, `/`, `_`,
//!   `\`, `|`, `,`, `:`, a parenthesis, or ` - ` / ` / ` with spaces). Any consecutive groups
//!   of such a run are a candidate; a candidate next to a currency sign or word (`€`, `EUR`,
//!   `euro`) or followed by `%` is an amount and never a number of a person.
//! - **BSN** (burgerservicenummer): nine digits, written with one kind of separator throughout
//!   (`111222333`, `111.222.333`, `1112.22.333`, `111 22 2333`, `111/222/333`), passing the
//!   11-test. BSNs are nine digits; old SoFi numbers are sometimes written without their leading
//!   zero, so eight digits are taken as `0` + eight only right after a word such as `BSN` or
//!   `sofinummer` (otherwise every eleventh KvK number, also eight digits, would be refused).
//!   An RSIN (an organisation's fiscal number) has the same form and is refused too.
//! - **IBAN** of every country in the SWIFT IBAN registry: country code, two check digits and the
//!   BBAN, with or without separators, of exactly the country's length and BBAN structure, and
//!   passing the ISO 7064 mod-97 check.
//! - **E-mail addresses**, also `jan [at] example [dot] nl`, `jan(at)example(dot)nl`,
//!   `jan{at}example.nl` and `jan at example dot nl` (the plain words only together, so "at" and
//!   "punt" in ordinary text stay fine).
//! - **Phone numbers**: Dutch numbers of ten digits starting with `0` in any grouping
//!   (`06-12345678`, `(06) 12 34 56 78`, `020 - 123 45 67`), and international numbers after `+`
//!   or `00` with 8 to 15 digits (`+31 (0)6 12345678`, `0031 6 12345678`, `+32 2 123 45 67`).
//! - **Dates of birth**: full dates `dd-mm-yyyy`, `d/m/yyyy`, `dd.mm.yyyy`, `dd mm yyyy`,
//!   `yyyy-mm-dd` (also `mm/dd/yyyy`), and with a Dutch or English month name (`12 maart 1985`,
//!   `12 mrt. 1985`, `March 12, 1985`, `12th of March 1985`). Notes legitimately hold
//!   reporting dates (`per 1 januari 2023`, `vanaf 01-07-2024`), so a full date counts as a
//!   date of birth when its year is between 1900 and the current year minus 12: reporting
//!   dates are recent, and a person of 12 or older was born at least 12 years ago. With a word
//!   such as `geboren`, `geb.`, `geboortedatum`, `DOB` or `born` near it, any full date up to
//!   today counts, as do `dd-mm-yy` and eight digits in a row (`geb. 12031985`). The price: a
//!   reporting date more than 12 years back must be written without its day (`januari 2014`,
//!   `sinds 2014`), and a young child's birth date without such a word passes.
//!
//! Known limits: a bare list of numbers with nothing but spaces between them (`2017 589 45`)
//! forms nine digits that pass the 11-test one time in eleven, and is refused; names, addresses
//! and postcodes are not recognised; digits of scripts added after Unicode 16 are not read.

use chrono::{Datelike, NaiveDate};
use unicode_normalization::UnicodeNormalization;

const IBAN: &str = "een IBAN-rekeningnummer / a bank account number";

/// What kind of personal data a text seems to hold, if any.
pub fn detect(text: &str) -> Option<&'static str> {
    detect_as_of(text, chrono::Utc::now().year())
}

/// [`detect`] as if the current year were `current_year` (dates of birth depend on it).
pub fn detect_as_of(text: &str, current_year: i32) -> Option<&'static str> {
    if text.trim().is_empty() {
        return None;
    }
    let t = Text::new(text);
    if has_iban(&t) {
        return Some(IBAN);
    }
    if has_email(&t) {
        return Some("een e-mailadres / an e-mail address");
    }
    if has_phone(&t) {
        return Some("een telefoonnummer / a phone number");
    }
    if has_bsn(&t) {
        return Some("een BSN (burgerservicenummer) / a citizen service number");
    }
    if has_birth_date(&t, current_year) {
        return Some("een geboortedatum / a date of birth");
    }
    None
}

// ---------------------------------------------------------------------------------------------
// Normalisation

/// The first code point of every run of ten decimal digits (General_Category Nd), Unicode 16.0.
/// Nd digits are always assigned in such runs, 0 to 9 (a Unicode stability policy).
const DIGIT_ZEROS: [u32; 76] = [
    0x30, 0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66,
    0xDE6, 0xE50, 0xED0, 0xF20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90,
    0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10,
    0x104A0, 0x10D30, 0x10D40, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0,
    0x11650, 0x116C0, 0x116D0, 0x116DA, 0x11730, 0x118E0, 0x11950, 0x11BF0, 0x11C50, 0x11D50,
    0x11DA0, 0x11F50, 0x16130, 0x16A60, 0x16AC0, 0x16B50, 0x16D70, 0x1CCF0, 0x1D7CE, 0x1D7D8,
    0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E4F0, 0x1E5F1, 0x1E950, 0x1FBF0,
];

/// The value of a decimal digit of any script.
fn decimal_digit(c: char) -> Option<u8> {
    let cp = c as u32;
    let i = DIGIT_ZEROS.partition_point(|&z| z <= cp).checked_sub(1)?;
    let offset = cp - DIGIT_ZEROS[i];
    (offset < 10).then_some(offset as u8)
}

/// Default_Ignorable_Code_Point (DerivedCoreProperties.txt): invisible, so never a separator
/// a reader sees. Zero-width space and joiners, soft hyphen, word joiner, BOM, bidi controls,
/// variation selectors, Hangul fillers, tags.
fn is_ignorable(c: char) -> bool {
    matches!(c as u32,
        0x00AD | 0x034F | 0x061C | 0x115F..=0x1160 | 0x17B4..=0x17B5 | 0x180B..=0x180F
        | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x206F | 0x3164 | 0xFE00..=0xFE0F
        | 0xFEFF | 0xFFA0 | 0xFFF0..=0xFFF8 | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A
        | 0xE0000..=0xE0FFF)
}

/// One character after NFKC: digits to ASCII, look-alike punctuation to its ASCII form.
fn fold(c: char) -> char {
    if c.is_ascii() {
        return if c == '\t' { ' ' } else { c };
    }
    if let Some(d) = decimal_digit(c) {
        return char::from(b'0' + d);
    }
    match c {
        '\u{2010}'..='\u{2015}'
        | '\u{2212}'
        | '\u{2043}'
        | '\u{2E3A}'
        | '\u{2E3B}'
        | '\u{058A}'
        | '\u{05BE}'
        | '\u{1806}'
        | '\u{2E17}'
        | '\u{301C}'
        | '\u{FE58}'
        | '\u{FE63}' => '-',
        '\u{2044}' | '\u{2215}' | '\u{29F8}' | '\u{2571}' => '/',
        '\u{29F5}' | '\u{29F9}' | '\u{2216}' => '\\',
        '\u{00B7}' | '\u{2027}' | '\u{2219}' | '\u{22C5}' | '\u{30FB}' | '\u{3002}'
        | '\u{066B}' => '.',
        '\u{060C}' | '\u{3001}' | '\u{066C}' | '\u{201A}' => ',',
        '\u{2236}' => ':',
        '\u{2223}' | '\u{01C0}' | '\u{2758}' => '|',
        '\u{2795}' => '+',
        '\u{2018}' | '\u{2019}' | '\u{02BC}' => '\'',
        // Line and paragraph separators end a line, like a newline.
        '\u{2028}' | '\u{2029}' | '\u{0085}' => '\n',
        c if c.is_whitespace() => ' ',
        c => c,
    }
}

/// The text as the scanners read it.
pub fn normalise(text: &str) -> String {
    text.chars()
        .filter(|c| !is_ignorable(*c))
        .nfkc()
        .filter(|c| !is_ignorable(*c))
        .map(fold)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Digit groups and numbers

/// How two digit groups are joined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Join {
    /// A space or a parenthesis (`06 1234`, `(06)1234`, `(06) 1234`, `+31 (0)6`).
    Space,
    /// One separator character, possibly with a space on either side (` - `, ` / `).
    Sep(char),
}

#[derive(Debug, Clone)]
struct Gap {
    join: Join,
    /// The separator exactly as written, for dates (`12-03-1985`, not `12 - 03-1985`).
    raw: String,
}

/// A maximal run of digit groups joined by single separators.
#[derive(Debug)]
struct Chain {
    /// Character ranges of the digit groups.
    groups: Vec<(usize, usize)>,
    /// `gaps[i]` joins `groups[i]` and `groups[i + 1]`.
    gaps: Vec<Gap>,
    /// A `+` right before the first group.
    plus: bool,
}

/// Separators that join digit groups on their own.
const SEPARATORS: &str = " .-/_\\|,:()";

fn join_of(gap: &[char]) -> Option<Join> {
    let as_join = |c: char| {
        if matches!(c, ' ' | '(' | ')') {
            Join::Space
        } else {
            Join::Sep(c)
        }
    };
    match gap {
        [c] if SEPARATORS.contains(*c) => Some(as_join(*c)),
        // One spaced separator: ` - `, `- `, ` / `, `) `, ` (`. Not `. ` or `, ` or `: `, which
        // end a sentence or a list item.
        [' ', c] | [c, ' '] | [' ', c, ' '] if matches!(c, '-' | '/' | '|' | '(' | ')') => {
            Some(as_join(*c))
        }
        _ => None,
    }
}

/// The normalised text with its digit chains.
struct Text {
    chars: Vec<char>,
    /// `chars`, lower-cased one to one.
    lower: Vec<char>,
    chains: Vec<Chain>,
}

impl Text {
    fn new(text: &str) -> Text {
        let chars: Vec<char> = normalise(text).chars().collect();
        let lower: Vec<char> = chars
            .iter()
            .map(|c| c.to_lowercase().next().unwrap_or(*c))
            .collect();
        let mut groups: Vec<(usize, usize)> = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            if chars[i].is_ascii_digit() {
                let start = i;
                while i < chars.len() && chars[i].is_ascii_digit() {
                    i += 1;
                }
                groups.push((start, i));
            } else {
                i += 1;
            }
        }
        let mut chains: Vec<Chain> = Vec::new();
        for (k, g) in groups.iter().enumerate() {
            let join = k.checked_sub(1).and_then(|p| {
                let prev = groups[p];
                let gap = &chars[prev.1..g.0];
                join_of(gap).map(|join| Gap {
                    join,
                    raw: gap.iter().collect(),
                })
            });
            match join {
                Some(gap) => {
                    let chain = chains.last_mut().expect("a chain");
                    chain.gaps.push(gap);
                    chain.groups.push(*g);
                }
                None => chains.push(Chain {
                    groups: vec![*g],
                    gaps: Vec::new(),
                    plus: g.0 > 0 && chars[g.0 - 1] == '+',
                }),
            }
        }
        Text {
            chars,
            lower,
            chains,
        }
    }

    fn digits(&self, chain: &Chain, a: usize, b: usize) -> String {
        chain.groups[a..=b]
            .iter()
            .flat_map(|&(s, e)| self.chars[s..e].iter())
            .collect()
    }

    fn group(&self, g: (usize, usize)) -> &[char] {
        &self.chars[g.0..g.1]
    }

    /// Whether one of `words` starts within `before` characters before `start` or `after`
    /// characters after `end`, at the start of a word (and, for `exact` words, ending one).
    fn word_near(
        &self,
        start: usize,
        end: usize,
        before: usize,
        after: usize,
        words: &[(&str, bool)],
    ) -> bool {
        let text = &self.lower;
        let from = start.saturating_sub(before);
        let to = (end + after).min(text.len());
        words.iter().any(|(word, exact)| {
            let w: Vec<char> = word.chars().collect();
            (from..to).any(|i| {
                text[i..].starts_with(&w)
                    && (i == 0 || !text[i - 1].is_alphanumeric())
                    && (!exact || text.get(i + w.len()).is_none_or(|c| !c.is_alphanumeric()))
            })
        })
    }

    /// A currency or percentage next to the chain: an amount, not a person's number.
    fn is_amount(&self, chain: &Chain) -> bool {
        let (start, _) = chain.groups[0];
        let (_, end) = *chain.groups.last().expect("a group");
        // Before: `€ 12`, `€-12`, `EUR 12`, `euro 12`.
        let mut i = start;
        while i > 0 && matches!(self.chars[i - 1], ' ' | '-' | '+') && start - i < 3 {
            i -= 1;
        }
        if i > 0 && matches!(self.chars[i - 1], '€' | '$' | '£' | '¥') {
            return true;
        }
        let word_end = i;
        while i > 0 && self.lower[i - 1].is_alphabetic() {
            i -= 1;
        }
        let before: String = self.lower[i..word_end].iter().collect();
        if matches!(before.as_str(), "eur" | "euro" | "euros") {
            return true;
        }
        // After: `12%`, `12 %`, `12 euro`, `12 procent`.
        let mut j = end;
        while j < self.chars.len() && self.chars[j] == ' ' && j - end < 2 {
            j += 1;
        }
        if self
            .chars
            .get(j)
            .is_some_and(|c| matches!(c, '%' | '‰' | '€'))
        {
            return true;
        }
        let word_start = j;
        while j < self.lower.len() && self.lower[j].is_alphabetic() {
            j += 1;
        }
        let after: String = self.lower[word_start..j].iter().collect();
        matches!(
            after.as_str(),
            "eur" | "euro" | "euros" | "procent" | "percent" | "pct"
        )
    }
}

/// Consecutive groups `a..=b` of a chain with at most `max` digits, shortest first.
fn windows(chain: &Chain, max: usize) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
    (0..chain.groups.len()).flat_map(move |a| {
        let mut total = 0;
        chain.groups[a..]
            .iter()
            .enumerate()
            .map_while(move |(k, &(s, e))| {
                total += e - s;
                (total <= max).then_some((a, a + k, total))
            })
    })
}

/// Whether the groups `a..=b` are joined by one kind of separator throughout.
fn uniform(chain: &Chain, a: usize, b: usize) -> bool {
    chain.gaps[a..b].windows(2).all(|w| w[0].join == w[1].join)
}

/// Like [`uniform`], but the first separator may differ: a phone number's area code
/// (`020 - 123 45 67`, `(06) 12 34 56 78`).
fn uniform_after_first(chain: &Chain, a: usize, b: usize) -> bool {
    b <= a + 1 || uniform(chain, a + 1, b)
}

/// `1.234.567` or `12,345`: thousands separators, a quantity.
fn thousands(chain: &Chain, a: usize, b: usize) -> bool {
    b > a
        && (1..=3).contains(&(chain.groups[a].1 - chain.groups[a].0))
        && chain.groups[a + 1..=b].iter().all(|g| g.1 - g.0 == 3)
        && uniform(chain, a, b)
        && matches!(chain.gaps[a].join, Join::Sep('.') | Join::Sep(','))
        && chain.gaps[a].raw.len() == 1
}

// ---------------------------------------------------------------------------------------------
// BSN

/// Words after which eight digits are read as a BSN without its leading zero.
const BSN_WORDS: [(&str, bool); 6] = [
    ("bsn", true),
    ("burgerservicenummer", false),
    ("sofi", false),
    ("citizen service number", false),
    ("social security", false),
    ("persoonsnummer", false),
];

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

fn has_bsn(t: &Text) -> bool {
    t.chains.iter().filter(|c| !t.is_amount(c)).any(|chain| {
        windows(chain, 9).any(|(a, b, n)| {
            if !uniform(chain, a, b) {
                return false;
            }
            match n {
                9 => is_bsn(&t.digits(chain, a, b)),
                8 => {
                    let start = chain.groups[a].0;
                    t.word_near(start, start, 30, 0, &BSN_WORDS)
                        && is_bsn(&format!("0{}", t.digits(chain, a, b)))
                }
                _ => false,
            }
        })
    })
}

// ---------------------------------------------------------------------------------------------
// Phone numbers

fn has_phone(t: &Text) -> bool {
    t.chains.iter().filter(|c| !t.is_amount(c)).any(|chain| {
        windows(chain, 17).any(|(a, b, n)| {
            if n < 8 || !uniform_after_first(chain, a, b) {
                return false;
            }
            let d = t.digits(chain, a, b);
            let d = d.as_bytes();
            // `0,5` or `0.25`: a fraction.
            let fraction = t.group(chain.groups[a]) == ['0']
                && b > a
                && matches!(chain.gaps[a].join, Join::Sep('.') | Join::Sep(','));
            let national = n == 10 && d[0] == b'0' && d[1] != b'0' && !fraction;
            let plus = a == 0 && chain.plus && (8..=15).contains(&n) && !thousands(chain, a, b);
            let double_zero = n >= 10 && d[0] == b'0' && d[1] == b'0' && d[2] != b'0';
            national || plus || double_zero
        })
    })
}

// ---------------------------------------------------------------------------------------------
// IBAN

/// Every country of the IBAN registry: IBAN length and BBAN structure (`n` digits, `a` capital
/// letters, `c` letters or digits). Source: SWIFT, "IBAN Registry", release 100 (January 2025),
/// https://www.swift.com/standards/data-standards/iban-international-bank-account-number;
/// followed by the territories that registry lists under FI, FR and GB, with their structure.
const IBAN_COUNTRIES: [(&str, usize, &str); 105] = [
    ("AD", 24, "4n4n12c"),
    ("AE", 23, "3n16n"),
    ("AL", 28, "8n16c"),
    ("AT", 20, "5n11n"),
    ("AZ", 28, "4a20c"),
    ("BA", 20, "3n3n8n2n"),
    ("BE", 16, "3n7n2n"),
    ("BG", 22, "4a4n2n8c"),
    ("BH", 22, "4a14c"),
    ("BI", 27, "5n5n11n2n"),
    ("BR", 29, "8n5n10n1a1c"),
    ("BY", 28, "4c4n16c"),
    ("CH", 21, "5n12c"),
    ("CR", 22, "4n14n"),
    ("CY", 28, "3n5n16c"),
    ("CZ", 24, "4n16n"),
    ("DE", 22, "8n10n"),
    ("DJ", 27, "5n5n11n2n"),
    ("DK", 18, "4n9n1n"),
    ("DO", 28, "4c20n"),
    ("EE", 20, "2n14n"),
    ("EG", 29, "4n4n17n"),
    ("ES", 24, "4n4n1n1n10n"),
    ("FI", 18, "3n11n"),
    ("FK", 18, "2a12n"),
    ("FO", 18, "4n9n1n"),
    ("FR", 27, "5n5n11c2n"),
    ("GB", 22, "4a6n8n"),
    ("GE", 22, "2a16n"),
    ("GI", 23, "4a15c"),
    ("GL", 18, "4n9n1n"),
    ("GR", 27, "3n4n16c"),
    ("GT", 28, "4c20c"),
    ("HN", 28, "4a20n"),
    ("HR", 21, "7n10n"),
    ("HU", 28, "3n4n1n15n1n"),
    ("IE", 22, "4a6n8n"),
    ("IL", 23, "3n3n13n"),
    ("IQ", 23, "4a3n12n"),
    ("IS", 26, "4n2n6n10n"),
    ("IT", 27, "1a5n5n12c"),
    ("JO", 30, "4a4n18c"),
    ("KW", 30, "4a22c"),
    ("KZ", 20, "3n13c"),
    ("LB", 28, "4n20c"),
    ("LC", 32, "4a24c"),
    ("LI", 21, "5n12c"),
    ("LT", 20, "5n11n"),
    ("LU", 20, "3n13c"),
    ("LV", 21, "4a13c"),
    ("LY", 25, "3n3n15n"),
    ("MC", 27, "5n5n11c2n"),
    ("MD", 24, "2c18c"),
    ("ME", 22, "3n13n2n"),
    ("MK", 19, "3n10c2n"),
    ("MN", 20, "4n12n"),
    ("MR", 27, "5n5n11n2n"),
    ("MT", 31, "4a5n18c"),
    ("MU", 30, "4a2n2n12n3n3a"),
    ("NI", 28, "4a20n"),
    ("NL", 18, "4a10n"),
    ("NO", 15, "4n6n1n"),
    ("OM", 23, "3n16c"),
    ("PK", 24, "4a16c"),
    ("PL", 28, "8n16n"),
    ("PS", 29, "4a21c"),
    ("PT", 25, "4n4n11n2n"),
    ("QA", 29, "4a21c"),
    ("RO", 24, "4a16c"),
    ("RS", 22, "3n13n2n"),
    ("RU", 33, "9n5n15c"),
    ("SA", 24, "2n18c"),
    ("SC", 31, "4a2n2n16n3a"),
    ("SD", 18, "2n12n"),
    ("SE", 24, "3n16n1n"),
    ("SI", 19, "5n8n2n"),
    ("SK", 24, "4n6n10n"),
    ("SM", 27, "1a5n5n12c"),
    ("SO", 23, "4n3n12n"),
    ("ST", 25, "4n4n11n2n"),
    ("SV", 28, "4a20n"),
    ("TL", 23, "3n14n2n"),
    ("TN", 24, "2n3n13n2n"),
    ("TR", 26, "5n1n16c"),
    ("UA", 29, "6n19c"),
    ("VA", 22, "3n15n"),
    ("VG", 24, "4a16n"),
    ("XK", 20, "4n10n2n"),
    ("YE", 30, "4a4n18c"),
    // Åland (FI); the French overseas territories (FR); Isle of Man, Jersey, Guernsey (GB).
    ("AX", 18, "3n11n"),
    ("BL", 27, "5n5n11c2n"),
    ("GF", 27, "5n5n11c2n"),
    ("GP", 27, "5n5n11c2n"),
    ("MF", 27, "5n5n11c2n"),
    ("MQ", 27, "5n5n11c2n"),
    ("NC", 27, "5n5n11c2n"),
    ("PF", 27, "5n5n11c2n"),
    ("PM", 27, "5n5n11c2n"),
    ("RE", 27, "5n5n11c2n"),
    ("TF", 27, "5n5n11c2n"),
    ("WF", 27, "5n5n11c2n"),
    ("YT", 27, "5n5n11c2n"),
    ("GG", 22, "4a6n8n"),
    ("IM", 22, "4a6n8n"),
    ("JE", 22, "4a6n8n"),
];

/// Characters that may separate the blocks of an IBAN as written.
const IBAN_SEPARATORS: &str = " -./_:";

fn bban_matches(bban: &[u8], structure: &str) -> bool {
    let mut rest = bban;
    let mut count = 0usize;
    for c in structure.bytes() {
        if c.is_ascii_digit() {
            count = count * 10 + (c - b'0') as usize;
            continue;
        }
        if rest.len() < count {
            return false;
        }
        let (part, tail) = rest.split_at(count);
        let ok = match c {
            b'n' => part.iter().all(u8::is_ascii_digit),
            b'a' => part.iter().all(u8::is_ascii_uppercase),
            _ => part
                .iter()
                .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()),
        };
        if !ok {
            return false;
        }
        rest = tail;
        count = 0;
    }
    rest.is_empty()
}

/// ISO 7064 MOD 97-10 over an IBAN (country code first, as written).
fn iban_checksum_ok(iban: &[u8]) -> bool {
    let mut rem: u32 = 0;
    for &c in iban[4..].iter().chain(&iban[..4]) {
        rem = if c.is_ascii_digit() {
            (rem * 10 + u32::from(c - b'0')) % 97
        } else {
            (rem * 100 + u32::from(c - b'A') + 10) % 97
        };
    }
    rem == 1
}

/// Whether `candidate` (upper case, no separators) is a valid IBAN of its country.
pub fn is_iban(candidate: &str) -> bool {
    let c = candidate.as_bytes();
    c.len() > 4
        && IBAN_COUNTRIES.iter().any(|&(code, len, structure)| {
            c.len() == len
                && c.starts_with(code.as_bytes())
                && c[2..4].iter().all(u8::is_ascii_digit)
                && bban_matches(&c[4..], structure)
                && iban_checksum_ok(c)
        })
}

fn has_iban(t: &Text) -> bool {
    let up: Vec<char> = t.chars.iter().map(|c| c.to_ascii_uppercase()).collect();
    (0..up.len().saturating_sub(1)).any(|i| {
        if !(up[i].is_ascii_uppercase() && up[i + 1].is_ascii_uppercase()) {
            return false;
        }
        let code = [up[i] as u8, up[i + 1] as u8];
        let Some(&(_, len, _)) = IBAN_COUNTRIES.iter().find(|(c, _, _)| c.as_bytes() == code)
        else {
            return false;
        };
        let mut candidate = String::with_capacity(len);
        let mut j = i;
        while candidate.len() < len && j < up.len() {
            let c = up[j];
            if c.is_ascii_alphanumeric() {
                candidate.push(c);
            } else if !(IBAN_SEPARATORS.contains(c)
                && up[j - 1].is_ascii_alphanumeric()
                && up.get(j + 1).is_some_and(char::is_ascii_alphanumeric))
            {
                break;
            }
            j += 1;
        }
        is_iban(&candidate)
    })
}

// ---------------------------------------------------------------------------------------------
// E-mail addresses

/// Written-out `@` and `.`, replaced with the spaces around them.
const AT_WORDS: [&str; 12] = [
    "[at]",
    "(at)",
    "{at}",
    "<at>",
    "[ at ]",
    "( at )",
    "[@]",
    "(@)",
    "{@}",
    "<@>",
    "[apenstaartje]",
    "(apenstaartje)",
];
const DOT_WORDS: [&str; 14] = [
    "[dot]", "(dot)", "{dot}", "<dot>", "[ dot ]", "( dot )", "[punt]", "(punt)", "{punt}",
    "<punt>", "[.]", "(.)", "{.}", "<.>",
];

/// Replace every `pattern` by `with`, taking the spaces around it along.
fn replace_spaced(s: &str, pattern: &str, with: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(pattern) {
        out.push_str(rest[..i].trim_end_matches(' '));
        out.push_str(with);
        rest = rest[i + pattern.len()..].trim_start_matches(' ');
    }
    out.push_str(rest);
    out
}

fn is_local_char(c: char) -> bool {
    c.is_alphanumeric() || "._%+-'".contains(c)
}

fn is_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && labels
            .iter()
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_alphanumeric() || c == '-'))
        && labels
            .last()
            .is_some_and(|tld| tld.chars().count() >= 2 && tld.chars().all(char::is_alphabetic))
}

fn has_email(t: &Text) -> bool {
    let mut s: String = t.lower.iter().collect();
    for w in AT_WORDS {
        s = replace_spaced(&s, w, "@");
    }
    for w in DOT_WORDS {
        s = replace_spaced(&s, w, ".");
    }
    // `jan @ example.nl`
    s = replace_spaced(&s, "@", "@");
    let chars: Vec<char> = s.chars().collect();
    let address = chars.iter().enumerate().any(|(i, &c)| {
        if c != '@' {
            return false;
        }
        let local = chars[..i]
            .iter()
            .rev()
            .take_while(|c| is_local_char(**c))
            .any(|c| c.is_alphanumeric());
        let domain: String = chars[i + 1..]
            .iter()
            .take_while(|c| c.is_alphanumeric() || matches!(c, '.' | '-'))
            .collect();
        local && is_domain(domain.trim_end_matches(['.', '-']))
    });
    if address {
        return true;
    }
    // `jan at example dot nl`: the plain words only together.
    let words: Vec<&str> = s.split_whitespace().collect();
    words.windows(5).any(|w| {
        w[1] == "at"
            && w[3] == "dot"
            && w[0].chars().any(char::is_alphanumeric)
            && w[0].chars().all(is_local_char)
            && is_domain(&format!(
                "{}.{}",
                w[2],
                w[4].trim_end_matches(|c: char| !c.is_alphanumeric())
            ))
    })
}

// ---------------------------------------------------------------------------------------------
// Dates of birth

/// Words that make a nearby date a date of birth (`true`: the whole word, not a prefix).
const BIRTH_WORDS: [(&str, bool); 9] = [
    ("geboren", false),
    ("geboorte", false),
    ("geb", true),
    ("gebdat", true),
    ("dob", true),
    ("d.o.b", false),
    ("born", true),
    ("birth", false),
    ("verjaardag", false),
];

/// Dutch and English month names and their abbreviations.
fn month(word: &str) -> Option<u32> {
    Some(match word {
        "januari" | "january" | "jan" => 1,
        "februari" | "february" | "feb" | "febr" => 2,
        "maart" | "march" | "mrt" | "mar" | "maa" => 3,
        "april" | "apr" => 4,
        "mei" | "may" => 5,
        "juni" | "june" | "jun" => 6,
        "juli" | "july" | "jul" => 7,
        "augustus" | "august" | "aug" => 8,
        "september" | "sep" | "sept" => 9,
        "oktober" | "october" | "okt" | "oct" => 10,
        "november" | "nov" => 11,
        "december" | "dec" => 12,
        _ => return None,
    })
}

/// Ordinal suffixes after a day number: `12th`, `1st`, `12e`, `1ste`.
const ORDINALS: [&str; 8] = ["st", "nd", "rd", "th", "e", "ste", "de", "er"];

struct Birth<'a> {
    t: &'a Text,
    current_year: i32,
}

impl Birth<'_> {
    /// Whether `year-month-day` is a date of birth, given a birth word near `start..end`.
    fn is_birth_date(&self, year: i32, month: u32, day: u32, start: usize, end: usize) -> bool {
        if NaiveDate::from_ymd_opt(year, month, day).is_none() || year < 1900 {
            return false;
        }
        year <= self.current_year - 12 || (year <= self.current_year && self.keyword(start, end))
    }

    fn keyword(&self, start: usize, end: usize) -> bool {
        self.t.word_near(start, end, 40, 25, &BIRTH_WORDS)
    }

    fn number(&self, g: (usize, usize)) -> Option<u32> {
        let s: String = self.t.group(g).iter().collect();
        s.parse().ok()
    }

    /// `dd-mm-yyyy`, `d/m/yyyy`, `dd.mm.yyyy`, `dd mm yyyy`, `mm/dd/yyyy`, `yyyy-mm-dd`; with a
    /// birth word also `dd-mm-yy` and `ddmmyyyy` / `yyyymmdd`.
    fn numeric(&self) -> bool {
        self.t.chains.iter().any(|chain| {
            let g = &chain.groups;
            let triples = (0..g.len().saturating_sub(2)).any(|i| {
                let (ga, gb) = (&chain.gaps[i], &chain.gaps[i + 1]);
                if ga.raw != gb.raw
                    || !matches!(ga.raw.as_str(), "-" | "/" | "." | " " | "_" | "\\")
                {
                    return false;
                }
                let lens = (
                    g[i].1 - g[i].0,
                    g[i + 1].1 - g[i + 1].0,
                    g[i + 2].1 - g[i + 2].0,
                );
                let (Some(x), Some(y), Some(z)) = (
                    self.number(g[i]),
                    self.number(g[i + 1]),
                    self.number(g[i + 2]),
                ) else {
                    return false;
                };
                let (start, end) = (g[i].0, g[i + 2].1);
                match lens {
                    (1..=2, 1..=2, 4) => {
                        self.is_birth_date(z as i32, y, x, start, end)
                            || self.is_birth_date(z as i32, x, y, start, end)
                    }
                    (4, 1..=2, 1..=2) => self.is_birth_date(x as i32, y, z, start, end),
                    (1..=2, 1..=2, 2) if self.keyword(start, end) => [1900, 2000]
                        .iter()
                        .any(|c| self.is_birth_date(c + z as i32, y, x, start, end)),
                    _ => false,
                }
            });
            triples
                || g.iter().any(|&grp| {
                    grp.1 - grp.0 == 8 && self.keyword(grp.0, grp.1) && {
                        let d = self.t.group(grp);
                        let n = |r: std::ops::Range<usize>| {
                            d[r].iter().collect::<String>().parse::<u32>().unwrap_or(0)
                        };
                        self.is_birth_date(n(4..8) as i32, n(2..4), n(0..2), grp.0, grp.1)
                            || self.is_birth_date(n(0..4) as i32, n(4..6), n(6..8), grp.0, grp.1)
                    }
                })
        })
    }

    /// `12 maart 1985`, `12 mrt. 1985`, `12-mrt-1985`, `12th of March 1985`, `March 12, 1985`.
    fn with_month_name(&self) -> bool {
        let tokens = tokens(&self.t.lower);
        (0..tokens.len()).any(|i| {
            let Token::Word(w, ws, we) = &tokens[i] else {
                return false;
            };
            let Some(m) = month(w) else {
                return false;
            };
            // Day before the month: `12 [th] [of] maart [.] [-] 1985`.
            let mut k = i;
            let back = |k: &mut usize, pred: &dyn Fn(&Token) -> bool| {
                if *k > 0 && pred(&tokens[*k - 1]) {
                    *k -= 1;
                }
            };
            back(&mut k, &|t| {
                matches!(t, Token::Punct('-' | '/' | '.' | ','))
            });
            back(&mut k, &|t| matches!(t, Token::Word(w, ..) if w == "of"));
            back(
                &mut k,
                &|t| matches!(t, Token::Word(w, ..) if ORDINALS.contains(&w.as_str())),
            );
            let day_before = k.checked_sub(1).and_then(|k| tokens[k].day());
            // After the month: `[.] [-/,] 1985` or `[.] 12 [th] [,] 1985`.
            let mut j = i + 1;
            let skip = |j: &mut usize, pred: &dyn Fn(&Token) -> bool| {
                if *j < tokens.len() && pred(&tokens[*j]) {
                    *j += 1;
                }
            };
            skip(&mut j, &|t| matches!(t, Token::Punct('.')));
            if let Some((d, start)) = day_before {
                let mut y = j;
                skip(&mut y, &|t| matches!(t, Token::Punct('-' | '/' | ',')));
                if let Some((year, end)) = tokens.get(y).and_then(Token::year)
                    && self.is_birth_date(year, m, d, start, end)
                {
                    return true;
                }
            }
            let Some((d, _)) = tokens.get(j).and_then(Token::day) else {
                return false;
            };
            let mut y = j + 1;
            skip(
                &mut y,
                &|t| matches!(t, Token::Word(w, ..) if ORDINALS.contains(&w.as_str())),
            );
            skip(&mut y, &|t| matches!(t, Token::Punct(',')));
            tokens
                .get(y)
                .and_then(Token::year)
                .is_some_and(|(year, end)| self.is_birth_date(year, m, d, *ws, end.max(*we)))
        })
    }
}

#[derive(Debug)]
enum Token {
    /// A word, with its character range.
    Word(String, usize, usize),
    /// A run of digits, with its character range.
    Number(String, usize, usize),
    Punct(char),
}

impl Token {
    /// A day number (1-31) and where it starts.
    fn day(&self) -> Option<(u32, usize)> {
        match self {
            Token::Number(n, s, _) if n.len() <= 2 => n
                .parse()
                .ok()
                .filter(|d| (1..=31).contains(d))
                .map(|d| (d, *s)),
            _ => None,
        }
    }

    /// A four-digit year and where it ends.
    fn year(&self) -> Option<(i32, usize)> {
        match self {
            Token::Number(n, _, e) if n.len() == 4 => n.parse().ok().map(|y| (y, *e)),
            _ => None,
        }
    }
}

/// Words, digit runs and punctuation; spaces dropped.
fn tokens(chars: &[char]) -> Vec<Token> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        if c.is_alphabetic() {
            while i < chars.len() && chars[i].is_alphabetic() {
                i += 1;
            }
            out.push(Token::Word(chars[start..i].iter().collect(), start, i));
        } else if c.is_ascii_digit() {
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            out.push(Token::Number(chars[start..i].iter().collect(), start, i));
        } else {
            if !c.is_whitespace() {
                out.push(Token::Punct(c));
            }
            i += 1;
        }
    }
    out
}

fn has_birth_date(t: &Text, current_year: i32) -> bool {
    let b = Birth { t, current_year };
    b.numeric() || b.with_month_name()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A year that keeps these tests independent of when they run.
    const NOW: i32 = 2026;

    #[track_caller]
    fn refused_as(what: &str, texts: &[&str]) {
        for text in texts {
            assert_eq!(
                detect_as_of(text, NOW).map(|w| w.split(" / ").nth(1).unwrap_or(w)),
                Some(what),
                "{text:?} (normalised: {:?})",
                normalise(text)
            );
            assert!(detect(text).is_some(), "{text:?} today");
        }
    }

    #[track_caller]
    fn accepted(texts: &[&str]) {
        for text in texts {
            assert_eq!(
                detect_as_of(text, NOW),
                None,
                "should pass: {text:?} (normalised: {:?})",
                normalise(text)
            );
        }
    }

    #[test]
    fn personal_normalisation_reads_every_script_and_drops_invisible_characters() {
        assert_eq!(normalise("１２３"), "123");
        assert_eq!(normalise("١٢٣ ۴۵۶ ४५६ ৭৮৯ ๑๒"), "123 456 456 789 12");
        assert_eq!(normalise("𝟏𝟐𝟑"), "123");
        assert_eq!(
            normalise("1\u{200B}2\u{200C}3\u{200D}4\u{2060}5\u{FEFF}6\u{00AD}7"),
            "1234567"
        );
        assert_eq!(normalise("1\u{00A0}2\u{202F}3\u{3000}4"), "1 2 3 4");
        assert_eq!(normalise("1\u{2013}2\u{2212}3\u{2044}4"), "1-2-3/4");
        assert_eq!(normalise("jan＠example．nl"), "jan@example.nl");
        for zero in DIGIT_ZEROS {
            for d in 0..10u32 {
                let c = char::from_u32(zero + d).expect("a character");
                assert_eq!(decimal_digit(c), Some(d as u8), "U+{:04X}", zero + d);
            }
        }
        assert_eq!(decimal_digit('a'), None);
        assert_eq!(decimal_digit('\u{0670}'), None);
    }

    #[test]
    fn personal_bsn_in_every_notation() {
        // 111222333 passes the 11-test; 123456789 does not.
        assert!(is_bsn("111222333"));
        assert!(!is_bsn("123456789"));
        assert!(!is_bsn("000000000"));
        refused_as(
            "a citizen service number",
            &[
                "cliënt 111222333 kreeg hulp",
                "BSN 111.222.333",
                "111 22 2333",
                "1112.22.333",
                "111-222-333",
                "111/222/333",
                "111_222_333",
                "111\\222\\333",
                "111|222|333",
                "111,222,333",
                "111:222:333",
                "(111) 222 333",
                "111\u{00A0}222\u{00A0}333",
                "111\u{2013}222\u{2013}333",
                "１１１２２２３３３",
                "１１１－２２２－３３３",
                "١١١٢٢٢٣٣٣",
                "۱۱۱۲۲۲۳۳۳",
                "१११२२२३३३",
                "১১১২২২৩৩৩",
                "𝟏𝟏𝟏𝟐𝟐𝟐𝟑𝟑𝟑",
                "111\u{200B}222\u{200B}333",
                "1\u{200C}1\u{200D}1\u{2060}2\u{FEFF}2\u{00AD}2\u{034F}333",
                "BSN111222333",
                "dossier 2023/111.222.333",
                // Without its leading zero, right after "BSN" or "sofinummer".
                "BSN: 30123458",
                "sofinummer 3012 3458",
            ],
        );
    }

    #[test]
    fn personal_iban_of_every_registry_country() {
        let examples = [
            "AD1200012030200359100100",
            "AE070331234567890123456",
            "AL47212110090000000235698741",
            "AT611904300234573201",
            "AZ21NABZ00000000137010001944",
            "BA391290079401028494",
            "BE68539007547034",
            "BG80BNBG96611020345678",
            "BH67BMAG00001299123456",
            "BI4210000100010000332045181",
            "BR1800360305000010009795493C1",
            "BY13NBRB3600900000002Z00AB00",
            "CH9300762011623852957",
            "CR05015202001026284066",
            "CY17002001280000001200527600",
            "CZ6508000000192000145399",
            "DE89370400440532013000",
            "DJ2100010000000154000100186",
            "DK5000400440116243",
            "DO28BAGR00000001212453611324",
            "EE382200221020145685",
            "EG380019000500000000263180002",
            "ES9121000418450200051332",
            "FI2112345600000785",
            "FK88SC123456789012",
            "FO6264600001631634",
            "FR1420041010050500013M02606",
            "GB29NWBK60161331926819",
            "GE29NB0000000101904917",
            "GI75NWBK000000007099453",
            "GL8964710001000206",
            "GR1601101250000000012300695",
            "GT82TRAJ01020000001210029690",
            "HN88CABF00000000000250005469",
            "HR1210010051863000160",
            "HU42117730161111101800000000",
            "IE29AIBK93115212345678",
            "IL620108000000099999999",
            "IQ98NBIQ850123456789012",
            "IS140159260076545510730339",
            "IT60X0542811101000000123456",
            "JO94CBJO0010000000000131000302",
            "KW81CBKU0000000000001234560101",
            "KZ86125KZT5004100100",
            "LB62099900000001001901229114",
            "LC55HEMM000100010012001200023015",
            "LI21088100002324013AA",
            "LT121000011101001000",
            "LU280019400644750000",
            "LV80BANK0000435195001",
            "LY83002048000020100120361",
            "MC5811222000010123456789030",
            "MD24AG000225100013104168",
            "ME25505000012345678951",
            "MK07250120000058984",
            "MN121234123456789123",
            "MR1300020001010000123456753",
            "MT84MALT011000012345MTLCAST001S",
            "MU17BOMM0101101030300200000MUR",
            "NI45BAPR00000013000003558124",
            "NL91ABNA0417164300",
            "NO9386011117947",
            "OM810180000001299123456",
            "PK36SCBL0000001123456702",
            "PL61109010140000071219812874",
            "PS92PALS000000000400123456702",
            "PT50000201231234567890154",
            "QA58DOHB00001234567890ABCDEFG",
            "RO49AAAA1B31007593840000",
            "RS35260005601001611379",
            "RU0304452522540817810538091310419",
            "SA0380000000608010167519",
            "SC18SSCB11010000000000001497USD",
            "SD2129010501234001",
            "SE4550000000058398257466",
            "SI56263300012039086",
            "SK3112000000198742637541",
            "SM86U0322509800000000270100",
            "SO211000001001000100141",
            "ST23000100010051845310146",
            "SV62CENR00000000000000700025",
            "TL380080012345678910157",
            "TN5910006035183598478831",
            "TR330006100519786457841326",
            "UA213223130000026007233566001",
            "VA59001123000012345678",
            "VG96VPVG0000012345678901",
            "XK051212012345678906",
            "YE15CBYE0001018861234567891234",
        ];
        assert_eq!(examples.len(), 89);
        for iban in examples {
            assert!(is_iban(iban), "{iban}");
            assert!(detect(iban).is_some(), "{iban}");
            // In print format, lower case, in a sentence.
            let print: Vec<String> = iban
                .as_bytes()
                .chunks(4)
                .map(|c| String::from_utf8_lossy(c).to_lowercase())
                .collect();
            let text = format!("rekening: {}.", print.join(" "));
            assert!(detect(&text).is_some(), "{text}");
            // One character changed: the check fails.
            let mut wrong = iban.as_bytes().to_vec();
            let last = wrong.len() - 1;
            wrong[last] = if wrong[last] == b'1' { b'2' } else { b'1' };
            let wrong = String::from_utf8(wrong).expect("ASCII");
            assert!(!is_iban(&wrong), "{wrong}");
            // (Its digits may still read as a phone number or a BSN.)
            assert_ne!(detect(&wrong), Some(IBAN), "{wrong}");
        }
        refused_as(
            "a bank account number",
            &[
                "rekening NL91 ABNA 0417 1643 00",
                "NL91ABNA0417164300",
                "nl91abna0417164300",
                "DE89 3704 0044 0532 0130 00",
                "DE89370400440532013000",
                "BE68 5390 0754 7034",
                "BE68-5390-0754-7034",
                "IBAN:BE68539007547034",
                "FR14 2004 1010 0505 0001 3M02 606",
                "GB29 NWBK 6016 1331 9268 19",
                "NO93 8601 1117 947",
                "ＤＥ８９ ３７０４ ００４４ ０５３２ ０１３０ ００",
                "DE89\u{200B}3704\u{200B}0044\u{200B}0532\u{200B}0130\u{200B}00",
            ],
        );
        // mod-97 holds, but not the country's length (NL: 18) or structure (DE: digits only).
        assert!(!is_iban("NL45ABNA04171643"));
        assert!(!is_iban("DE863704004405320130"));
        accepted(&[
            "NL45 ABNA 0417 1643",
            "NL91 ABNA 0417 1643",
            "de 2023 cijfers van DE teams",
            "NL 2023 jeugd",
        ]);
    }

    #[test]
    fn personal_email_also_written_out() {
        refused_as(
            "an e-mail address",
            &[
                "mail j.jansen@example.nl",
                "jan＠example.nl",
                "jan﹫example.nl",
                "JAN@EXAMPLE.NL",
                "jan @ example.nl",
                "jan [at] example [dot] nl",
                "jan[at]example[dot]nl",
                "jan(at)example(dot)nl",
                "jan (at) example (punt) nl",
                "jan{at}example.nl",
                "jan at example dot nl",
                "Jan AT voorbeeld DOT nl",
                "j\u{200B}an@exam\u{200B}ple.nl",
                "<jan.jansen@gemeente.amsterdam>",
            ],
        );
        accepted(&[
            "Zie www.buurtteamsutrecht.nl",
            "Hij at een punt taart, dat is een punt.",
            "look at www.example.nl",
            "Volg ons op @buurtteam",
            "@SUM(1+1)",
        ]);
    }

    #[test]
    fn personal_phone_numbers_in_every_notation() {
        refused_as(
            "a phone number",
            &[
                "bel 0612345678",
                "bel 06-12345678",
                "06 1234 5678",
                "06 12 34 56 78",
                "(06)12345678",
                "(06) 12 34 56 78",
                "06 - 12345678",
                "+31 6 12345678",
                "+31612345678",
                "+31 (0)6 12345678",
                "+31(0)6-12345678",
                "+31 (0) 6 1234 5678",
                "0031 6 12345678",
                "0031612345678",
                "020-1234567",
                "0201234567",
                "020 - 123 45 67",
                "(020) 123 45 67",
                "+31 20 123 4567",
                "+32 2 123 45 67",
                "+49 30 1234567",
                "+1 212 555 0100",
                "+44 20 7946 0958",
                "0032 2 123 45 67",
                "０６－１２３４５６７８",
                "٠٦١٢٣٤٥٦٧٨",
                "06\u{200B}12345678",
                "06\u{2011}12345678",
            ],
        );
    }

    #[test]
    fn personal_dates_of_birth() {
        refused_as(
            "a date of birth",
            &[
                "geboren 12-03-1985",
                "12/03/1985",
                "1985-03-12",
                "12-03-1985",
                "12.03.1985",
                "12 03 1985",
                "2-3-1985",
                "3/12/1985",
                "12 maart 1985",
                "12 mrt. 1985",
                "12 mrt 1985",
                "12-mrt-1985",
                "12e maart 1985",
                "12 March 1985",
                "March 12, 1985",
                "mrt. 12 1985",
                "12th of March 1985",
                "１２－０３－１９８５",
                "12\u{200B}-03-1985",
                "per 1 januari 2014",
                // With a birth word: recent dates, two-digit years, eight digits in a row.
                "geboren op 5 mei 2019",
                "geb. 05-05-2019",
                "DOB: 2019-05-05",
                "born March 3, 2020",
                "geboortedatum 2020-01-31",
                "geb. 12-03-85",
                "geb. 12031985",
                "DOB 19850312",
            ],
        );
        // The boundary moves with the current year.
        assert!(detect_as_of("per 1 januari 2014", 2026).is_some());
        assert!(detect_as_of("per 1 januari 2015", 2026).is_none());
        assert!(detect_as_of("per 1 januari 2015", 2027).is_some());
        assert!(detect_as_of("geboren 1 januari 2015", 2026).is_some());
        assert!(detect_as_of("geboren 1 januari 2027", 2026).is_none());
    }

    #[test]
    fn personal_legitimate_notes_pass() {
        accepted(&[
            "In 2021 hielpen we 1.234 gezinnen, 56% zelfmelders",
            "we bereikten 123456789 mensen",
            "Wachttijd daalde van 42 naar 30 dagen (2020-2021).",
            "Peildatum 31 december.",
            "per 1 januari 2023",
            "vanaf 01-07-2024",
            "Van 01-01-2023 t/m 31-12-2023: 1.234 meldingen",
            "per 01-01-2024 12 teams, vanaf 01-07-2024 (10 teams)",
            "sinds januari 2010; sinds 2012",
            "2023, 2023-Q1, Q3 2023, 2021HJ01, 2021KW03, 2021-H1",
            "1.234 aanmeldingen, 12,5% meer dan vorig jaar",
            "budget € 1.234.567,89",
            "budget € 111.222.333 en EUR 111222333",
            "totaal 1.112.223,33 euro; 111222333 eur",
            "opbrengst 1.112.223,33",
            "KvK 30123458; KvK-nummer 3012 3458",
            "AGB-code 12345678",
            "+12% t.o.v. 2022, -2+3",
            "+1.234 meer aanmeldingen, +12.345.678 meer budget",
            "Respons 1.939 (74,5%)",
            "team Noord (3 fte) en Zuid (4,5 fte); 0,75 fte per 1.000 inwoners",
            "Spreekuur 10:30-12:00, telefonisch bereikbaar 9-17 uur",
            "Postcodegebied 3511-3512, wijken 1 t/m 12",
            "Tussen 2019 en 2023 steeg het aantal 12-jarigen met 4,2%",
            "Versie 1.2.3 van het registratiesysteem",
            "Jan en Piet", // a first name, not a month
            "12 maart",
            "1 januari (nieuwjaarsdag)",
            "Buurtteam Utrecht-Noord",
            "Stichting Wijkteams 020",
            "=HYPERLINK(\"http://x\",\"y\")",
            "+cmd",
            "-2+3",
            "registratiesysteem buurtteam Noord",
            "ĳĳĳĳĳĳĳĳĳĳĳĳĳĳĳĳĳĳĳĳĳĳĳĳĳĳĳĳĳĳĳĳĳĳĳĳĳĳĳĳ",
            "\u{ee2a}OA\u{d4}\u{1ad7b}é€ NL91 ÄBNA",
            "",
        ]);
        // Reporting dates of the last twelve years pass whenever the tests run.
        let year = chrono::Utc::now().year();
        for text in [
            format!("per 1 januari {}", year - 1),
            format!("vanaf 01-07-{}", year - 11),
            format!("peildatum {}-12-31", year - 1),
        ] {
            assert_eq!(detect(&text), None, "{text}");
        }
    }
}
