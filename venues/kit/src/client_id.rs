//! Runtime client order ids ↔ a venue's client order ids.
//!
//! Venues limit their client order ids (Binance and Bybit: at most 36
//! characters of letters, digits, `-` and `_`). Runtime ids
//! (`algo-12-0003`, `algo-12-<plugin suffix>`) may be longer or use other
//! characters, and an order changed by cancel-replace needs a new venue id
//! per replacement (its *generation*). An [`IdScheme`] maps both reversibly;
//! the venue supplies its longest id and the characters it accepts besides
//! letters, digits and `_`.
//!
//! # Scheme
//!
//! With `r` the runtime id, `g` the generation (0 for the order as first
//! placed, `n` after the `n`-th replacement) written in base 36, and `L` the
//! venue's longest id:
//!
//! | form | when | venue id |
//! | --- | --- | --- |
//! | verbatim | `g = 0`, `r` of the venue's characters, not starting with `_`, `len(r) ≤ L` | `r` |
//! | renamed | `g > 0`, same alphabet, `3 + len(g) + len(r) ≤ L` | `_r<g>_<r>` |
//! | hashed | anything else | `_h<g>_<h>` |
//!
//! where `h` is the first 26 characters of the lower-case RFC 4648 base-32
//! SHA-256 of `r`'s UTF-8 bytes (130 bits).
//!
//! **Reversibility without state.** Verbatim and renamed ids decode to `r`
//! and `g` from the text alone, so a crash loses nothing for them. Hashed ids
//! decode to `g` and `h`; `h` is turned back into `r` through an
//! [`IdRegistry`], which is not persisted: the connector fills it whenever
//! the runtime names an id (place, amend, cancel, lookups), and after a
//! restart the runtime names every order it still cares about before it acts
//! on it.
//!
//! **Collisions.** The three forms cannot collide with each other: verbatim
//! ids never start with `_`, renamed ids start with `_r`, hashed with `_h`.
//! Renamed ids are injective (the base-36 generation ends at the first `_`
//! after the prefix, and the rest is `r` verbatim). Two different runtime ids
//! hash to the same id only if their 130-bit hash prefixes are equal (below
//! `n² / 2¹³¹`, about `4·10⁻²²` for a billion hashed ids); the registry
//! detects that case and refuses the second id ([`HashCollision`]).

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::Mutex;

use sha2::{Digest, Sha256};
use tesser_core::ClientOrderId;

/// Characters of the hash in a hashed id.
pub const HASH_LEN: usize = 26;
/// The shortest longest-id a scheme supports: `_h`, a generation of up to
/// seven base-36 digits, `_` and the hash.
pub const MIN_MAX_LEN: usize = 3 + 7 + HASH_LEN;

/// A venue's client order id rules: its longest id and the characters it
/// accepts besides ASCII letters, digits and `_` (which every scheme uses).
///
/// ```
/// use tesser_core::ClientOrderId;
/// use tesser_venue_kit::client_id::{IdScheme, VenueId};
///
/// const IDS: IdScheme = IdScheme::new(36, "-");
/// let runtime = ClientOrderId::new("algo-12-0003");
/// assert_eq!(IDS.encode(&runtime, 0), "algo-12-0003");
/// assert_eq!(IDS.encode(&runtime, 1), "_r1_algo-12-0003");
/// assert_eq!(
///     IDS.decode("_r1_algo-12-0003"),
///     VenueId::Plain { runtime, generation: 1 }
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdScheme {
    max_len: usize,
    extra: &'static str,
}

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
        /// The hash ([`HASH_LEN`] base-32 characters).
        hash: String,
        /// The generation.
        generation: u32,
    },
}

impl IdScheme {
    /// A venue whose ids are at most `max_len` characters of ASCII letters,
    /// digits, `_` and the characters of `extra`.
    ///
    /// # Panics
    /// When `max_len` is below [`MIN_MAX_LEN`] (a hashed id would not fit);
    /// in a `const` this fails the build.
    #[must_use]
    pub const fn new(max_len: usize, extra: &'static str) -> Self {
        assert!(max_len >= MIN_MAX_LEN, "a venue id must fit a hashed id");
        Self { max_len, extra }
    }

