//! The answer for any path nothing else claims.

use crate::error::Error;

pub(crate) async fn not_found() -> Error {
    Error::NotFound
}
