//! basisset: wijkteam organisations post periodic figures on a shared set of indicators (the
//! basisset); the Associatie Wijkteams and the public query cross-municipal views.
//!
//! Domain modules own their model, validation and queries: [`catalogue`], [`registry`].
//! [`http`] (REST), [`graphql`] and [`web`] (the public pages) are thin transports over them, sharing only [`transport`]
//! (the caller, bodies, assets); [`server`] assembles them into one application. [`error::AppError`] is the one
//! error type; [`db`] hides the two database backends.

#[macro_use]
pub mod text_enum;

pub mod app;
pub mod audit;
pub mod auth;
pub mod bench;
pub mod catalogue;
pub mod cli;
pub mod config;
pub mod dates;
pub mod db;
pub mod demo;
pub mod disclosure;
pub mod error;
pub mod free_text;
pub mod graphql;
pub mod http;
pub mod net;
pub mod paging;
pub mod period;
pub mod registry;
pub mod rollups;
pub mod server;
pub mod sheets;
pub mod submissions;
pub mod transport;
pub mod users;
pub mod views;
pub mod web;
pub mod wire;