    /// The longest id the venue accepts.
    #[must_use]
    pub const fn max_len(&self) -> usize {
        self.max_len
    }

    fn is_char(&self, c: char) -> bool {
        c.is_ascii_alphanumeric() || c == '_' || (c.is_ascii() && self.extra.contains(c))
    }

    /// Whether `r` may be sent verbatim: the venue's alphabet, not starting
    /// with `_` (reserved for the other forms), 1 to `max_len` characters.
    #[must_use]
    pub fn is_verbatim(&self, r: &str) -> bool {
        !r.starts_with('_') && self.is_legal(r)
    }

    /// Whether `venue` is a legal id of this venue.
    #[must_use]
    pub fn is_legal(&self, venue: &str) -> bool {
        !venue.is_empty() && venue.len() <= self.max_len && venue.chars().all(|c| self.is_char(c))
    }

    /// Whether some generation of `r` is hashed, so an [`IdRegistry`] must
    /// know `r` to decode it: `r` is not verbatim, or too long to be
    /// renamed with a generation of seven base-36 digits.
    #[must_use]
    pub fn may_hash(&self, r: &str) -> bool {
        !self.is_verbatim(r) || 3 + 7 + r.len() > self.max_len
    }

    /// The venue id of generation `generation` of runtime order `runtime`.
    #[must_use]
    pub fn encode(&self, runtime: &ClientOrderId, generation: u32) -> String {
        let r = runtime.as_str();
        if self.is_verbatim(r) {
            if generation == 0 {
                return r.to_owned();
            }
            let g = base36(generation);
            if 3 + g.len() + r.len() <= self.max_len {
                return format!("_r{g}_{r}");
            }
        }
        format!("_h{}_{}", base36(generation), hash_of(runtime))
    }

    /// Decodes a venue id. Ids the scheme did not make (orders placed by
    /// hand, ids the venue generated) decode as verbatim runtime ids of
    /// generation 0.
    #[must_use]
    pub fn decode(&self, venue: &str) -> VenueId {
        let plain = |runtime: &str, generation| VenueId::Plain {
            runtime: ClientOrderId::new(runtime),
            generation,
        };
        if let Some(rest) = venue.strip_prefix("_r")
            && let Some((g, r)) = rest.split_once('_')
            && let Some(generation) = parse_base36(g)
            && generation > 0
            && self.is_verbatim(r)
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
}

fn base36(mut n: u32) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = String::new();
    loop {
        out.insert(0, char::from(DIGITS[(n % 36) as usize]));
        n /= 36;
        if n == 0 {
            return out;
        }
    }
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

/// The [`HASH_LEN`]-character base-32 hash of a runtime id.
///
/// ```
/// use tesser_core::ClientOrderId;
/// let hash = tesser_venue_kit::client_id::hash_of(&ClientOrderId::new("x"));
/// assert_eq!(hash.len(), tesser_venue_kit::client_id::HASH_LEN);
/// ```
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

/// A venue's id rules as a type, so an [`IdRegistry`] of that venue needs
/// no argument to build.
pub trait VenueIds {
    /// The venue's scheme.
    const SCHEME: IdScheme;
}

/// Hash → runtime id, for hashed venue ids of venue `V`. Filled whenever a
/// runtime id is named; see the [module documentation](self).
///
/// ```
/// use tesser_core::ClientOrderId;
/// use tesser_venue_kit::client_id::{IdRegistry, IdScheme, VenueIds};
///
/// struct Venue;
/// impl VenueIds for Venue {
///     const SCHEME: IdScheme = IdScheme::new(36, "-");
/// }
/// let long = ClientOrderId::new("algo-12-a-plugin-suffix-far-too-long-for-the-venue");
/// let venue_id = Venue::SCHEME.encode(&long, 2);
/// let ids = IdRegistry::<Venue>::new();
/// assert_eq!(ids.resolve(&venue_id), None);
/// ids.register(&long)?;
/// assert_eq!(ids.resolve(&venue_id), Some((long, 2)));
/// # Ok::<(), tesser_venue_kit::client_id::HashCollision>(())
/// ```
pub struct IdRegistry<V> {
    by_hash: Mutex<HashMap<String, ClientOrderId>>,
    venue: PhantomData<fn() -> V>,
}

impl<V> std::fmt::Debug for IdRegistry<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdRegistry")
            .field("by_hash", &self.by_hash)
            .finish()
    }
}

