//! The protocol family: which of the four carrier protocols a carrier, a
//! simulator account or a PDU speaks. It is the one name for that concept in
//! the workspace (the gateway's actors, the simulator and the tools all use
//! it); it says nothing about how a protocol frames its bytes, which is
//! [`crate::framing::Wire`]'s job.

use serde::{Deserialize, Serialize};

/// The four carrier protocols.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Cmpp,
    Sgip,
    Smgp,
    Smpp,
}

impl Protocol {
    pub const ALL: [Protocol; 4] = [Protocol::Cmpp, Protocol::Sgip, Protocol::Smgp, Protocol::Smpp];

    /// The lowercase name used in files, logs and metrics labels.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Cmpp => "cmpp",
            Protocol::Sgip => "sgip",
            Protocol::Smgp => "smgp",
            Protocol::Smpp => "smpp",
        }
    }

    /// Whether content is coded with `data_coding` (SMPP, GSM 7-bit
    /// possible) rather than the Chinese protocols' `Msg_Fmt` (ASCII / UCS-2).
    pub fn uses_data_coding(self) -> bool {
        self == Protocol::Smpp
    }
}

impl std::fmt::Display for Protocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Protocol {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "cmpp" => Ok(Protocol::Cmpp),
            "sgip" => Ok(Protocol::Sgip),
            "smgp" => Ok(Protocol::Smgp),
            "smpp" => Ok(Protocol::Smpp),
            other => Err(format!("unknown protocol {other:?} (cmpp, sgip, smgp, smpp)")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Protocol;

    #[test]
    fn every_protocol_reads_back_from_its_name() {
        for p in Protocol::ALL {
            assert_eq!(p.name().parse::<Protocol>(), Ok(p));
            assert_eq!(p.to_string(), p.name());
        }
        assert!("x25".parse::<Protocol>().is_err());
    }
}
