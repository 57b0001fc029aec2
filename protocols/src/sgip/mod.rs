//! SGIP 1.2 (China Unicom SMG). Being written (issue 2).
