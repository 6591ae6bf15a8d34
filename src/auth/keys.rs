//! JWT signing keys. The algorithm is fixed by the key set (configuration), never taken from a
//! token. Each key has a `kid`, so a new key can be made active while the old one still
//! verifies tokens already issued (rotation without downtime).
//!
//! Format (file or `BASISSET_JWT_KEYS`):
//! `{"algorithm":"EdDSA","active":"<kid>","keys":[{"kid":"<kid>","private_pkcs8":"<base64>"}]}`
//! or for HMAC: `{"algorithm":"HS256","active":"<kid>","keys":[{"kid":"<kid>","secret":"<base64>"}]}`.

use std::io::Write;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use serde::{Deserialize, Serialize};

use crate::config::AuthArgs;
use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyFile {
    pub algorithm: String,
    pub active: String,
    pub keys: Vec<KeyEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyEntry {
    pub kid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_pkcs8: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

pub struct Key {
    pub kid: String,
    pub encoding: EncodingKey,
    pub decoding: DecodingKey,
    /// EdDSA: the public key (for the JWKS document).
    pub public: Option<Vec<u8>>,
}

/// The key set in use.
pub struct KeyStore {
    pub algorithm: Algorithm,
    pub active: String,
    pub keys: Vec<Key>,
}

pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    aws_lc_rs::rand::fill(&mut buf).expect("system random source");
    buf
}

fn new_kid() -> String {
    format!(
        "k{}-{}",
        chrono::Utc::now().format("%Y%m%d"),
        URL_SAFE_NO_PAD.encode(random_bytes(6))
    )
}

fn new_entry(algorithm: &str) -> AppResult<KeyEntry> {
    let kid = new_kid();
    match algorithm {
        "EdDSA" => {
            let doc = aws_lc_rs::signature::Ed25519KeyPair::generate_pkcs8(
                &aws_lc_rs::rand::SystemRandom::new(),
            )
            .map_err(|e| AppError::internal(format!("key generation failed: {e}")))?;
            Ok(KeyEntry {
                kid,
                private_pkcs8: Some(STANDARD.encode(doc.as_ref())),
                secret: None,
            })
        }
        "HS256" | "HS384" | "HS512" => Ok(KeyEntry {
            kid,
            private_pkcs8: None,
            secret: Some(STANDARD.encode(random_bytes(64))),
        }),
        other => Err(AppError::bad_request(
            "INVALID_KEYS",
            format!("unsupported JWT algorithm {other}: use EdDSA or HS256"),
        )),
    }
}

/// A new key set with one fresh key (JSON), for first start and for tests.
pub fn generate(algorithm: &str) -> AppResult<KeyFile> {
    let entry = new_entry(algorithm)?;
    Ok(KeyFile {
        algorithm: algorithm.to_owned(),
        active: entry.kid.clone(),
        keys: vec![entry],
    })
}

impl KeyFile {
    /// Add a new key and make it active; older keys keep verifying.
    pub fn rotate(&mut self) -> AppResult<String> {
        let entry = new_entry(&self.algorithm)?;
        let kid = entry.kid.clone();
        self.keys.push(entry);
        self.active = kid.clone();
        Ok(kid)
    }

    /// Drop every key but the active one.
    pub fn prune(&mut self) -> usize {
        let before = self.keys.len();
        let active = self.active.clone();
        self.keys.retain(|k| k.kid == active);
        before - self.keys.len()
    }

    pub fn read(path: &Path) -> AppResult<KeyFile> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            AppError::internal(format!("cannot read keys file {}: {e}", path.display()))
        })?;
        serde_json::from_str(&text).map_err(|e| {
            AppError::internal(format!("keys file {} is not valid: {e}", path.display()))
        })
    }

    /// Write with owner-only permissions (the file holds private keys).
    pub fn write(&self, path: &Path, create_new: bool) -> AppResult<()> {
        let text = serde_json::to_string_pretty(self).expect("keys serialize");
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true);
        if create_new {
            opts.create_new(true);
        } else {
            opts.create(true).truncate(true);
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(path).map_err(|e| {
            AppError::internal(format!("cannot write keys file {}: {e}", path.display()))
        })?;
        f.write_all(text.as_bytes())
            .and_then(|_| f.sync_all())
            .map_err(|e| AppError::internal(format!("writing {}: {e}", path.display())))
    }
}

