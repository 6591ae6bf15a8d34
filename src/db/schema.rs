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

diesel::allow_tables_to_appear_in_same_query!(
    catalogue_versions,
    transformation_goals,
    indicators,
    provinces,
    municipalities,
);
