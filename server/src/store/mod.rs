//! Database access, and only that: every SQL statement of the app lives under
//! this module. SQLite is the embedded default; PostgreSQL serves apps that
//! run as several instances. Both share the same SQL text where they can.

mod database;

pub use database::Database;
