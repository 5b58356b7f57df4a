//! Pages, one file each.

pub(crate) mod activity;
pub(crate) mod admin;
pub(crate) mod app_shell;
pub(crate) mod help;
pub(crate) mod home;
pub(crate) mod issue_link;
pub(crate) mod not_found;
pub(crate) mod notes;
pub(crate) mod overview;
pub(crate) mod share;
pub use crate::ui::{hydration, status};
