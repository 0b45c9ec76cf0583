//! Reusable view pieces.

pub mod api_clients;
pub mod claims_table;
pub mod countdown;
pub mod guard;
pub mod layout;
pub mod status_pages;
pub mod user_sessions;
