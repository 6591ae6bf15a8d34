//! What every transport (REST in [`crate::http`], GraphQL in [`crate::graphql`], the web pages)
//! shares, so that none imports another: who the caller is (by token or, for pages, by session
//! cookie), the client's address, reading a bounded body, resources that answer 405 with
//! `Allow`, and the embedded static assets.

mod address;
pub mod assets;
mod body;
mod caller;
mod redact;
mod route;
pub mod session;

pub use address::client_address;
pub use body::read_body;
pub use caller::{Pending, authenticate, caller_of};
pub use redact::redacted_target;
pub use route::{get, resource};
