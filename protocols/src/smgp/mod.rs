//! SMGP 3.0 (China Telecom ISMG). Being written (issue 2).