impl KeyStore {
    /// Keys from `--jwt-keys`, else from `--jwt-keys-file`; when neither exists, make a new
    /// Ed25519 key, store it in the file (mode 0600) and say so in the log.
    pub fn load(args: &AuthArgs) -> AppResult<KeyStore> {
        if let Some(inline) = args.jwt_keys.as_deref().filter(|s| !s.trim().is_empty()) {
            let file: KeyFile = serde_json::from_str(inline).map_err(|e| {
                AppError::internal(format!("BASISSET_JWT_KEYS is not a valid key set: {e}"))
            })?;
            return KeyStore::from_file(&file);
        }
        let path = Path::new(&args.jwt_keys_file);
        if path.exists() {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                if let Ok(meta) = std::fs::metadata(path)
                    && meta.permissions().mode() & 0o077 != 0
                {
                    tracing::warn!(path = %path.display(),
                        "the JWT keys file is readable by others; chmod 600 it");
                }
            }
            return KeyStore::from_file(&KeyFile::read(path)?);
        }
        let file = generate("EdDSA")?;
        file.write(path, true)?;
        tracing::warn!(
            path = %path.display(),
            kid = %file.active,
            "no JWT signing key configured: generated a new Ed25519 key and stored it (mode 0600); \
             keep this file safe and stable, tokens signed with it stop working if it is lost"
        );
        KeyStore::from_file(&file)
    }

    pub fn from_file(file: &KeyFile) -> AppResult<KeyStore> {
        let bad = |m: String| AppError::internal(format!("JWT keys: {m}"));
        let algorithm = match file.algorithm.as_str() {
            "EdDSA" => Algorithm::EdDSA,
            "HS256" => Algorithm::HS256,
            "HS384" => Algorithm::HS384,
            "HS512" => Algorithm::HS512,
            other => return Err(bad(format!("unsupported algorithm {other}"))),
        };
        let mut keys = Vec::new();
        for e in &file.keys {
            let key = match algorithm {
                Algorithm::EdDSA => {
                    let der = STANDARD
                        .decode(e.private_pkcs8.as_deref().unwrap_or_default())
                        .map_err(|err| bad(format!("{}: private_pkcs8: {err}", e.kid)))?;
                    let pair =
                        aws_lc_rs::signature::Ed25519KeyPair::from_pkcs8(&der).map_err(|err| {
                            bad(format!("{}: not an Ed25519 PKCS#8 key: {err}", e.kid))
                        })?;
                    use aws_lc_rs::signature::KeyPair;
                    let public = pair.public_key().as_ref().to_vec();
                    Key {
                        kid: e.kid.clone(),
                        encoding: EncodingKey::from_ed_der(&der),
                        decoding: DecodingKey::from_ed_der(&public),
                        public: Some(public),
                    }
                }
                _ => {
                    let secret = STANDARD
                        .decode(e.secret.as_deref().unwrap_or_default())
                        .map_err(|err| bad(format!("{}: secret: {err}", e.kid)))?;
                    if secret.len() < 32 {
                        return Err(bad(format!("{}: HMAC secret must be >= 32 bytes", e.kid)));
                    }
                    Key {
                        kid: e.kid.clone(),
                        encoding: EncodingKey::from_secret(&secret),
                        decoding: DecodingKey::from_secret(&secret),
                        public: None,
                    }
                }
            };
            keys.push(key);
        }
        if !keys.iter().any(|k| k.kid == file.active) {
            return Err(bad(format!("active key {} is not in the set", file.active)));
        }
        Ok(KeyStore {
            algorithm,
            active: file.active.clone(),
            keys,
        })
    }

    pub fn active_key(&self) -> &Key {
        self.keys
            .iter()
            .find(|k| k.kid == self.active)
            .expect("active key present")
    }

    pub fn key(&self, kid: &str) -> Option<&Key> {
        self.keys.iter().find(|k| k.kid == kid)
    }

    /// Public keys as a JWKS document (EdDSA only; HMAC keys are secret).
    pub fn jwks(&self) -> serde_json::Value {
        let keys: Vec<serde_json::Value> = self
            .keys
            .iter()
            .filter_map(|k| {
                k.public.as_ref().map(|p| {
                    serde_json::json!({
                        "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig",
                        "kid": k.kid, "x": URL_SAFE_NO_PAD.encode(p)
                    })
                })
            })
            .collect();
        serde_json::json!({ "keys": keys })
    }
}
