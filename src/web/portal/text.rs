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
    show: "Tonen", "Show";
    yes: "ja", "yes";
    no: "nee", "no";
    back_to_periods: "Naar de perioden van de organisatie", "To the organisation's periods";
    nav_benchmark: "Benchmark", "Benchmark";
    nav_completeness: "Volledigheid", "Completeness";
    nav_admin: "Beheer", "Registry and access";
    nav_users: "Accounts", "Accounts";
    bm_title: "Benchmark", "Benchmark";
    bm_intro: "Per indicator de eigen waarde naast die van vergelijkbare teams (zelfde soort team en grootteklasse) en het landelijke cijfer. Cijfers van andere organisaties zie je zoals je rol ze mag zien: te kleine of herleidbare groepen zijn afgeschermd (× en de code).", "Per indicator the organisation's own value beside that of comparable teams (same team type and size class) and the national figure. Other organisations' figures are shown as your role may see them: groups that are too small or could be traced back are withheld (× and the code).";
    bm_none: "Voor dit jaar zijn er geen eigen cijfers om te vergelijken.", "There are no figures of its own to compare for this year.";
    bm_chart_alt: "Staafdiagram van de eigen waarde, vergelijkbare teams en landelijk; de tabel ernaast heeft dezelfde cijfers.", "Bar chart of the own value, comparable teams and national; the table beside it has the same figures.";
    bm_who: "Vergelijking", "Comparison";
    bm_organisations: "Organisaties", "Organisations";
    bm_quartiles: "Middelste helft", "Middle half";
    bm_without: "Zonder benchmark", "Without a benchmark";
    bm_legend: "× A: te weinig organisaties of respondenten; × M: één organisatie overheerst; × D: afgeschermd om een ander cijfer te beschermen; × N: niet gepubliceerd voor jouw rol.", "× A: too few organisations or respondents; × M: one organisation dominates; × D: withheld to protect another figure; × N: not published to your role.";
    bm_own: "Eigen waarde", "Own value";
    bm_peers: "Vergelijkbare teams", "Comparable teams";
    bm_national: "Landelijk", "National";
    bm_better_than: "Beter dan", "Better than";
    bm_of_peers: "van de vergelijkbare teams.", "of the comparable teams.";
    bm_no_own: "geen eigen cijfer in dit jaar", "no figure of its own in this year";
    cm_title: "Volledigheid", "Completeness";
    cm_intro: "Welke organisatie welke indicator aanleverde (getelde cijfers in de periode), per organisatie de dekking, wat ontbreekt en de stand van de inzending.", "Which organisation delivered which indicator (counted figures in the period), per organisation the coverage, what is missing and the state of its submission.";
    cm_organisations: "Actieve organisaties", "Active organisations";
    cm_overall: "Dekking", "Coverage";
    cm_legend: "✓ aangeleverd, ✗ ontbreekt, · geldt niet voor dit soort team. Te laat: de periode is voorbij en er is geen geaccepteerde inzending.", "✓ delivered, ✗ missing, · does not apply to this team type. Late: the period has ended and there is no accepted submission.";
    cm_not_ended: "Deze periode loopt nog: niets is te laat.", "This period has not ended: nothing is late.";
    cm_coverage: "Dekking", "Coverage";
    cm_missing: "Ontbreekt", "Missing";
    cm_late: "te laat", "late";
    cm_reported: "aangeleverd", "delivered";
    cm_missing_one: "ontbreekt", "missing";
    cm_na: "geldt niet", "does not apply";
    cm_per_indicator: "Per indicator", "Per indicator";
    cm_columns: "De kolommen", "The columns";
    adm_title: "Beheer", "Registry and access";
    adm_organisations: "Organisaties", "Organisations";
    adm_organisations_intro: "Alle organisaties in het register. Wijzigen gaat via de API of de opdrachtregel.", "Every organisation in the registry. Changes go through the API or the command line.";
    adm_clients: "API-clients", "API clients";
    adm_users: "Accounts", "Accounts";
    adm_audit: "Auditlog", "Audit log";
    adm_team_type: "Soort team", "Team type";
    adm_size: "Grootteklasse", "Size class";
    adm_municipalities: "Gemeenten", "Municipalities";
    adm_active: "Actief", "Active";
    adm_name: "Naam", "Name";
    adm_created: "Aangemaakt", "Created";
    adm_rotated: "Geheim vernieuwd", "Secret renewed";
    adm_client_created: "Client aangemaakt", "Client created";
    adm_secret_once: "Kopieer het geheim nu: het wordt alleen als hash bewaard en is hierna niet meer te zien.", "Copy the secret now: only its hash is kept and it cannot be shown again.";
    adm_client_new: "Nieuwe client voor een wijkteam", "New client for a wijkteam";
    adm_client_new_intro: "Voor het registratiesysteem van een organisatie (rol wijkteam). Clients van de Associatie en beheerders maak je alleen op de server: basisset client create.", "For an organisation's registration system (role wijkteam). Associatie and admin clients are created on the server only: basisset client create.";
    adm_create: "Aanmaken", "Create";
    adm_invited: "Link voor", "Link for";
    adm_link_once: "Geef deze link door; hij werkt één keer en wordt niet opnieuw getoond", "Pass this link on; it works once and is not shown again";
    adm_until: "geldig tot", "valid until";
    adm_password_set: "Wachtwoord", "Password";
    adm_last_sign_in: "Laatst ingelogd", "Last signed in";
    adm_deactivate: "Deactiveren", "Deactivate";
    adm_coordinator: "coördinator", "coordinator";
    adm_coordinator_text: "Coördinator: mag de accounts van het eigen team beheren", "Coordinator: may manage the accounts of its own team";
    adm_invite: "Uitnodigen", "Invite";
    adm_invite_intro: "Een account voor iemand van een wijkteam. Accounts van de Associatie en beheerders maak je alleen op de server: basisset user invite.", "An account for someone of a wijkteam. Associatie and admin accounts are created on the server only: basisset user invite.";
    adm_audit_intro: "Wie wat wijzigde aan organisaties, clients en accounts, nieuwste eerst. Regels:", "Who changed what about organisations, clients and accounts, newest first. Entries:";
    adm_page: "pagina", "page";
    adm_pages: "Pagina's", "Pages";
    adm_previous: "Vorige pagina", "Previous page";
    adm_next: "Volgende pagina", "Next page";
    adm_subject: "Onderwerp", "Subject";
    adm_record: "gegevens", "record";
    adm_reset: "Nieuwe link", "New link";
    adm_actions: "Acties", "Actions";
    nav_analysis: "Analyse", "Analysis";
    an_title: "Analyse", "Analysis";
    an_intro: "De grafieken, tabellen en kaart van de openbare indicatorpagina, maar met de exacte cijfers zoals de Associatie ze ziet. Per cel: de signalen (weinig organisaties, kleine steekproef) en wat het publiek in plaats daarvan ziet.", "The charts, tables and map of the public indicator page, but with the exact figures as the Associatie sees them. Per cell: the flags (few organisations, small sample) and what the public sees instead.";
    an_indicator: "Indicator", "Indicator";
    an_public_page: "Deze indicator op de openbare site", "This indicator on the public site";
    an_legend: "Publiek ziet: × met de code (A, M, D, N) en de reden betekent dat het publiek op die plek geen waarde ziet; ‘dezelfde waarde’ dat het deze waarde ook ziet.", "The public sees: × with the code (A, M, D, N) and the reason means the public gets no value there; ‘the same value’ that it sees this value too.";
    an_breakdowns: "Uitsplitsingen", "Breakdowns";
    an_map: "Kaart", "Map";
    fe_title: "Cijfers invoeren", "Enter figures";
    fe_link: "Cijfers invoeren met een formulier", "Enter figures with a form";
    fe_intro: "Per transformatiedoel een formulier met elke indicator die voor dit team geldt. Laat een indicator leeg als je hem niet aanlevert. Controleren toont elke fout bij zijn veld en elke waarschuwing, zonder iets op te slaan; daarna opslaan als concept of indienen. Cijfers van de andere doelen in de laatste versie van de periode blijven zoals ze zijn.", "Per transformation goal a form with every indicator that applies to this team. Leave an indicator empty if you do not report it. Check shows every error at its field and every warning, without storing anything; then save as a draft or submit. Figures of the other goals in the period's latest revision stay as they are.";
    fe_goals: "Transformatiedoelen", "Transformation goals";
    fe_respondents: "Respondenten", "Respondents";
    fe_cases: "Aantal gevallen", "Cases";
    fe_errors_intro: "Er is niets opgeslagen. Elke fout staat ook bij zijn veld.", "Nothing was stored. Each error is also shown at its field.";
    fe_period_hint: "Kies het doel en de periode; het formulier toont de cijfers van de laatste versie van die periode.", "Choose the goal and the period; the form shows the figures of that period's latest revision.";
    fe_empty_goal: "Voor dit soort team geldt geen indicator van dit doel in deze periode.", "No indicator of this goal applies to this team type in this period.";
    fe_checked: "Gecontroleerd: er is niets opgeslagen. Alles in orde; sla op als concept of dien in.", "Checked: nothing was stored. Everything is in order; save as a draft or submit.";
    fe_per_municipality: "cijfers per gemeente van deze indicator in de laatste versie gaan mee. Een cijfer voor de hele organisatie ernaast wordt geweigerd (mixed_breakdown): vul hier dan niets in, of lever via een upload.", "figures per municipality of this indicator in the latest revision are carried along. An organisation-wide figure beside them is refused (mixed_breakdown): leave this empty, or deliver by upload.";
    fe_other: "Elders in de inzending", "Elsewhere in the submission";
    fe_carried: "cijfers van andere doelen uit de laatste versie gaan mee", "figures of other goals from the latest revision are carried along";
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
