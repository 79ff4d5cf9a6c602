//! Signed pixel paths: for a site that turns signing on, only the paths
//! whose URL the server signed (`visitors sites snippet`) count, so nobody
//! can fill its page list with paths that do not exist.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::counting::{site_id::SiteId, visitor_key::VisitorHasher};

/// 128 bits: forging one is out of reach, and the URL stays short.
const SIGNATURE_BYTES: usize = 16;

pub struct PathSigner {
    mac: Hmac<Sha256>,
}

impl PathSigner {
    /// The signer every replica derives from the shared visitor secret.
    pub fn new(hasher: &VisitorHasher) -> Self {
        let key = hasher.derived_key("pixel path signature");
        Self {
            mac: Hmac::new_from_slice(&key).expect("HMAC accepts keys of any length"),
        }
    }

    fn digest(&self, site: SiteId, path: &str) -> [u8; SIGNATURE_BYTES] {
        let mut mac = self.mac.clone();
        mac.update(&site.0.to_be_bytes());
        mac.update(path.as_bytes());
        let full = mac.finalize().into_bytes();
        let mut short = [0; SIGNATURE_BYTES];
        short.copy_from_slice(&full[..SIGNATURE_BYTES]);
        short
    }

    /// The `s=` value of a pixel URL for `path`.
    pub fn sign(&self, site: SiteId, path: &str) -> String {
        hex::encode(self.digest(site, path))
    }

    /// Whether `signature` is the one for `path`, in constant time.
    pub fn verify(&self, site: SiteId, path: &str, signature: &str) -> bool {
        hex::decode(signature)
            .is_ok_and(|presented| bool::from(presented.ct_eq(&self.digest(site, path))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::infra::config::Secret;

    #[test]
    fn a_signature_is_for_one_site_and_one_path() {
        let signer = PathSigner::new(&VisitorHasher::new(&Secret::new(b"a secret".to_vec())));
        let signature = signer.sign(SiteId(1), "/about");
        assert!(signer.verify(SiteId(1), "/about", &signature));
        assert!(!signer.verify(SiteId(1), "/about/", &signature));
        assert!(!signer.verify(SiteId(2), "/about", &signature));
        assert!(!signer.verify(SiteId(1), "/about", "not hex"));
        assert!(!signer.verify(SiteId(1), "/about", ""));
    }
}
