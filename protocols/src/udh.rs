//! Long messages. Being written (issue 2).
