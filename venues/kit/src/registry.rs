//! [`Registry`]: a list of venue factories, looked up by name.

use std::fmt;

use crate::factory::VenueFactory;
use crate::section::{Section, SectionError};

/// A fixed list of venue factories. The `tesser-venues` crate holds the one
/// the `tesser` command uses; tests may build their own.
#[derive(Clone, Copy)]
pub struct Registry {
    factories: &'static [&'static dyn VenueFactory],
}

impl Registry {
    /// A registry of `factories`, in the order `--help` lists them. Names
    /// must be distinct (the first of two equal names wins a lookup).
    #[must_use]
    pub const fn new(factories: &'static [&'static dyn VenueFactory]) -> Self {
        Self { factories }
    }

    /// Every factory, in order.
    #[must_use]
    pub const fn factories(&self) -> &'static [&'static dyn VenueFactory] {
        self.factories
    }

    /// The factory named `name`, as `--venue` spells it.
    #[must_use]
    pub fn find(&self, name: &str) -> Option<&'static dyn VenueFactory> {
        self.factories.iter().copied().find(|f| f.name() == name)
    }

    /// The names, in order.
    #[must_use]
    pub fn names(&self) -> Vec<&'static str> {
        self.factories.iter().map(|f| f.name()).collect()
    }

    /// The message for a venue name no factory has:
    /// `unknown venue "NAME"; known venues: a, b`.
    #[must_use]
    pub fn unknown(&self, name: &str) -> String {
        format!(
            "unknown venue \"{name}\"; known venues: {}",
            self.names().join(", ")
        )
    }

    /// The venue whose name `segment` spells in an environment variable
    /// (`BINANCE_SPOT` for `binance-spot`), if one does.
    #[must_use]
    pub fn find_by_env_segment(&self, segment: &str) -> Option<&'static dyn VenueFactory> {
        self.factories
            .iter()
            .copied()
            .find(|f| crate::section::env_segment(f.name()).eq_ignore_ascii_case(segment))
    }

    /// Checks the `[venues]` table of one config layer: every key names a
    /// registered venue and holds a table its factory accepts.
    ///
    /// # Errors
    /// The first problem, one line naming the venue and the key.
    pub fn check_layer(&self, venues: &Section) -> Result<(), SectionError> {
        for (name, value) in venues {
            let Some(factory) = self.find(name) else {
                return Err(SectionError::table(name, self.unknown(name)));
            };
            let Some(table) = value.as_table() else {
                return Err(SectionError::table(
                    name,
                    format!(
                        "expected a table [venues.{name}], got a {}",
                        value.type_str()
                    ),
                ));
            };
            factory.check_section(table)?;
        }
        Ok(())
    }
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}
