//! The benchmark harness: `cargo bench`. Generates repos with the project's
//! generator (`tests/common/generator.rs`) at three sizes (and two variants of the
//! middle one: every placement on one account, and a tiny repo for start-up),
//! then reports, measured in the same run on the same files: the median wall
//! time of `planelint check --format json`, its peak memory, the parse floor
//! (reading every file and iterating its YAML events, nothing else, on one
//! thread and on all cores, and on all cores with the largest files handed
//! out first: "floor LF"), PyYAML's C loader on the same files, the ratios
//! planelint / floor and planelint / PyYAML, and the growth between sizes.
//!
//! Options (after `cargo bench --bench pipeline --`): `--runs N` (default 5),
//! `--sizes small,medium,large,one-account,tiny`, `--no-pyyaml`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

#[path = "../tests/common/generator.rs"]
mod generator;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

struct Size {
    name: &'static str,
    args: &'static [&'static str],
}

const SIZES: &[Size] = &[
    Size {
        name: "tiny",
        args: &["--projects", "5", "--clusters", "40", "--pools", "4"],
    },
    Size {
        name: "small",
        args: &["--projects", "300", "--clusters", "500", "--pools", "20"],
    },
    Size {
        name: "medium",
        args: &["--projects", "3000", "--clusters", "5000", "--pools", "200"],
    },
    Size {
        name: "one-account",
        args: &[
            "--projects",
            "3000",
            "--clusters",
            "5000",
            "--pools",
            "200",
            "--one-account",
        ],
    },
    Size {
        name: "large",
        args: &["--projects", "30000", "--clusters", "50000", "--pools", "2000"],
    },
];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runs: usize = option(&args, "--runs").map_or(5, |r| r.parse().expect("--runs takes a number"));
    let wanted: Vec<String> = option(&args, "--sizes").map_or_else(
        || {
            vec![
                "tiny".into(),
                "small".into(),
                "medium".into(),
                "one-account".into(),
                "large".into(),
            ]
        },
        |s| s.split(',').map(str::to_string).collect(),
    );
    let pyyaml = !args.iter().any(|a| a == "--no-pyyaml");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let work = root.join("target/bench-repos");
    let planelint = PathBuf::from(env!("CARGO_BIN_EXE_planelint"));
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("machine: {cores} cores; {runs} runs per measurement; medians");
    println!(
        "{:<12} {:>6} {:>8} {:>11} {:>9} {:>11} {:>11} {:>11} {:>10} {:>9} {:>9} {:>9}",
        "size",
        "files",
        "MB",
        "planelint",
        "peak MB",
        "floor 1t",
        "floor all",
        "floor LF",
        "PyYAML C",
        "/floor",
        "/floor LF",
        "/PyYAML"
    );
    let mut previous: Option<(&str, Duration)> = None;
    let mut growth = Vec::new();
    for size in SIZES.iter().filter(|s| wanted.iter().any(|w| w == s.name)) {
        let dir = work.join(size.name);
        if !dir.join("expected.json").is_file() {
            let spec = generator::Spec::from_args(size.args).expect("the sizes' knobs");
            generator::generate(&dir, &spec).expect("generating a repo");
        }
        // A fast run that skipped work is not a result: the findings must be
        // exactly those the generator planted before anything is timed.
        verify_counts(&planelint, &dir, size.name);
        let files = yaml_files(&dir);
        let bytes: u64 = files.iter().map(|f| f.metadata().unwrap().len()).sum();
        // The floor again with the largest files handed out first, as
        // planelint does: the stricter baseline.
        let mut largest_first = files.clone();
        largest_first.sort_by_key(|f| std::cmp::Reverse(f.metadata().unwrap().len()));
        // A large run takes seconds: at most seven of them, a median that
        // one slow moment of the machine does not move.
        let size_runs = if size.name == "large" { runs.min(7) } else { runs };
        // Interleaved, so that a busy moment of the machine falls on all
        // three measurements alike, not on one of them.
        let (mut ours, mut one, mut all, mut all_lf) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for _ in 0..size_runs {
            ours.push(time_command(&planelint, &dir));
            one.push(parse_floor(&files, 1));
            all.push(parse_floor(&files, cores));
            all_lf.push(parse_floor(&largest_first, cores));
        }
        let (planelint_time, floor_one, floor_all, floor_lf) = (median(ours), median(one), median(all), median(all_lf));
        let peak = peak_memory_mb(&planelint, &dir);
        let py = if pyyaml {
            pyyaml_time(&files, if size.name == "large" { 1 } else { 3 })
        } else {
            None
        };
        println!(
            "{:<12} {:>6} {:>8.1} {:>9.1}ms {:>9} {:>9.1}ms {:>9.1}ms {:>9.1}ms {:>10} {:>9} {:>9} {:>9}",
            size.name,
            files.len(),
            bytes as f64 / 1e6,
            ms(planelint_time),
            peak.map_or("n/a".into(), |p| format!("{p:.1}")),
            ms(floor_one),
            ms(floor_all),
            ms(floor_lf),
            py.map_or("n/a".into(), |p| format!("{:.1}ms", ms(p))),
            format!("{:.2}x", planelint_time.as_secs_f64() / floor_all.as_secs_f64()),
            format!("{:.2}x", planelint_time.as_secs_f64() / floor_lf.as_secs_f64()),
            py.map_or("n/a".into(), |p| format!(
                "{:.3}x",
                planelint_time.as_secs_f64() / p.as_secs_f64()
            )),
        );
        if matches!(size.name, "small" | "medium" | "large") {
            if let Some((name, time)) = previous {
                growth.push(format!(
                    "{name} -> {}: {:.2}x",
                    size.name,
                    planelint_time.as_secs_f64() / time.as_secs_f64()
                ));
            }
            previous = Some((size.name, planelint_time));
        }
    }
    if !growth.is_empty() {
        println!("growth of planelint's time between sizes: {}", growth.join(", "));
    }
}

