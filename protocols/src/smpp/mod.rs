//! SMPP 3.4. Being written (issue 2).
