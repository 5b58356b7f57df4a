//! Pages, one file each.

pub mod admin;
pub mod app_shell;
pub mod help;
pub mod home;
pub mod hydration;
pub mod not_found;
pub mod notes;
pub mod overview;
pub mod status;
