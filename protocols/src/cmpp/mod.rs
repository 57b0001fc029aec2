//! CMPP 2.0 and 3.0 (China Mobile ISMG). Being written (issue 2).
