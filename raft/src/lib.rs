//! The replicated core: openraft type config, the sled log store and state
//! machine, snapshots, the replicated commands and the network between nodes.
//!
//! Not built yet (issue 4). It must never know about carrier sessions.
