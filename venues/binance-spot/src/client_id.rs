//! Runtime client order ids ↔ Binance `newClientOrderId` values.
//!
//! Binance accepts client order ids of at most 36 characters. The REST API's
//! `-1100` message gives the legal range `^[.A-Z:/a-z0-9_-]{1,36}$`; the FIX
//! API (`fix-api.md`) is stricter, `^[a-zA-Z0-9-_]{1,36}$`. Every id this
//! module produces uses only the stricter alphabet, so it is valid on every
//! API. Runtime ids (`algo-12-0003`, `algo-12-<plugin suffix>`) may be longer
//! or use other characters, and an order changed by cancel-replace needs a
//! new venue id per replacement (its *generation*).
//!
//! # Scheme
//!
//! With `r` the runtime id and `g` the generation (0 for the order as first
//! placed, `n` after the `n`-th cancel-replace), written in base 36:
//!
//! | form | when | venue id |
//! | --- | --- | --- |
//! | verbatim | `g = 0`, `r` matches `^[A-Za-z0-9-][A-Za-z0-9_-]{0,35}$` | `r` |
//! | renamed | `g > 0`, same alphabet, `3 + len(g) + len(r) ≤ 36` | `_r<g>_<r>` |
//! | hashed | anything else | `_h<g>_<h>` |
//!
//! where `h` is the first 26 characters of the lower-case RFC 4648 base-32
//! SHA-256 of `r`'s UTF-8 bytes (130 bits).
//!
//! **Reversibility without state.** Verbatim and renamed ids decode to `r`
//! and `g` from the text alone, so a crash loses nothing for them; runtime
//! ids like `algo-12-0003` are always verbatim. Hashed ids decode to `g` and
//! `h`; `h` is turned back into `r` through an [`IdRegistry`], which is not
//! persisted: it is filled deterministically whenever the runtime names an
//! id (place, amend, cancel, `order`, `order_fills`), and after a restart the
//! runtime names every order it still cares about before it acts on it, so
//! the mapping is rebuilt from the runtime's own store. Events for a hashed
//! id nobody named yet are held until it is named.
//!
//! **Collisions.** The three forms cannot collide with each other: verbatim
//! ids never start with `_`, renamed ids start with `_r`, hashed with `_h`.
//! Renamed ids are injective (the base-36 generation ends at the first `_`
//! after the prefix, and the rest is `r` verbatim). Two different runtime ids
//! hash to the same id only if their 130-bit hash prefixes are equal: by the
//! birthday bound that has probability below `n² / 2¹³¹`, about `4·10⁻²²` for
//! a billion hashed ids. The registry also detects the case (two runtime ids
//! for one hash) and refuses the second id instead of mixing them up.

use std::collections::HashMap;
use std::sync::Mutex;

use sha2::{Digest, Sha256};
use tesser_core::ClientOrderId;

/// Longest client order id Binance accepts.
pub const MAX_LEN: usize = 36;
/// Characters of the hash in a hashed id.
const HASH_LEN: usize = 26;

/// A decoded venue id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VenueId {
    /// A verbatim or renamed id: the runtime id and the generation are known.
    Plain {
        /// The runtime id.
        runtime: ClientOrderId,
        /// The generation.
        generation: u32,
    },
    /// A hashed id: the runtime id must be found by its hash.
    Hashed {
        /// The hash (26 base-32 characters).
        hash: String,
        /// The generation.
        generation: u32,
    },
}

fn is_plain_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// Whether `r` may be sent verbatim: the strict alphabet, not starting with
/// `_` (reserved for the other forms), 1 to 36 characters.
fn verbatim_ok(r: &str) -> bool {
    !r.is_empty() && r.len() <= MAX_LEN && !r.starts_with('_') && r.chars().all(is_plain_char)
}

fn base36(mut n: u32) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

fn parse_base36(text: &str) -> Option<u32> {
    if text.is_empty() || text.len() > 7 {
        return None;
    }
    let mut n: u32 = 0;
    for c in text.chars() {
        let digit = c.to_digit(36)?;
        if c.is_ascii_uppercase() {
            return None;
        }
        n = n.checked_mul(36)?.checked_add(digit)?;
    }
    // Canonical form only: no leading zeros (except "0" itself).
    (base36(n) == text).then_some(n)
}

