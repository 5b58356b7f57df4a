//! Pages, one file each.

pub mod home;
pub mod not_found;
