//! Typed configuration for smsgw: the node file (id, data dir, addresses, log
//! format) and the cluster document (carriers, routes, accounts), loaded from
//! TOML and validated with errors that name the key and the line.
//!
//! Not built yet; issue 4 (node file) and issue 6 (cluster document) fill it.
//! It must never do I/O beyond reading the file it is given.
