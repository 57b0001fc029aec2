//! A carrier in a box: CMPP, SGIP, SMGP and SMPP servers with delivery
//! reports, MO injection, throttling and fault injection.
//!
//! Not built yet (issue 3). It must never depend on the gateway's crates other
//! than `protocols`: it is the independent ground truth of what was received.
