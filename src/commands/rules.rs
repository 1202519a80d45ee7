//! `rules` and `explain`: the rule registry, listed or one rule explained.

use super::{options, print_text, settings};
use crate::cli::{PolicyArgs, RulesFormat};
use planelint::check;
use planelint::config::Flags;
use planelint::exit::Exit;
use planelint::registry::{self, Registry};
use planelint::report::{self, Format, Style};
use std::path::Path;

/// What `run_rules` prints.
pub enum Rules<'a> {
    List(RulesFormat),
    Explain(&'a str),
}

/// Loads the policies (no config repo is scanned) and lists every rule, or
/// explains one.
pub fn run_rules(policy: &PolicyArgs, what: Rules<'_>, cwd: &Path) -> Exit {
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
            return Exit::Usage;
        }
    };
    if run.policy_load_failed {
        print_load_errors(&run);
        return Exit::Usage;
    }
    let registry = Registry::new(&run.policies, &run.sources);
    let rules = settings.rules.renamed(&registry.renames());
    let enabled = |id: &str| rules.enabled(id);
    let mut out = Vec::new();
    let _ = match what {
        Rules::List(RulesFormat::Human) => report::render_rule_table(&mut out, &registry, &enabled),
        Rules::List(RulesFormat::Json) => report::render_rules_json(&mut out, &registry, &enabled),
        Rules::List(RulesFormat::Markdown) => report::render_rules_markdown(&mut out, &registry, registry::PAGES),
        Rules::Explain(id) => match registry.resolve(id) {
            Some(rule) => report::render_explain(&mut out, rule, &enabled),
            None => {
                eprintln!("planelint: no rule `{id}`; `planelint rules` lists them");
                return Exit::Usage;
            }
        },
    };
    print_text(&String::from_utf8_lossy(&out))
}

/// A policy that failed to load, in plain text on standard error.
fn print_load_errors(run: &check::Run) {
    let mut out = Vec::new();
    let _ = report::render_human(
        &mut out,
        &run.diagnostics,
        &run.sources,
        &report::Totals::default(),
        Style::Plain,
    );
    eprint!("{}", String::from_utf8_lossy(&out));
}
