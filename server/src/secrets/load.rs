//! Loading the keyring from the configured source. In development, a key is
//! generated on first run into `data/dev-encryption.key` (mode 0600) so the
//! app starts with no set-up; production never generates one (config/).

use std::path::Path;

use secrecy::{ExposeSecret, SecretString};

use super::{AppKey, Keyring};
use crate::{
    config::KeySource,
    error::{Error, Result},
};

/// The keyring that seals shared secrets (`APP_ENCRYPTION_KEY` and friends).
pub fn load_keyring(source: &KeySource, previous: &[SecretString]) -> Result<Keyring> {
    let (primary, previous) = load_keys(source, previous, "APP_ENCRYPTION_KEY")?;
    Ok(Keyring::new(primary, previous))
}

/// A primary key from `source` and the older keys from `previous`; `name` is
/// the variable, for messages.
pub fn load_keys(source: &KeySource, previous: &[SecretString], name: &str) -> Result<(AppKey, Vec<AppKey>)> {
    let primary = match source {
        KeySource::Inline(text) => {
            AppKey::from_base64(text.expose_secret()).map_err(|e| Error::Config(format!("{name}: {e}")))?
        }
        KeySource::File(path) => read_key_file(path, &format!("{name}_FILE"))?,
        KeySource::GeneratedDev(path) => {
            if !path.exists() {
                write_new_key(path)?;
                tracing::warn!(path = %path.display(), "generated a development key; set {name} in production");
            }
            read_key_file(path, "development key file")?
        }
    };
    let previous = previous
        .iter()
        .map(|text| {
            AppKey::from_base64(text.expose_secret()).map_err(|e| Error::Config(format!("{name}_PREVIOUS: {e}")))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((primary, previous))
}

fn read_key_file(path: &Path, what: &str) -> Result<AppKey> {
    let text = zeroize::Zeroizing::new(
        std::fs::read_to_string(path).map_err(|e| Error::Config(format!("{what} {}: {e}", path.display())))?,
    );
    AppKey::from_base64(&text).map_err(|e| Error::Config(format!("{what} {}: {e}", path.display())))
}

fn write_new_key(path: &Path) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let key = zeroize::Zeroizing::new(AppKey::generate_base64()?);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    use std::io::Write;
    let mut file = options.open(path)?;
    file.write_all(key.as_bytes())?;
    file.write_all(b"\n")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_development_key_is_generated_once_and_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data/dev.key");
        let source = KeySource::GeneratedDev(path.clone());
        let first = load_keyring(&source, &[]).unwrap();
        let second = load_keyring(&source, &[]).unwrap();
        assert_eq!(first.primary().id(), second.primary().id());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }

    #[test]
    fn a_short_or_missing_key_refuses_to_start_without_echoing_it() {
        let short = KeySource::Inline(SecretString::from("c2hvcnQ="));
        let err = load_keyring(&short, &[]).unwrap_err().to_string();
        assert!(err.contains("32 bytes") && !err.contains("c2hvcnQ"), "{err}");
        let missing = KeySource::File("/nonexistent/key".into());
        assert!(load_keyring(&missing, &[]).is_err());
    }
}
