//! Build steps: the built-in policy pack is listed from `policies/` (no hand
//! list to keep in step), and the binary is linked as a non-PIE executable
//! on Linux: a position-independent one spends about 2 ms of every start-up
//! relocating its tables (487 page faults for `--version` against 120), and
//! planelint starts on every commit.
use std::fmt::Write as _;
use std::path::PathBuf;

// A build script reports failure by panicking.
#[allow(clippy::expect_used)]
fn main() {
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
    println!("cargo:rerun-if-changed=policies");
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let policies = manifest_dir.join("policies");
    let mut names: Vec<String> = std::fs::read_dir(&policies)
        .expect("the policies/ directory")
        .map(|entry| {
            entry
                .expect("an entry of policies/")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.ends_with(".yaml"))
        .collect();
    names.sort();
    let mut list = String::from("&[\n");
    for name in &names {
        let path = policies.join(name);
        let _ = writeln!(list, "    ({name:?}, include_str!({:?})),", path.display().to_string());
    }
    list.push(']');
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("builtin.rs");
    std::fs::write(out, list).expect("writing the built-in pack list");
}