/// The 26-character base-32 hash of a runtime id.
#[must_use]
pub fn hash_of(runtime: &ClientOrderId) -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let digest = Sha256::digest(runtime.as_str().as_bytes());
    let mut out = String::with_capacity(HASH_LEN);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for byte in digest {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 && out.len() < HASH_LEN {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
        buffer &= (1 << bits) - 1;
        if out.len() == HASH_LEN {
            break;
        }
    }
    out
}

/// The venue id of generation `generation` of runtime order `runtime`.
#[must_use]
pub fn encode(runtime: &ClientOrderId, generation: u32) -> String {
    let r = runtime.as_str();
    if verbatim_ok(r) {
        if generation == 0 {
            return r.to_owned();
        }
        let g = base36(generation);
        if 3 + g.len() + r.len() <= MAX_LEN {
            return format!("_r{g}_{r}");
        }
    }
    format!("_h{}_{}", base36(generation), hash_of(runtime))
}

/// Decodes a venue id. Ids this module did not make (orders placed by hand,
/// Binance's generated ids) decode as verbatim runtime ids of generation 0.
#[must_use]
pub fn decode(venue: &str) -> VenueId {
    let plain = |runtime: &str, generation| VenueId::Plain {
        runtime: ClientOrderId::new(runtime),
        generation,
    };
    if let Some(rest) = venue.strip_prefix("_r")
        && let Some((g, r)) = rest.split_once('_')
        && let Some(generation) = parse_base36(g)
        && generation > 0
        && verbatim_ok(r)
    {
        return plain(r, generation);
    }
    if let Some(rest) = venue.strip_prefix("_h")
        && let Some((g, hash)) = rest.split_once('_')
        && let Some(generation) = parse_base36(g)
        && hash.len() == HASH_LEN
    {
        return VenueId::Hashed {
            hash: hash.to_owned(),
            generation,
        };
    }
    plain(venue, 0)
}

/// Whether `venue` is a legal Binance client order id under the strictest
/// documented rule (`^[a-zA-Z0-9-_]{1,36}$`).
#[must_use]
pub fn is_legal(venue: &str) -> bool {
    !venue.is_empty() && venue.len() <= MAX_LEN && venue.chars().all(is_plain_char)
}

/// Hash → runtime id, for hashed venue ids. Filled whenever a runtime id is
/// named; see the [module documentation](self).
#[derive(Debug, Default)]
pub struct IdRegistry {
    by_hash: Mutex<HashMap<String, ClientOrderId>>,
}

/// Two runtime ids with one hash: astronomically unlikely, but refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("client order ids {existing} and {new} share the venue hash {hash}")]
pub struct HashCollision {
    /// The id registered first.
    pub existing: ClientOrderId,
    /// The id refused.
    pub new: ClientOrderId,
    /// The shared hash.
    pub hash: String,
}

impl IdRegistry {
    /// An empty registry.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Remembers `runtime` so its hashed venue ids can be decoded. Returns
    /// `Ok(true)` the first time a hashed id is registered.
    ///
    /// # Errors
    /// [`HashCollision`] when another runtime id has the same hash.
    pub fn register(&self, runtime: &ClientOrderId) -> Result<bool, HashCollision> {
        if verbatim_ok(runtime.as_str()) {
            return Ok(false);
        }
        let hash = hash_of(runtime);
        let mut map = self
            .by_hash
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match map.get(&hash) {
            Some(existing) if existing == runtime => Ok(false),
            Some(existing) => Err(HashCollision {
                existing: existing.clone(),
                new: runtime.clone(),
                hash,
            }),
            None => {
                map.insert(hash, runtime.clone());
                Ok(true)
            }
        }
    }

