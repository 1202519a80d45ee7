//! The built-in policy pack, embedded so the binary works with no files
//! beside it. `build.rs` lists every `policies/*.yaml`.

/// (file name, contents) of every built-in policy, sorted by name.
pub const BUILTIN: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/builtin.rs"));
