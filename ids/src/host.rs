//! The names Atlassian gives a tenant and its users: a Connect clientKey, a
//! Forge installationId, a site's cloudId, its base URL, a user's accountId.
//! Each is read as text (`Deref<Target = str>`) and stored as text. A value
//! is wrapped where it enters: a verified token or payload, or a row the app
//! itself wrote.

/// One identifier type: a `String` that says what it names.
macro_rules! host_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[cfg_attr(feature = "sqlx", derive(sqlx::Type), sqlx(transparent))]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// A value that came from a verified token or payload, or from the store.
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }

        impl PartialEq<$name> for &str {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }
    };
}

host_id!(
    /// A Connect installation's `clientKey`: a tenant born on Forge has none.
    ClientKey
);
host_id!(
    /// A Forge installation's id (`ari:cloud:ecosystem::installation/…`).
    InstallationId
);
host_id!(
    /// A site's stable Forge id, the same for every app installed there.
    CloudId
);
host_id!(
    /// A site's URL (Connect's `baseUrl`, Forge's `siteUrl`); it changes when the site is renamed.
    BaseUrl
);
host_id!(
    /// A user's Atlassian account id: a token's `sub`, a FIT's `principal`.
    AccountId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_name_reads_as_its_text_and_compares_with_it() {
        let key = ClientKey::new("ck-1");
        assert_eq!(key, "ck-1");
        assert_eq!(key.len(), 4, "read as text");
        assert_eq!(format!("{key}"), "ck-1");
        assert_eq!(
            serde_json::to_string(&BaseUrl::new("https://acme.atlassian.net")).unwrap(),
            "\"https://acme.atlassian.net\""
        );
    }
}
