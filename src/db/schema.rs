//! Diesel table definitions, shared by both backends. Written by hand to match
//! `migrations/postgres` and `migrations/sqlite` (a test checks both chains end in the same
//! columns). Only portable types are used: Text, Integer, BigInt, Double, Bool, Date, Timestamp.

diesel::table! {
    catalogue_versions (version) {
        version -> Text,
        title -> Text,
        released_on -> Date,
        extends -> Nullable<Text>,
        checksum -> Text,
        loaded_at -> Timestamp,
    }
}

diesel::table! {
    transformation_goals (code) {
        code -> Text,
        position -> Integer,
        label_nl -> Text,
        label_en -> Text,
        description -> Text,
    }
}

diesel::table! {
    indicators (version, code) {
        version -> Text,
        code -> Text,
        goal -> Text,
        kind -> Text,
        unit -> Text,
        direction -> Text,
        period_types -> Text,
        source -> Text,
        team_types -> Text,
        label_nl -> Text,
        label_en -> Text,
        definition -> Text,
        numerator_definition -> Nullable<Text>,
        denominator_definition -> Nullable<Text>,
        counting_moment -> Text,
        retired -> Bool,
        reference -> Nullable<Text>,
        additive -> Bool,
    }
}

diesel::table! {
    provinces (code) {
        code -> Text,
        name -> Text,
    }
}

diesel::table! {
    municipalities (year, code) {
        year -> Integer,
        code -> Text,
        name -> Text,
        province_code -> Text,
        population -> BigInt,
        size_class -> Text,
    }
}

