//! The independent test vectors (`tests/vectors/independent.json`, a copy of
//! `shared/protocols/vectors/`), shared by every protocol's test binary.

use serde_json::Value;

/// Every vector whose `proto` starts with `prefix` (`cmpp` matches `cmpp2`
/// and `cmpp3`).
pub fn of(prefix: &str) -> Vec<Value> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/independent.json");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let all: Vec<Value> = serde_json::from_str(&text).expect("vectors json");
    all.into_iter()
        .filter(|v| v["proto"].as_str().is_some_and(|p| p.starts_with(prefix)))
        .collect()
}
