//! Exports `tesser:plugin/guest@2.0.0`, an ABI major version no host speaks yet.

wit_bindgen::generate!({
    inline: "
        package tesser:plugin@2.0.0;

        interface types {
            record version { major: u16, minor: u16, patch: u16 }
        }

        interface guest {
            use types.{version};
            abi-version: func() -> version;
        }

        world execution-plugin {
            export guest;
        }
    ",
    world: "execution-plugin",
});

struct Plugin;

impl exports::tesser::plugin::guest::Guest for Plugin {
    fn abi_version() -> tesser::plugin::types::Version {
        tesser::plugin::types::Version {
            major: 2,
            minor: 0,
            patch: 0,
        }
    }
}

export!(Plugin);
