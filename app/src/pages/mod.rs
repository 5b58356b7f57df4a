//! Pages, one file each.

pub(crate) mod activity; // demo
pub(crate) mod admin;
pub(crate) mod app_shell;
pub(crate) mod help;
pub(crate) mod home;
pub(crate) mod issue_link; // demo
pub(crate) mod not_found;
pub(crate) mod notes; // demo
pub(crate) mod overview;
pub(crate) mod share; // demo
pub use crate::ui::{hydration, status};
