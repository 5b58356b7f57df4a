//! What every page is built with, the house's and the vendor's alike: the
//! hydration signals, the licence gate and the loading, error and time displays. Nothing here
//! knows which pages exist.

pub mod hydration;
pub mod license;
pub mod status;