    /// The runtime id and generation of a venue id, if known.
    #[must_use]
    pub fn resolve(&self, venue: &str) -> Option<(ClientOrderId, u32)> {
        match decode(venue) {
            VenueId::Plain {
                runtime,
                generation,
            } => Some((runtime, generation)),
            VenueId::Hashed { hash, generation } => self
                .by_hash
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .get(&hash)
                .map(|runtime| (runtime.clone(), generation)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn id(text: &str) -> ClientOrderId {
        ClientOrderId::new(text)
    }

    #[test]
    fn short_runtime_ids_pass_through() {
        assert_eq!(encode(&id("algo-12-0003"), 0), "algo-12-0003");
        assert_eq!(
            decode("algo-12-0003"),
            VenueId::Plain {
                runtime: id("algo-12-0003"),
                generation: 0
            }
        );
    }

    #[test]
    fn replacements_are_renamed_and_decode_without_state() {
        let venue = encode(&id("algo-12-0003"), 1);
        assert_eq!(venue, "_r1_algo-12-0003");
        assert_eq!(
            decode(&venue),
            VenueId::Plain {
                runtime: id("algo-12-0003"),
                generation: 1
            }
        );
        assert_eq!(encode(&id("algo-12-0003"), 36), "_r10_algo-12-0003");
    }

    #[test]
    fn long_ids_are_hashed_and_resolve_through_the_registry() {
        let long = id("algo-12-chase-plugin-suffix-0123456789abcdef");
        let venue = encode(&long, 0);
        assert!(venue.starts_with("_h0_"));
        assert!(venue.len() <= MAX_LEN && is_legal(&venue), "{venue}");
        let registry = IdRegistry::new();
        assert_eq!(registry.resolve(&venue), None);
        assert_eq!(registry.register(&long), Ok(true));
        assert_eq!(registry.register(&long), Ok(false));
        assert_eq!(registry.resolve(&venue), Some((long.clone(), 0)));
        assert_eq!(registry.resolve(&encode(&long, 5)), Some((long, 5)));
    }

    #[test]
    fn reserved_and_illegal_characters_are_hashed() {
        for text in ["_leading", "a.b", "a:b", "a/b", "ünïcode", "with space", ""] {
            let venue = encode(&id(text), 0);
            assert!(venue.starts_with("_h0_"), "{text} -> {venue}");
            assert!(is_legal(&venue));
        }
    }

    #[test]
    fn a_36_char_id_fits_but_its_replacement_is_hashed() {
        let text = "a".repeat(36);
        assert_eq!(encode(&id(&text), 0), text);
        assert!(encode(&id(&text), 1).starts_with("_h1_"));
    }

    #[test]
    fn foreign_ids_decode_as_verbatim() {
        assert_eq!(
            decode("6gCrw2kRUAF9CvJDGP16IP"),
            VenueId::Plain {
                runtime: id("6gCrw2kRUAF9CvJDGP16IP"),
                generation: 0
            }
        );
        // Look-alikes of the reserved forms that are not canonical.
        assert!(matches!(
            decode("_r0_x"),
            VenueId::Plain { generation: 0, .. }
        ));
        assert!(matches!(
            decode("_h1_short"),
            VenueId::Plain { generation: 0, .. }
        ));
    }

    #[test]
    fn collisions_are_refused() {
        let registry = IdRegistry::new();
        let a = id("x".repeat(40).as_str());
        registry.register(&a).unwrap();
        // Forge a collision by inserting a different id under a's hash.
        let forged = id("y".repeat(40).as_str());
        registry
            .by_hash
            .lock()
            .unwrap()
            .insert(hash_of(&forged), a.clone());
        assert!(registry.register(&forged).is_err());
    }

    proptest! {
        #[test]
        fn every_encoding_is_legal_and_round_trips(text in "\\PC{0,60}", generation in 0u32..5000) {
            let runtime = id(&text);
            let venue = encode(&runtime, generation);
            prop_assert!(is_legal(&venue), "{venue}");
            let registry = IdRegistry::new();
            registry.register(&runtime).unwrap();
            prop_assert_eq!(registry.resolve(&venue), Some((runtime, generation)));
        }

        #[test]
        fn plain_alphabet_ids_round_trip_without_a_registry(
            text in "[A-Za-z0-9-][A-Za-z0-9_-]{0,35}", generation in 0u32..100
        ) {
            let runtime = id(&text);
            let venue = encode(&runtime, generation);
            prop_assert!(is_legal(&venue));
            if !venue.starts_with("_h") {
                let empty = IdRegistry::new();
                prop_assert_eq!(empty.resolve(&venue), Some((runtime, generation)));
            }
        }

        #[test]
        fn distinct_inputs_give_distinct_ids(
            a in "[a-z0-9_.-]{1,45}", b in "[a-z0-9_.-]{1,45}", ga in 0u32..40, gb in 0u32..40
        ) {
            prop_assume!(a != b || ga != gb);
            prop_assert_ne!(encode(&id(&a), ga), encode(&id(&b), gb));
        }
    }
}
