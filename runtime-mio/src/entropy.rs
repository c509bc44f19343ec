//! Randomness from the OS: the node's CSPRNG seed, and the identity key of a node started
//! for the first time (or run without a data directory, as by [`Runtime::bind`](crate::Runtime::bind)).

use peerster_core::crypto::IdentityKey;
use zeroize::Zeroizing;

use crate::error::RuntimeError;

/// 32 bytes from the OS's random number generator, to seed a node's CSPRNG.
pub fn os_seed() -> Result<[u8; 32], RuntimeError> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(RuntimeError::Entropy)?;
    Ok(seed)
}

/// A new identity key drawn from the OS's random number generator.
pub fn fresh_identity() -> Result<IdentityKey, RuntimeError> {
    let secret = Zeroizing::new(os_seed()?);
    Ok(IdentityKey::from_secret_bytes(*secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_differ() {
        assert_ne!(os_seed().unwrap(), os_seed().unwrap());
        assert_ne!(
            fresh_identity().unwrap().public(),
            fresh_identity().unwrap().public()
        );
    }
}
