//! Generates a data-plane config repo with a known number of findings per
//! rule (the repos the tests and benchmarks lint):
//!
//! `cargo run --example generate -- OUT_DIR [--projects N] [--clusters N]
//! [--pools N] [--seed N] [--violations N] [--isolation project|domain]
//! [--one-account]`
//!
//! `OUT_DIR/expected.json` says how many findings of each rule a run reports.

#[path = "../tests/common/generator.rs"]
mod generator;

use std::process::ExitCode;

fn main() -> ExitCode {
    const USAGE: &str = "usage: generate OUT_DIR [--projects N] [--clusters N] [--pools N] [--seed N] [--violations N] [--isolation project|domain] [--one-account]";
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|arg| arg == "--help" || arg == "-h") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    // An option where the output directory belongs would otherwise become a
    // directory named after it.
    let Some((out, knobs)) = args.split_first().filter(|(out, _)| !out.starts_with('-')) else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let spec = match generator::Spec::from_args(knobs) {
        Ok(spec) => spec,
        Err(error) => {
            eprintln!("generate: {error}");
            return ExitCode::from(2);
        }
    };
    match generator::generate(std::path::Path::new(out), &spec) {
        Ok(expected) => {
            for (rule, count) in expected {
                println!("{rule}: {count}");
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("generate: cannot write {out}: {error}");
            ExitCode::FAILURE
        }
    }
}
