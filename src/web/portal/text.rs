//! The words of the portal pages, in Dutch and English.

use crate::web::Lang;

macro_rules! texts {
    ($($name:ident: $nl:expr, $en:expr;)*) => {
        /// Every fixed text of the portal pages, per language.
        pub struct PortalTexts {
            $(pub $name: &'static str,)*
        }
        pub static NL: PortalTexts = PortalTexts { $($name: $nl,)* };
        pub static EN: PortalTexts = PortalTexts { $($name: $en,)* };
    };
}

texts! {
    portal: "Portaal", "Portal";
    footer: "Het portaal van de basisset. Je ziet en doet hier precies wat je rol via de API mag; vertrouwelijke cijfers blijven vertrouwelijk.", "The basisset portal. Here you see and do exactly what your role may do through the API; confidential figures stay confidential.";
    nav_overview: "Overzicht", "Overview";
    nav_review: "Beoordelen", "Review";
    nav_account: "Account", "Account";
    sign_out: "Uitloggen", "Sign out";
    sign_out_everywhere: "Overal uitloggen", "Sign out everywhere";
    sign_out_everywhere_text: "Beëindigt al je sessies, op elk apparaat, ook deze.", "Ends all your sessions on every device, this one too.";
    sign_in: "Inloggen", "Sign in";
    sign_in_intro: "Log in met je werkadres en wachtwoord. Nog geen account? Vraag een uitnodiging aan de beheerder van je organisatie.", "Sign in with your work address and password. No account yet? Ask your organisation's coordinator for an invitation.";
    email: "E-mailadres", "E-mail address";
    password: "Wachtwoord", "Password";
    password_again: "Wachtwoord nogmaals", "Password again";
    password_mismatch: "De twee wachtwoorden zijn niet gelijk.", "The two passwords differ.";
    password_rules: "Minstens 12 tekens, niet je e-mailadres en geen veelgebruikt wachtwoord. Een zin van een paar woorden werkt goed.", "At least 12 characters, not your e-mail address and not a common password. A sentence of a few words works well.";
    welcome: "Welkom", "Welcome";
    welcome_intro: "Kies een wachtwoord voor het account", "Choose a password for the account";
    welcome_done: "Je wachtwoord is ingesteld. Log nu in.", "Your password is set. Sign in now.";
    set_password: "Wachtwoord instellen", "Set password";
    problems: "Dit moet anders", "Please correct this";
    code_title: "Code uit je app", "Code from your app";
    code_intro: "Vul de zescijferige code in die je authenticator-app nu toont.", "Enter the six-digit code your authenticator app shows now.";
    code: "Code", "Code";
    confirm: "Bevestigen", "Confirm";
    enrol_title: "Tweede stap instellen", "Set up a second factor";
    enrol_intro: "Accounts van de Associatie en beheerders loggen in met wachtwoord én een code uit een authenticator-app (TOTP). Stel die eerst in.", "Associatie and admin accounts sign in with a password and a code from an authenticator app (TOTP). Set it up first.";
    enrol_optional: "Een tweede stap maakt je account veiliger. Je kunt hem hier instellen.", "A second factor makes your account safer. You can set it up here.";
    enrol_start: "Nieuwe sleutel maken", "Create a new key";
    enrol_secret: "Sleutel (typ hem in je app als je niet kunt scannen)", "Key (type it into your app if you cannot scan)";
    enrol_uri: "Koppeling voor de app", "Link for the app";
    enrol_then: "Vul daarna de code in die de app toont.", "Then enter the code the app shows.";
    account_title: "Je account", "Your account";
    role: "Rol", "Role";
    organisation: "Organisatie", "Organisation";
    second_factor: "Tweede stap (app)", "Second factor (app)";
    on: "aan", "on";
    off: "uit", "off";
    change_password: "Wachtwoord wijzigen", "Change password";
    current_password: "Huidig wachtwoord", "Current password";
    new_password: "Nieuw wachtwoord", "New password";
    password_changed: "Je wachtwoord is gewijzigd; je andere sessies zijn beëindigd.", "Your password was changed; your other sessions have ended.";
    wrong_current: "Het huidige wachtwoord klopt niet.", "The current password is wrong.";
    periods: "Perioden", "Periods";
    period: "Periode", "Period";
    status: "Status", "Status";
    revision: "Revisie", "Revision";
    figures: "Cijfers", "Figures";
    updated: "Bijgewerkt", "Updated";
    reason: "Reden", "Reason";
    due: "te leveren", "due";
    open: "Openen", "Open";
    upload_title: "Cijfers aanleveren", "Deliver figures";
    upload_intro: "Upload een CSV (ook uit Excel: puntkomma's en decimale komma's) of een .xlsx-bestand. Eerst controleren we alles; er wordt niets opgeslagen tot je kiest voor concept of indienen.", "Upload a CSV (Excel's too: semicolons and decimal commas) or an .xlsx file. Everything is checked first; nothing is stored until you choose draft or submit.";
    file: "Bestand", "File";
    publication: "Publicatie", "Publication";
    pub_associatie: "alleen de Associatie", "the Associatie only";
    pub_openbaar: "openbaar", "public";
    check: "Controleren", "Check";
    save_draft: "Opslaan als concept", "Save as draft";
    submit: "Indienen", "Submit";
    check_title: "Controle van het bestand", "Check of the file";
    errors: "Fouten", "Errors";
    errors_intro: "Er is niets opgeslagen. Verbeter het bestand en upload het opnieuw.", "Nothing was stored. Correct the file and upload it again.";
    warnings: "Waarschuwingen", "Warnings";
    warnings_intro: "Waarschuwingen houden niets tegen; kijk of de cijfers kloppen.", "Warnings block nothing; check whether the figures are right.";
    no_warnings: "Geen waarschuwingen.", "No warnings.";
    check_ok: "Het bestand is in orde.", "The file is fine.";
    would_store: "cijfers klaar om op te slaan", "figures ready to store";
    row: "Rij", "Row";
    cell: "Cel", "Cell";
    column: "Kolom", "Column";
    where_: "Waar", "Where";
    message: "Toelichting", "Explanation";
    indicator: "Indicator", "Indicator";
    municipality: "Gemeente", "Municipality";
    value: "Waarde", "Value";
    numerator: "Teller", "Numerator";
    denominator: "Noemer", "Denominator";
    note: "Toelichting", "Note";
    history: "Geschiedenis", "History";
    events: "Gebeurtenissen", "Events";
    who: "Wie", "Who";
    when: "Wanneer", "When";
    what: "Wat", "What";
    diff_title: "Verschillen", "Differences";
    diff_against: "ten opzichte van revisie", "against revision";
    diff_none: "Geen eerdere revisie om mee te vergelijken.", "No earlier revision to compare with.";
    before: "Voor", "Before";
    after: "Na", "After";
    change: "Wijziging", "Change";
    unchanged: "ongewijzigd", "unchanged";
    counted: "telt mee in de overzichten", "counted in the views";
    withdraw: "Intrekken", "Withdraw";
    withdraw_text: "Trek de inzending in: haar cijfers tellen dan niet meer mee.", "Withdraw the submission: its figures no longer count.";
    accept: "Accepteren", "Accept";
    return_: "Terugsturen", "Return";
    return_reason: "Reden voor terugsturen", "Reason for returning";
    returned_because: "Teruggestuurd met als reden", "Returned with the reason";
    review_title: "Te beoordelen", "To review";
    review_intro: "Ingediende revisies, die met waarschuwingen eerst.", "Submitted revisions, those with warnings first.";
    review_empty: "Er wacht niets op beoordeling.", "Nothing waits for review.";
    warning_count: "Waarschuwingen", "Warnings";
    back: "Terug naar het overzicht", "Back to the overview";
    s_draft: "concept", "draft";
    s_submitted: "ingediend", "submitted";
    s_accepted: "geaccepteerd", "accepted";
    s_returned: "teruggestuurd", "returned";
    s_withdrawn: "ingetrokken", "withdrawn";
    r_team: "wijkteam", "wijkteam";
    r_associatie: "Associatie", "Associatie";
    r_admin: "beheerder", "admin";
    c_added: "nieuw", "added";
    c_removed: "vervallen", "removed";
    c_changed: "gewijzigd", "changed";
    a_posted: "geplaatst", "posted";
}

impl PortalTexts {
    pub fn of(lang: Lang) -> &'static PortalTexts {
        match lang {
            Lang::Nl => &NL,
            Lang::En => &EN,
        }
    }

    pub fn status(&self, status: crate::submissions::Status) -> &'static str {
        use crate::submissions::Status;
        match status {
            Status::Draft => self.s_draft,
            Status::Submitted => self.s_submitted,
            Status::Accepted => self.s_accepted,
            Status::Returned => self.s_returned,
            Status::Withdrawn => self.s_withdrawn,
        }
    }

    pub fn role(&self, role: crate::auth::Role) -> &'static str {
        use crate::auth::Role;
        match role {
            Role::Team => self.r_team,
            Role::Associatie => self.r_associatie,
            Role::Admin => self.r_admin,
        }
    }

    pub fn action(&self, action: crate::submissions::Action) -> &'static str {
        use crate::submissions::Action;
        match action {
            Action::Posted => self.a_posted,
            Action::Submitted => self.s_submitted,
            Action::Accepted => self.s_accepted,
            Action::Returned => self.s_returned,
            Action::Withdrawn => self.s_withdrawn,
        }
    }

    pub fn change(&self, change: crate::submissions::ChangeKind) -> &'static str {
        use crate::submissions::ChangeKind;
        match change {
            ChangeKind::Added => self.c_added,
            ChangeKind::Removed => self.c_removed,
            ChangeKind::Changed => self.c_changed,
        }
    }
}
