//! `rules` and `explain`: the loaded policies, listed or explained.

use super::{options, print_text, settings};
use crate::cli::PolicyArgs;
use planelint::check;
use planelint::config::Flags;
use planelint::report::{self, Format, Style};
use std::path::Path;

/// Loads the policies (no config repo is scanned) and lists them, or
/// explains `rule`.
pub fn run_rules(policy: &PolicyArgs, rule: Option<&str>, cwd: &Path) -> u8 {
    let flags = Flags {
        policies: policy.policy_dirs.clone(),
        ..Flags::default()
    };
    let (settings, _) = match settings(policy, flags, Format::Human, cwd) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    let run = match check::check(&options(Vec::new(), &settings, policy, cwd), cwd) {
        Ok(run) => run,
        Err(error) => {
            eprintln!("planelint: {error}");
            return 2;
        }
    };
    if run.policy_load_failed {
        print_load_errors(&run);
        return 2;
    }
    let docs = report::rule_docs(&run.policies, &run.sources, |id| settings.rules.enabled(id));
    match rule {
        None => {
            let mut out = Vec::new();
            let _ = report::render_rule_table(&mut out, &docs);
            print_text(&String::from_utf8_lossy(&out))
        }
        Some(id) => match docs.iter().find(|d| d.id == id) {
            Some(doc) => {
                let mut out = Vec::new();
                let _ = report::render_explain(&mut out, doc);
                print_text(&String::from_utf8_lossy(&out))
            }
            None => {
                eprintln!("planelint: no rule `{id}`; `planelint rules` lists them");
                2
            }
        },
    }
}

/// A policy that failed to load, in plain text on standard error.
fn print_load_errors(run: &check::Run) {
    let mut out = Vec::new();
    let _ = report::render_human(&mut out, &run.diagnostics, &run.sources, 0, 0, Style::Plain);
    eprint!("{}", String::from_utf8_lossy(&out));
}
