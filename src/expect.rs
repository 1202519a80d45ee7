//! `# expect: rule-id` markers in fixture files: where findings must land.
//! A marker at the end of a line applies to that line; a marker on a line of
//! its own applies to the next line that is not blank or a comment. This is
//! the parser behind policy tests. Imports no other module of the crate.

/// One expected finding: a 1-based line and a rule id.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Expectation {
    pub line: usize,
    pub rule: String,
}

const MARKER: &str = "# expect:";

pub fn parse(text: &str) -> Vec<Expectation> {
    let mut expectations = Vec::new();
    let mut pending: Vec<String> = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let trimmed = line.trim_start();
        let marker = line
            .find(MARKER)
            .map(|at| rules(line.get(at + MARKER.len()..).unwrap_or("")));
        let own_line = trimmed.starts_with(MARKER);
        if own_line {
            pending.extend(marker.unwrap_or_default());
            continue;
        }
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        for rule in pending.drain(..).chain(marker.unwrap_or_default()) {
            expectations.push(Expectation { line: number, rule });
        }
    }
    expectations.sort();
    expectations
}

fn rules(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: usize, rule: &str) -> Expectation {
        Expectation {
            line,
            rule: rule.into(),
        }
    }

    #[test]
    fn end_of_line_marker_applies_to_its_line() {
        assert_eq!(parse("a: 1\nb: 2  # expect: r1, r2\n"), vec![at(2, "r1"), at(2, "r2")]);
    }

    #[test]
    fn own_line_marker_applies_to_next_content_line() {
        let text = "# expect: r1\n\n# a comment\nkey: value\nother: 1\n";
        assert_eq!(parse(text), vec![at(4, "r1")]);
    }
}