fn option<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .filter(|p| planelint::discover::is_yaml(p))
        .collect();
    files.sort();
    files
}

fn time_command(planelint: &Path, dir: &Path) -> Duration {
    let started = Instant::now();
    let status = Command::new(planelint)
        .args(["check", "--format", "json"])
        .arg(dir)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    let elapsed = started.elapsed();
    assert!(
        status.code() == Some(1),
        "planelint should find the generated violations"
    );
    elapsed
}

/// Checks planelint's findings on `dir`, per rule, against the generator's
/// `expected.json` (every other rule: none), and panics when they differ.
/// The one-account variant puts every placement on one account: there, only
/// `placement-account-shared` is compared (other rules fire on purpose), and
/// nothing may have gone unchecked.
fn verify_counts(planelint: &Path, dir: &Path, size: &str) {
    let output = Command::new(planelint)
        .args(["check", "--format", "json"])
        .arg(dir)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("planelint's JSON report");
    let mut got = std::collections::BTreeMap::<String, u64>::new();
    for finding in report["diagnostics"].as_array().expect("diagnostics") {
        if finding["suppressed"] == false {
            *got.entry(finding["rule"].as_str().unwrap().to_string()).or_default() += 1;
        }
    }
    let unchecked: Vec<&String> = got
        .keys()
        .filter(|rule| ["input-limit", "yaml-syntax", "file-unreadable", "policy-error"].contains(&rule.as_str()))
        .collect();
    assert!(
        unchecked.is_empty(),
        "{size}: planelint did not check everything: {got:?}"
    );
    let text = std::fs::read_to_string(dir.join("expected.json")).unwrap();
    let expected: std::collections::BTreeMap<String, u64> = serde_json::from_str(&text).unwrap();
    if size == "one-account" {
        let rule = "placement-account-shared";
        assert_eq!(got.get(rule), expected.get(rule), "{size}: {rule}");
        return;
    }
    let mut wanted = expected.clone();
    wanted.retain(|_, count| *count > 0);
    assert_eq!(got, wanted, "{size}: findings per rule differ from expected.json");
    println!("{size}: findings match expected.json ({} rules)", expected.len());
}

/// Peak resident memory of one run, from GNU time when it is installed.
fn peak_memory_mb(planelint: &Path, dir: &Path) -> Option<f64> {
    let output = Command::new("/usr/bin/time")
        .args(["-f", "%M"])
        .arg(planelint)
        .args(["check", "--format", "json"])
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stderr);
    let kilobytes: f64 = text.lines().last()?.trim().parse().ok()?;
    Some(kilobytes / 1024.0)
}

/// Reading every file and iterating its YAML events, nothing else.
fn parse_floor(files: &[PathBuf], threads: usize) -> Duration {
    let started = Instant::now();
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                let mut events = 0usize;
                while let Some(file) = files.get(next.fetch_add(1, std::sync::atomic::Ordering::Relaxed)) {
                    let text = std::fs::read_to_string(file).unwrap();
                    let mut parser = saphyr_parser::Parser::new_from_str(&text);
                    while let Some(event) = parser.next_event() {
                        event.unwrap();
                        events += 1;
                    }
                }
                std::hint::black_box(events);
            });
        }
    });
    started.elapsed()
}

/// PyYAML's C loader on the same files (its own clock, so Python's start-up
/// is not counted), median of `runs`.
fn pyyaml_time(files: &[PathBuf], runs: usize) -> Option<Duration> {
    let list = std::env::temp_dir().join(format!("planelint-bench-files-{}", std::process::id()));
    std::fs::write(
        &list,
        files.iter().map(|f| format!("{}\n", f.display())).collect::<String>(),
    )
    .ok()?;
    let script = "import sys, time, yaml\n\
        files = open(sys.argv[1]).read().split()\n\
        times = []\n\
        for _ in range(int(sys.argv[2])):\n\
        \x20   t = time.perf_counter()\n\
        \x20   for f in files:\n\
        \x20       with open(f) as h:\n\
        \x20           list(yaml.load_all(h, Loader=yaml.CSafeLoader))\n\
        \x20   times.append(time.perf_counter() - t)\n\
        times.sort()\n\
        print(times[len(times) // 2])\n";
    let output = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&list)
        .arg(runs.to_string())
        .output()
        .ok()?;
    let _ = std::fs::remove_file(&list);
    if !output.status.success() {
        println!(
            "PyYAML not measured: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
        return None;
    }
    let seconds: f64 = String::from_utf8_lossy(&output.stdout).trim().parse().ok()?;
    Some(Duration::from_secs_f64(seconds))
}
