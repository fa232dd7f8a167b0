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
//! The scheme is the venue kit's ([`tesser_venue_kit::client_id`]): ids
//! that fit pass through, cancel-replace generations become
//! `_r<generation>_<id>`, anything else `_h<generation>_<hash>`, resolved
//! through an [`IdRegistry`] the connector fills whenever the runtime names
//! an id. This module gives it Binance's rules: [`MAX_LEN`] characters of
//! the FIX alphabet.

use tesser_core::ClientOrderId;
use tesser_venue_kit::client_id::{IdScheme, VenueIds};

pub use tesser_venue_kit::client_id::{HashCollision, VenueId, hash_of};

/// Longest client order id Binance accepts.
pub const MAX_LEN: usize = 36;

/// Binance's client order id rules: at most [`MAX_LEN`] characters of
/// `[A-Za-z0-9_-]` (the FIX API's, the strictest documented).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BinanceIds;

impl VenueIds for BinanceIds {
    const SCHEME: IdScheme = IdScheme::new(MAX_LEN, "-");
}

/// Hash → runtime id, for hashed Binance ids.
pub type IdRegistry = tesser_venue_kit::client_id::IdRegistry<BinanceIds>;

/// The venue id of generation `generation` of runtime order `runtime`.
#[must_use]
pub fn encode(runtime: &ClientOrderId, generation: u32) -> String {
    BinanceIds::SCHEME.encode(runtime, generation)
}

/// Decodes a venue id. Ids this module did not make (orders placed by hand,
/// Binance's generated ids) decode as verbatim runtime ids of generation 0.
#[must_use]
pub fn decode(venue: &str) -> VenueId {
    BinanceIds::SCHEME.decode(venue)
}

/// Whether `venue` is a legal Binance client order id under the strictest
/// documented rule (`^[a-zA-Z0-9-_]{1,36}$`).
#[must_use]
pub fn is_legal(venue: &str) -> bool {
    BinanceIds::SCHEME.is_legal(venue)
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
