//! Multi-process failover and fault drills against real `smsgw` nodes and the
//! simulator.
//!
//! Not built yet: the drills arrive with the cluster (issues 4 to 6). Tests
//! here only ever target 127.0.0.0/8.
