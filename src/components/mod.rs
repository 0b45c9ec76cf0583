//! Reusable view pieces.

pub mod api_clients;
pub mod claims_table;
pub mod countdown;
pub mod layout;
pub mod site_info;
pub mod status_pages;
pub mod time_text;
pub mod user_sessions;
pub mod webhook_events;
