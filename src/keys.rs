//! The secret that person keys are made with. A person key in the outputs (and a name hash in
//! the ledger) is an HMAC-SHA-256 of the unkeyed hash under a secret the office keeps, so a key
//! beside a masked ID cannot be turned back into the ID by hashing every possible ID.
//!
//! The secret comes from `RECON_KEY_SECRET`, else from the key file `[keys] file` names, else
//! from a key file beside the ledger (`ledger.key` for `ledger.sqlite`); a key file is made on
//! first use, owner-only. A run with none of these keys its persons with a secret of its own,
//! so its keys mean something within its outputs only.

use std::fmt::Write as _;
use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The environment variable that carries the secret (at least 32 characters).
pub const SECRET_VARIABLE: &str = "RECON_KEY_SECRET";
const SHORTEST_SECRET: usize = 32;

/// Why no secret could be had. Each names where it looked; none quotes the secret.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{SECRET_VARIABLE} is not valid UTF-8")]
    NotUtf8,
    #[error("{place}: a key secret needs at least {SHORTEST_SECRET} characters")]
    TooShort { place: String },
    #[error("{path}: {doing} the key file: {source}")]
    File {
        path: String,
        doing: &'static str,
        source: std::io::Error,
    },
    #[error("{path}: the key file is not a regular file")]
    NotAFile { path: String },
    #[error("{path}: the key file can be read by others than its owner; `chmod 600` it")]
    Exposed { path: String },
    #[error("the system's random source failed: {0}")]
    NoRandomness(String),
}

#[derive(Clone)]
pub struct KeySecret {
    mac: Hmac<Sha256>,
    origin: KeyOrigin,
}

#[derive(Clone, Debug, PartialEq)]
pub enum KeyOrigin {
    Environment,
    File { path: PathBuf, made: bool },
    PerRun,
}

impl KeySecret {
    /// The secret for a run: the environment's, else `configured`'s, else the file beside the
    /// ledger, else one made for this run alone.
    pub fn resolve(
        configured: Option<&Path>,
        ledger: Option<&Path>,
    ) -> Result<KeySecret, KeyError> {
        if let Some(text) = std::env::var_os(SECRET_VARIABLE) {
            let text = text.into_string().map_err(|_| KeyError::NotUtf8)?;
            return KeySecret::new(&text);
        }
        let beside_ledger = ledger.map(|l| l.with_extension("key"));
        match configured.map(Path::to_path_buf).or(beside_ledger) {
            Some(path) => KeySecret::from_file(&path),
            None => KeySecret::per_run(),
        }
    }

    /// A secret of this run's own, from the system's random source.
    pub fn per_run() -> Result<KeySecret, KeyError> {
        KeySecret::from_text(&random_secret()?, KeyOrigin::PerRun)
    }

    /// A secret given as text, as `RECON_KEY_SECRET` gives it.
    pub fn new(text: &str) -> Result<KeySecret, KeyError> {
        KeySecret::from_text(text, KeyOrigin::Environment)
    }

    fn from_text(text: &str, origin: KeyOrigin) -> Result<KeySecret, KeyError> {
        let text = text.trim();
        if text.chars().count() < SHORTEST_SECRET {
            let place = match &origin {
                KeyOrigin::File { path, .. } => path.display().to_string(),
                _ => SECRET_VARIABLE.to_string(),
            };
            return Err(KeyError::TooShort { place });
        }
        let mac = Hmac::<Sha256>::new_from_slice(text.as_bytes())
            .expect("HMAC takes a key of any length");
        Ok(KeySecret { mac, origin })
    }

