//! Limits of the wire formats that the domain's input types, shared by REST and GraphQL, must
//! respect whichever transport reads them.

/// GraphQL's `Int` is a signed 32-bit integer, while the input types shared with REST hold their
/// whole numbers as `i64`: async-graphql would take any 64-bit number for them. The field
/// validator `#[graphql(validator(custom = "crate::wire::graphql_int"))]` refuses what `Int`
/// cannot hold, as the GraphQL specification asks, before any domain code runs. (GraphQL
/// arguments are declared `i32` instead.)
pub fn graphql_int(value: &i64) -> Result<(), String> {
    if i32::try_from(*value).is_ok() {
        Ok(())
    } else {
        Err(format!(
            "{value} is not a GraphQL Int (a signed 32-bit integer, {}..{})",
            i32::MIN,
            i32::MAX
        ))
    }
}
