//! The vendor's handle on its own tables, bound to one verified tenant:
//! every statement must use `$1`, which is always the tenant's id, so a
//! handler cannot read or write another tenant's rows by mistake. Further
//! arguments are text, bound as `$2`, `$3`, … The same SQL must suit SQLite
//! and PostgreSQL (plain `$n` placeholders do).

use ids::TenantId;

use super::Database;
use crate::error::{Error, Result};

pub struct TenantDb<'a> {
    db: &'a Database,
    tenant_id: &'a TenantId,
}

impl<'a> TenantDb<'a> {
    /// For a tenant the caller has verified (a handler gets its own from
    /// `HandlerContext::tenant_db`).
    pub fn new(db: &'a Database, tenant_id: &'a TenantId) -> Self {
        Self { db, tenant_id }
    }

    pub fn tenant_id(&self) -> &TenantId {
        self.tenant_id
    }

    /// Runs `sql` (`$1`: the tenant's id; `$2…`: `args`); returns the rows it changed.
    pub async fn execute(&self, sql: &str, args: &[&str]) -> Result<u64> {
        bound_to_tenant(sql)?;
        Ok(on_pool!(self.db, pool => {
            let mut query = sqlx::query(sql).bind(self.tenant_id.as_str());
            for arg in args {
                query = query.bind(*arg);
            }
            query.execute(pool).await?.rows_affected()
        }))
    }

    /// The first column of each row `sql` selects, as text (`$1`: the tenant's id; `$2…`: `args`).
    pub async fn column(&self, sql: &str, args: &[&str]) -> Result<Vec<String>> {
        bound_to_tenant(sql)?;
        Ok(on_pool!(self.db, pool => {
            let mut query = sqlx::query_scalar(sql).bind(self.tenant_id.as_str());
            for arg in args {
                query = query.bind(*arg);
            }
            query.fetch_all(pool).await?
        }))
    }
}

/// A statement that never names `$1` outside its quotes and comments is not
/// bound to the tenant: refused. A guard against mistakes (a forgotten
/// `WHERE tenant_id = $1`), not a sandbox: the SQL is the vendor's own.
fn bound_to_tenant(sql: &str) -> Result<()> {
    let code = code_of(sql);
    let uses_first = code.match_indices("$1").any(|(at, _)| !code[at + 2..].starts_with(|c: char| c.is_ascii_digit()));
    if uses_first { Ok(()) } else { Err(Error::BadRequest("a tenant's statement must use $1, the tenant's id".into())) }
}

/// `sql` without its string literals, quoted names and comments.
fn code_of(sql: &str) -> String {
    let (mut code, mut chars) = (String::new(), sql.chars().peekable());
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' => {
                // To the closing quote; a doubled quote inside is skipped the same way.
                for inner in chars.by_ref() {
                    if inner == c {
                        break;
                    }
                }
                code.push(' ');
            }
            '-' if chars.peek() == Some(&'-') => {
                for inner in chars.by_ref() {
                    if inner == '\n' {
                        break;
                    }
                }
                code.push(' ');
            }
            '/' if chars.peek() == Some(&'*') => {
                let mut previous = ' ';
                for inner in chars.by_ref() {
                    if previous == '*' && inner == '/' {
                        break;
                    }
                    previous = inner;
                }
                code.push(' ');
            }
            other => code.push(other),
        }
    }
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_statement_must_name_the_tenant() {
        assert!(bound_to_tenant("SELECT tag FROM vendor_tags WHERE tenant_id = $1").is_ok());
        assert!(bound_to_tenant("INSERT INTO t (tenant_id, tag) VALUES ($1, $2)").is_ok());
        assert!(bound_to_tenant("SELECT tag FROM vendor_tags").is_err());
        assert!(bound_to_tenant("SELECT tag FROM vendor_tags WHERE tenant_id = $10").is_err(), "$10 is not $1");
        assert!(bound_to_tenant("SELECT tag FROM vendor_tags WHERE tag = $2 -- $1").is_err(), "a comment");
        assert!(bound_to_tenant("SELECT tag FROM t /* $1 */ WHERE tag = $2").is_err(), "a block comment");
        assert!(bound_to_tenant("SELECT '$1' FROM vendor_tags").is_err(), "a string");
        assert!(bound_to_tenant("SELECT 'it''s' FROM t WHERE tenant_id = $1").is_ok(), "after a doubled quote");
    }
}
