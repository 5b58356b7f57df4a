//! Reading the environment's variables: each is named once, where it is
//! read, and a value that does not parse is an error naming it.

use std::{fmt::Display, str::FromStr, time::Duration};

use crate::{
    connect::host_allowlist::HostAllowlist,
    error::{Error, Result},
};

/// The variables, from the process environment or a test's map. A value is
/// trimmed; an empty one counts as unset.
pub(super) struct Vars<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
}

impl<'a> Vars<'a> {
    pub(super) fn new(lookup: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Self { lookup }
    }

    pub(super) fn get(&self, name: &str) -> Option<String> {
        (self.lookup)(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
    }

    /// `name` parsed, or `default` when it is unset.
    pub(super) fn parse<T: FromStr>(&self, name: &str, default: &str) -> Result<T>
    where
        T::Err: Display,
    {
        let raw = self.get(name).unwrap_or_else(|| default.into());
        raw.parse().map_err(|e| Error::Config(format!("{name} {raw:?}: {e}")))
    }

    /// `name` parsed, or None when it is unset.
    pub(super) fn parse_optional<T: FromStr>(&self, name: &str) -> Result<Option<T>>
    where
        T::Err: Display,
    {
        let Some(raw) = self.get(name) else { return Ok(None) };
        raw.parse().map(Some).map_err(|e| Error::Config(format!("{name} {raw:?}: {e}")))
    }

    /// A count that must be at least one.
    pub(super) fn positive<T: FromStr + PartialOrd + Default + Display>(&self, name: &str, default: &str) -> Result<T>
    where
        T::Err: Display,
    {
        let value: T = self.parse(name, default)?;
        if value > T::default() {
            Ok(value)
        } else {
            Err(Error::Config(format!("{name} must be at least 1, not {value}")))
        }
    }

    /// A whole number of seconds, at least one.
    pub(super) fn secs(&self, name: &str, default: &str) -> Result<Duration> {
        self.positive::<u64>(name, default).map(Duration::from_secs)
    }

    pub(super) fn flag(&self, name: &str) -> Result<bool> {
        match self.get(name).map(|v| v.to_ascii_lowercase()).as_deref() {
            None | Some("false" | "0" | "no" | "off") => Ok(false),
            Some("true" | "1" | "yes" | "on") => Ok(true),
            Some(other) => Err(Error::Config(format!("{name} must be true or false, not {other:?}"))),
        }
    }

    pub(super) fn allowlist(&self, name: &str, default: &str) -> Result<HostAllowlist> {
        let raw = self.get(name).unwrap_or_else(|| default.into());
        HostAllowlist::parse(&raw).map_err(|e| Error::Config(format!("{name}: {e}")))
    }
}