diesel::table! {
    organisations (id) {
        id -> BigInt,
        name -> Text,
        kvk -> Nullable<Text>,
        team_type -> Text,
        org_form -> Text,
        self_registration -> Bool,
        provides_help_declared -> Nullable<Bool>,
        provides_help -> Nullable<Bool>,
        provides_help_source -> Text,
        provides_help_share -> Nullable<Double>,
        primary_municipality -> Text,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    organisation_municipalities (organisation_id, municipality_code, valid_from) {
        organisation_id -> BigInt,
        municipality_code -> Text,
        valid_from -> Date,
        valid_to -> Nullable<Date>,
    }
}

diesel::table! {
    api_clients (id) {
        id -> Text,
        name -> Text,
        role -> Text,
        organisation_id -> Nullable<BigInt>,
        secret_hash -> Text,
        created_at -> Timestamp,
        created_by -> Nullable<Text>,
        secret_rotated_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    submissions (id) {
        id -> BigInt,
        organisation_id -> BigInt,
        period -> Text,
        period_type -> Text,
        period_start -> Date,
        period_end -> Date,
        latest_revision -> Integer,
        counted_revision_id -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    submission_revisions (id) {
        id -> BigInt,
        submission_id -> BigInt,
        revision -> Integer,
        kind -> Text,
        catalogue_version -> Text,
        publication -> Text,
        status -> Text,
        posted_by -> Text,
        posted_at -> Timestamp,
        figure_count -> Integer,
        warning_count -> Integer,
        return_reason -> Nullable<Text>,
    }
}

diesel::table! {
    submission_events (id) {
        id -> BigInt,
        submission_id -> BigInt,
        revision_id -> BigInt,
        action -> Text,
        actor -> Text,
        at -> Timestamp,
        reason -> Nullable<Text>,
    }
}

diesel::table! {
    figures (id) {
        id -> BigInt,
        revision_id -> BigInt,
        submission_id -> BigInt,
        organisation_id -> BigInt,
        period_type -> Text,
        period_start -> Date,
        period_end -> Date,
        catalogue_version -> Text,
        indicator -> Text,
        municipality -> Nullable<Text>,
        value -> Nullable<Double>,
        numerator -> Nullable<BigInt>,
        denominator -> Nullable<BigInt>,
        respondents -> Nullable<BigInt>,
        cases -> Nullable<BigInt>,
        note -> Nullable<Text>,
        warnings -> Nullable<Text>,
        publication -> Text,
        counted -> Bool,
    }
}

diesel::table! {
    idempotency_keys (organisation_id, key) {
        organisation_id -> BigInt,
        key -> Text,
        request_hash -> Text,
        submission_id -> BigInt,
        revision_id -> BigInt,
        response -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    data_version (id) {
        id -> Integer,
        version -> BigInt,
        registry_version -> BigInt,
    }
}

diesel::table! {
    indicator_versions (indicator, year) {
        indicator -> Text,
        year -> Integer,
        version -> BigInt,
    }
}

diesel::table! {
    figure_rollup_years (indicator, year, organisation_id, catalogue_version, period_type, publication) {
        organisation_id -> BigInt,
        indicator -> Text,
        catalogue_version -> Text,
        year -> Integer,
        period_type -> Text,
        publication -> Text,
        periods -> BigInt,
        last_start -> Date,
        figures -> BigInt,
        value_sum -> Nullable<Double>,
        numerator -> Nullable<BigInt>,
        denominator -> Nullable<BigInt>,
        respondents_weighted -> Nullable<Double>,
        respondents -> Nullable<BigInt>,
        cases_weighted -> Nullable<Double>,
        cases -> Nullable<BigInt>,
    }
}

diesel::table! {
    figure_rollups (indicator, period_start, organisation_id, period_type, period_end, catalogue_version, municipality, publication) {
        organisation_id -> BigInt,
        indicator -> Text,
        catalogue_version -> Text,
        period_type -> Text,
        period_start -> Date,
        period_end -> Date,
        municipality -> Text,
        publication -> Text,
        figures -> BigInt,
        value_sum -> Nullable<Double>,
        numerator -> Nullable<BigInt>,
        denominator -> Nullable<BigInt>,
        respondents_weighted -> Nullable<Double>,
        respondents -> Nullable<BigInt>,
        cases_weighted -> Nullable<Double>,
        cases -> Nullable<BigInt>,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        at -> Timestamp,
        actor -> Text,
        action -> Text,
        subject_type -> Text,
        subject_id -> Text,
        before -> Nullable<Text>,
        after -> Nullable<Text>,
    }
}

diesel::table! {
    /// Failed token requests per (client id, address) pair, and per address (client_id `*`).
    auth_throttle (client_id, address) {
        client_id -> Text,
        address -> Text,
        failures -> BigInt,
        first_failure_at -> Timestamp,
        last_failure_at -> Timestamp,
        blocked_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        email -> Text,
        role -> Text,
        organisation_id -> Nullable<BigInt>,
        coordinator -> Bool,
        password_hash -> Nullable<Text>,
        totp_secret -> Nullable<Text>,
        totp_pending_secret -> Nullable<Text>,
        totp_last_step -> Nullable<BigInt>,
        active -> Bool,
        created_at -> Timestamp,
        created_by -> Text,
        updated_at -> Timestamp,
        last_sign_in_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    user_invitations (token_hash) {
        token_hash -> Text,
        user_id -> BigInt,
        purpose -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    user_sessions (id_hash) {
        id_hash -> Text,
        user_id -> BigInt,
        csrf_token -> Text,
        stage -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::joinable!(submissions -> organisations (organisation_id));
diesel::joinable!(submission_revisions -> submissions (submission_id));
diesel::joinable!(figures -> organisations (organisation_id));
diesel::joinable!(organisation_municipalities -> organisations (organisation_id));
diesel::joinable!(api_clients -> organisations (organisation_id));
diesel::joinable!(users -> organisations (organisation_id));
diesel::joinable!(user_invitations -> users (user_id));
diesel::joinable!(user_sessions -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    catalogue_versions,
    transformation_goals,
    indicators,
    provinces,
    municipalities,
    organisations,
    organisation_municipalities,
    api_clients,
    submissions,
    submission_revisions,
    submission_events,
    figures,
    idempotency_keys,
    data_version,
    indicator_versions,
    figure_rollups,
    figure_rollup_years,
    audit_log,
    auth_throttle,
    users,
    user_invitations,
    user_sessions,
);
