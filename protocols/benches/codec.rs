//! Codec benchmarks (filled once the protocol modules land).
fn main() {}
