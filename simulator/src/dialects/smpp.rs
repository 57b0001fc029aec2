//! SMPP 3.4 as an SMSC speaks it. Filled in when the SMPP codec lands.
