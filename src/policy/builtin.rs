//! The built-in policy pack, embedded so the binary works with no files
//! beside it. `tests/policies.rs` checks that this list matches `policies/`.

/// (file name, contents) of every built-in policy, sorted by name.
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "cluster-pool-unknown.yaml",
        include_str!("../../policies/cluster-pool-unknown.yaml"),
    ),
    (
        "on-demand-default-account.yaml",
        include_str!("../../policies/on-demand-default-account.yaml"),
    ),
    (
        "placement-account-shared.yaml",
        include_str!("../../policies/placement-account-shared.yaml"),
    ),
    (
        "placement-duplicate.yaml",
        include_str!("../../policies/placement-duplicate.yaml"),
    ),
    (
        "placement-missing.yaml",
        include_str!("../../policies/placement-missing.yaml"),
    ),
    (
        "placement-shape.yaml",
        include_str!("../../policies/placement-shape.yaml"),
    ),
    (
        "placement-unknown-unit.yaml",
        include_str!("../../policies/placement-unknown-unit.yaml"),
    ),
    (
        "pool-metadata-bucket-mismatch.yaml",
        include_str!("../../policies/pool-metadata-bucket-mismatch.yaml"),
    ),
    (
        "pool-metadata-bucket-shared.yaml",
        include_str!("../../policies/pool-metadata-bucket-shared.yaml"),
    ),
    ("provider-mix.yaml", include_str!("../../policies/provider-mix.yaml")),
];
