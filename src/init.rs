//! `planelint init`: a starter `.planelint.yaml` and a sample `DataPlane`
//! manifest that lints clean. Never overwrites a file. Imports `discover`.

use std::path::{Path, PathBuf};

/// The starter config: every key, with the defaults spelt out.
pub const STARTER_CONFIG: &str = "\
# planelint configuration: https://github.com/planelint/planelint#configuration
# Extra policy directories, relative to this file.
policies: []
# Turn a rule off, or change its severity: off | error | warning | note.
rules: {}
#   cluster-pool-unknown: error
include: [\"**/*.yaml\", \"**/*.yml\"]
exclude: []
# The lowest severity that fails a run: error | warning | note.
failLevel: error
# human | json | sarif | github | junit
format: human
# The files of a Helm chart's templates/: skip (Go templates, not YAML) | lint.
helmTemplates: skip
";

/// A clean project-isolation data plane with two domains and a pool.
pub const SAMPLE_MANIFEST: &str = "\
apiVersion: planelint/v1
kind: DataPlane
metadata:
  name: example
spec:
  isolation: project        # domain | project
  providers: mixed          # mixed | single
  domains:
    - name: development
    - name: production
      production: true
  projects: [project-1]
  placements:
    - {domain: development, project: project-1, provider: gcp, account: gcp-project-example-development-project-1}
    - {domain: production, project: project-1, provider: aws, account: \"111111111111\"}
---
apiVersion: planelint/v1
kind: ClusterPool
metadata: {name: default}
spec:
  metadataBucket: s3://example-metadata
";

/// The file `init` writes the sample manifest to.
pub const SAMPLE_FILE: &str = "dataplane.yaml";

#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("{0} already exists; not overwriting it")]
    Exists(PathBuf),
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
}

/// Writes both files into `dir`; writes nothing when either exists.
pub fn init(dir: &Path) -> Result<Vec<PathBuf>, InitError> {
    let files = [
        (dir.join(crate::discover::CONFIG_FILE), STARTER_CONFIG),
        (dir.join(SAMPLE_FILE), SAMPLE_MANIFEST),
    ];
    if let Some((path, _)) = files.iter().find(|(path, _)| path.exists()) {
        return Err(InitError::Exists(path.clone()));
    }
    let mut written = Vec::new();
    for (path, text) in files {
        // `create_new`: a file that appeared since the check is still kept.
        let result = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .and_then(|mut file| std::io::Write::write_all(&mut file, text.as_bytes()));
        match result {
            Ok(()) => written.push(path),
            Err(source) if source.kind() == std::io::ErrorKind::AlreadyExists => return Err(InitError::Exists(path)),
            Err(source) => return Err(InitError::Write { path, source }),
        }
    }
    Ok(written)
}
