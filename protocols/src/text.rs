//! Text encodings. Being written (issue 2).
