//! `test`: the fixture repos of a policy pack, each checked against its
//! `# expect:` markers.

use super::{options, print_text, settings, today};
use crate::cli::{TestArgs, TestFormat};
use planelint::check::{self, Options};
use planelint::config::Flags;
use planelint::exit::Exit;
use planelint::report::Format;
use planelint::{discover, policytest};
use std::path::Path;

/// Runs every fixture repo under the given directories and compares its
/// findings with its `# expect:` markers.
pub fn run_test(args: TestArgs, cwd: &Path) -> Exit {
    let flags = Flags {
        policies: args.policy.policy_dirs.clone(),
        ..Flags::default()
    };
    let (settings, _) = match settings(&args.policy, flags, Format::Human, cwd) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    let repos = match policytest::fixture_repos(&args.dirs, cwd) {
        Ok(repos) => repos,
        Err(error) => {
            eprintln!("planelint: {error}");
            return Exit::Usage;
        }
    };
    let mut results = Vec::new();
    for repo in repos {
        let options = Options {
            today: Some(today()),
            ..options(vec![repo.clone()], &settings, &args.policy, cwd)
        };
        let run = match check::check(&options, cwd) {
            Ok(run) => run,
            Err(error) => {
                eprintln!("planelint: {error}");
                return Exit::Usage;
            }
        };
        let scope = policytest::Scope::of(&repo, &run.policies);
        let mut expected = policytest::expectations(&run.sources, &run.scanned);
        expected.retain(|(_, _, rule)| scope.counts(rule));
        let findings: Vec<_> = run
            .diagnostics
            .iter()
            .filter(|d| scope.counts(d.rule.as_str()))
            .cloned()
            .collect();
        results.push(policytest::compare(
            discover::display_name(&repo, cwd),
            expected,
            &findings,
            &run.sources,
        ));
    }
    let mut out = Vec::new();
    let _ = match args.format {
        TestFormat::Human => policytest::render_human(&mut out, &results),
        TestFormat::Junit => policytest::render_junit(&mut out, &results),
    };
    let code = print_text(&String::from_utf8_lossy(&out));
    if results.iter().all(policytest::Outcome::passed) {
        code
    } else {
        Exit::Findings
    }
}
