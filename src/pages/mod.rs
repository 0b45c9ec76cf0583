//! One module per route.

pub mod about;
pub mod dashboard;
pub mod home;
pub mod login;
pub mod logout;
pub mod not_found;
pub mod sessions;
pub mod settings;
