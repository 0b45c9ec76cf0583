//! Reusable view pieces.

pub mod guard;
pub mod layout;
pub mod status_pages;