    /// Reads the key file, or makes it (owner-only) when it does not exist.
    fn from_file(path: &Path) -> Result<KeySecret, KeyError> {
        let shown = || path.display().to_string();
        let file_error = |doing| {
            move |source| KeyError::File {
                path: path.display().to_string(),
                doing,
                source,
            }
        };
        let made = match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
        {
            Ok(mut file) => {
                let written = writeln!(file, "{}", random_secret()?).and_then(|_| file.sync_all());
                written.map_err(file_error("cannot write"))?;
                true
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => false,
            Err(e) => return Err(file_error("cannot make")(e)),
        };
        let metadata = std::fs::metadata(path).map_err(file_error("cannot read"))?;
        if !metadata.is_file() {
            return Err(KeyError::NotAFile { path: shown() });
        }
        if metadata.permissions().mode() & 0o077 != 0 {
            return Err(KeyError::Exposed { path: shown() });
        }
        let text = std::fs::read_to_string(path).map_err(file_error("cannot read"))?;
        let origin = KeyOrigin::File {
            path: path.to_path_buf(),
            made,
        };
        KeySecret::from_text(&text, origin)
    }

    pub fn origin(&self) -> &KeyOrigin {
        &self.origin
    }

    /// The first 8 bytes of the HMAC of `text`.
    pub fn digest(&self, text: &[u8]) -> [u8; 8] {
        let mut mac = self.mac.clone();
        mac.update(text);
        let mut hash = [0; 8];
        hash.copy_from_slice(&mac.finalize().into_bytes()[..8]);
        hash
    }

    /// A keyed 64-bit hash of 64-bit values (SipHash-2-4 under a key drawn from the secret):
    /// fast enough for every row's blocking keys, and not undone by hashing every name and date.
    pub fn value_hasher(&self) -> impl Fn(u64) -> u64 + Sync {
        use std::hash::Hasher;
        let mut key = [0; 16];
        key[..8].copy_from_slice(&self.digest(b"recon-value-hash-v1-a"));
        key[8..].copy_from_slice(&self.digest(b"recon-value-hash-v1-b"));
        move |value| {
            let mut hasher = siphasher::sip::SipHasher24::new_with_key(&key);
            hasher.write_u64(value);
            hasher.finish()
        }
    }

    /// Names the secret without revealing it: two runs (or a run and a ledger) with the same
    /// fingerprint used the same secret.
    pub fn fingerprint(&self) -> String {
        hex(&self.digest(b"recon-key-fingerprint-v1"))
    }

    /// The keyed form of an unkeyed person key (`P`/`R` and 16 hex digits): the same letter,
    /// then the keyed hash of the whole unkeyed key.
    pub fn keyed_person_key(&self, unkeyed: &str) -> String {
        let kind = unkeyed.get(..1).unwrap_or_default();
        format!("{kind}{}", hex(&self.digest(unkeyed.as_bytes())))
    }

    /// The keyed hash of any text (the values behind a gap, say), 16 hex digits.
    pub fn text_hash(&self, text: &str) -> String {
        hex(&self.digest(text.as_bytes()))
    }

    /// The keyed hash of a name, which pairs a corrected ID's items in the ledger.
    pub fn name_hash(&self, name: &str) -> String {
        self.keyed_name_hash(&unkeyed_name_hash(name))
    }

    /// The keyed form of a name hash an older ledger holds unkeyed.
    pub fn keyed_name_hash(&self, unkeyed: &str) -> String {
        match unkeyed.is_empty() {
            true => String::new(),
            false => hex(&self.digest(unkeyed.as_bytes())),
        }
    }

    /// Where the secret came from, for the run's manifest and log.
    pub fn describe(&self) -> String {
        match &self.origin {
            KeyOrigin::Environment => SECRET_VARIABLE.to_string(),
            KeyOrigin::File { path, made: false } => format!("key file {}", path.display()),
            KeyOrigin::File { path, made: true } => {
                format!("key file {} (made by this run)", path.display())
            }
            KeyOrigin::PerRun => "this run's own (keys hold within this run's outputs)".into(),
        }
    }
}

fn unkeyed_name_hash(name: &str) -> String {
    hex(&Sha256::digest(format!("recon-name-v1:{name}").as_bytes())[..8])
}

fn random_secret() -> Result<String, KeyError> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).map_err(|e| KeyError::NoRandomness(e.to_string()))?;
    Ok(hex(&bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut text, b| {
        let _ = write!(text, "{b:02x}");
        text
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(text: &str) -> KeySecret {
        KeySecret::from_text(text, KeyOrigin::Environment).unwrap()
    }

    #[test]
    fn keys_depend_on_the_secret_and_keep_their_letter() {
        let one = secret("one secret of at least thirty-two chars");
        let two = secret("two secret of at least thirty-two chars");
        let key = one.keyed_person_key("P0123456789abcdef");
        assert_eq!(key, one.keyed_person_key("P0123456789abcdef"));
        assert_ne!(key, two.keyed_person_key("P0123456789abcdef"));
        assert_ne!(key, one.keyed_person_key("P0123456789abcdee"));
        assert!(key.starts_with('P') && key.len() == 17);
        assert!(key[1..].chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(one.fingerprint(), two.fingerprint());
        assert_eq!(
            one.name_hash("张三"),
            one.keyed_name_hash(&unkeyed_name_hash("张三"))
        );
        assert_eq!(one.keyed_name_hash(""), "");
    }

    #[test]
    fn a_short_secret_is_refused() {
        let short = KeySecret::from_text("  too short  ", KeyOrigin::Environment);
        let refused = short.err().unwrap().to_string();
        assert_eq!(
            refused,
            "RECON_KEY_SECRET: a key secret needs at least 32 characters"
        );
    }

    #[test]
    fn a_key_file_is_made_owner_only_then_read_back() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("recon.key");
        let made = KeySecret::from_file(&path).unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let read = KeySecret::from_file(&path).unwrap();
        assert_eq!(made.fingerprint(), read.fingerprint());
        assert!(matches!(read.origin(), KeyOrigin::File { made: false, .. }));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let open = KeySecret::from_file(&path).err().unwrap();
        assert!(matches!(open, KeyError::Exposed { .. }), "{open}");
        assert!(open.to_string().contains("chmod 600"), "{open}");
    }

    #[test]
    fn per_run_secrets_differ() {
        let (a, b) = (KeySecret::per_run().unwrap(), KeySecret::per_run().unwrap());
        assert_ne!(a.fingerprint(), b.fingerprint());
    }
}
