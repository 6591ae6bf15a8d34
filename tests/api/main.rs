//! Integration tests: the real HTTP app against a real database (SQLite by default, PostgreSQL
//! with BASISSET_TEST_DATABASE_URL). One binary, many modules, so the crate is linked once.

mod common;

mod accounts;
mod auth;
mod catalogue;
mod contract;
mod crash;
mod demo;
mod disclosure;
mod foundation;
mod hardening;
mod matrix;
mod portal;
mod registry;
mod rollups;
mod sheets;
mod submissions;
mod tools;
mod v2views;
mod views;
mod web;
