//! A person's key, stable across nights and departments, never the ID itself.

use sha2::{Digest, Sha256};

use crate::keys::KeySecret;

/// A person's stable key: `P` + 16 hex digits of a hash of their valid ID (the same every
/// night, never the ID itself), or `R` + a hash of the file and row of their first row. The
/// linker makes them unkeyed; `Linkage::key_with` turns them into the keyed form the outputs
/// show (see `keys`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PersonKey {
    pub(super) kind: u8,
    hash: [u8; 8],
}

impl PersonKey {
    fn of(kind: u8, text: &str) -> PersonKey {
        let digest = Sha256::digest(text.as_bytes());
        let mut hash = [0; 8];
        hash.copy_from_slice(&digest[..8]);
        PersonKey { kind, hash }
    }

    /// The key of the person whose valid ID this is.
    pub fn of_id(id: &str) -> PersonKey {
        PersonKey::of(b'P', &format!("recon-person-v1:{id}"))
    }

    /// The key of a person no valid ID places, by their first row.
    pub(super) fn of_row(file: &str, row: u32) -> PersonKey {
        PersonKey::of(b'R', &format!("recon-row-v1:{file}#{row}"))
    }
}

impl PersonKey {
    /// This key under the secret: the same letter, the keyed hash of the unkeyed key.
    pub(super) fn keyed(self, secret: &KeySecret) -> PersonKey {
        PersonKey {
            kind: self.kind,
            hash: secret.digest(&self.text().0),
        }
    }

    /// The key's 17 characters, made without allocating: the report writes one for every row.
    pub fn text(&self) -> KeyText {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut text = [self.kind; 17];
        for (k, b) in self.hash.iter().enumerate() {
            text[1 + 2 * k] = HEX[usize::from(b >> 4)];
            text[2 + 2 * k] = HEX[usize::from(b & 15)];
        }
        KeyText(text)
    }
}

/// A person key as text (ASCII: a letter and sixteen hex digits).
pub struct KeyText([u8; 17]);

impl KeyText {
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl std::fmt::Display for PersonKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.text().as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_stable_and_hide_the_id() {
        let key = PersonKey::of_id("11010519491231002X").to_string();
        assert_eq!(key, PersonKey::of_id("11010519491231002X").to_string());
        assert_ne!(key, PersonKey::of_id("110105194912310037").to_string());
        assert_eq!(key.len(), 17);
        assert!(key.starts_with('P') && !key.contains("19491231"));
        // The same unkeyed key as earlier versions gave: a ledger rewrites those as keyed.
        let digest = Sha256::digest(b"recon-person-v1:11010519491231002X");
        let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(key, format!("P{hex}"));
        let secret = KeySecret::per_run().unwrap();
        let keyed = PersonKey::of_id("11010519491231002X").keyed(&secret);
        assert_eq!(keyed.to_string(), secret.keyed_person_key(&key));
    }
}