impl<V> Default for IdRegistry<V> {
    fn default() -> Self {
        Self {
            by_hash: Mutex::default(),
            venue: PhantomData,
        }
    }
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

impl<V: VenueIds> IdRegistry<V> {
    /// An empty registry.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, ClientOrderId>> {
        self.by_hash
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Remembers `runtime` so its hashed venue ids can be decoded. Returns
    /// `Ok(true)` the first time an id that may be hashed
    /// ([`IdScheme::may_hash`]) is registered.
    ///
    /// # Errors
    /// [`HashCollision`] when another runtime id has the same hash.
    pub fn register(&self, runtime: &ClientOrderId) -> Result<bool, HashCollision> {
        if !V::SCHEME.may_hash(runtime.as_str()) {
            return Ok(false);
        }
        let hash = hash_of(runtime);
        let mut map = self.lock();
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
        match V::SCHEME.decode(venue) {
            VenueId::Plain {
                runtime,
                generation,
            } => Some((runtime, generation)),
            VenueId::Hashed { hash, generation } => self
                .lock()
                .get(&hash)
                .map(|runtime| (runtime.clone(), generation)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Strict;
    impl VenueIds for Strict {
        const SCHEME: IdScheme = IdScheme::new(36, "-");
    }
    struct Wide;
    impl VenueIds for Wide {
        const SCHEME: IdScheme = IdScheme::new(40, "-.:/");
    }

    fn id(text: &str) -> ClientOrderId {
        ClientOrderId::new(text)
    }

    #[test]
    fn the_alphabet_and_length_are_the_venues() {
        // `.` is legal on the wide venue only.
        assert_eq!(Wide::SCHEME.encode(&id("a.b"), 0), "a.b");
        assert!(Strict::SCHEME.encode(&id("a.b"), 0).starts_with("_h0_"));
        let long = "a".repeat(40);
        assert_eq!(Wide::SCHEME.encode(&id(&long), 0), long);
        assert!(Strict::SCHEME.encode(&id(&long), 0).starts_with("_h0_"));
        assert_eq!(Wide::SCHEME.max_len(), 40);
    }

    #[test]
    fn generations_round_trip_in_every_form() {
        for text in ["algo-1", "_x", &"b".repeat(35), "ü"] {
            for generation in [0, 1, 35, 36, 1_000_000] {
                let runtime = id(text);
                let venue = Strict::SCHEME.encode(&runtime, generation);
                assert!(Strict::SCHEME.is_legal(&venue), "{venue}");
                let ids = IdRegistry::<Strict>::new();
                ids.register(&runtime).unwrap();
                assert_eq!(ids.resolve(&venue), Some((runtime, generation)));
            }
        }
    }

    #[test]
    fn non_canonical_generations_decode_as_foreign_ids() {
        for venue in ["_r0_x", "_r01_x", "_rA_x", "_h1_short"] {
            assert!(
                matches!(
                    Strict::SCHEME.decode(venue),
                    VenueId::Plain { generation: 0, .. }
                ),
                "{venue}"
            );
        }
    }

    #[test]
    fn a_second_id_with_a_taken_hash_is_refused() {
        let ids = IdRegistry::<Strict>::new();
        let a = id(&"x".repeat(40));
        let forged = id(&"y".repeat(40));
        ids.lock().insert(hash_of(&forged), a.clone());
        assert_eq!(
            ids.register(&forged),
            Err(HashCollision {
                existing: a,
                new: forged.clone(),
                hash: hash_of(&forged),
            })
        );
    }
}
