//! Server functions, grouped by what they serve. Their bodies run on the
//! server only; the browser gets a generated HTTP client.

pub mod app_info;
