//! The 110 alarm desk's side of the cluster document: its lines (the
//! numbers citizens text), keyword rules that raise a case's rank, the
//! account whose messages the desk's SMS are, and its timing.
//!
//! ```toml
//! [alarm]
//! account = "desk"                 # the desk's SMS are this account's messages
//! desk_number = "110"              # officers' commands come to this number (default: any line)
//! ack_timeout_secs = 120           # a case not accepted in time goes to the next officer
//! open_limit_secs = 1800           # an open case is flagged after this
//! join_window_secs = 600           # a citizen's next text within this joins his open case
//! flood_per_minute = 10            # more texts than this in a minute: flagged, no more replies
//!
//! [[alarm.lines]]
//! number = "110"                   # after the carrier's SP number, or a full number
//! kind = "crime"
//! priority = 1                     # 1 first
//! reply = "【110】您的短信报警已收到（编号 {case}），请保持手机畅通。"
//!
//! [[alarm.keywords]]
//! words = ["抢劫", "持刀", "绑架"]
//! rank = 0                         # 0 is the top of the queue (a line's rank is priority × 10)
//! ```
//!
//! Officers, duty groups and forwarding rules are not here: they change
//! during a shift (from the console or an officer's SMS) and are kept in
//! the replicated state.

use serde::{Deserialize, Serialize};

/// One alarm line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlarmLine {
    /// The number citizens text (`110`).
    pub number: String,
    /// What it is for (`crime`, `help`).
    pub kind: String,
    /// Priority, 1 first.
    pub priority: u8,
    /// The automatic reply, `{case}` replaced by the case id; none: no reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<String>,
}

/// Words that put a case at `rank`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeywordRank {
    /// Any of these in the text.
    pub words: Vec<String>,
    /// The rank (lower first).
    pub rank: u16,
}

/// The alarm desk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlarmDesk {
    /// The account whose messages the desk's SMS are (and whose keys are
    /// dispatcher keys of `/v1/alarm/...`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// The number officers text commands to (default: any line).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desk_number: Option<String>,
    /// Seconds before an unaccepted case escalates.
    pub ack_timeout_secs: u64,
    /// Seconds before an open case is flagged.
    pub open_limit_secs: u64,
    /// Seconds within which a citizen's next text joins his open case.
    pub join_window_secs: u64,
    /// Texts a number may send per minute before it is flagged.
    pub flood_per_minute: u32,
    /// The lines.
    #[serde(default)]
    pub lines: Vec<AlarmLine>,
    /// Keyword ranks.
    #[serde(default)]
    pub keywords: Vec<KeywordRank>,
}

impl Default for AlarmDesk {
    fn default() -> Self {
        AlarmDesk {
            account: None,
            desk_number: None,
            ack_timeout_secs: 120,
            open_limit_secs: 1800,
            join_window_secs: 600,
            flood_per_minute: 10,
            lines: Vec::new(),
            keywords: Vec::new(),
        }
    }
}

impl AlarmDesk {
    /// The demo desk: 110 (crime) and 1101 (help) for `account`, with the
    /// usual top keywords.
    pub fn demo(account: &str) -> AlarmDesk {
        let reply = |line: &str| {
            Some(format!(
                "【{line}】您的短信报警已收到（编号 {{case}}），请保持手机畅通，勿回拨。"
            ))
        };
        AlarmDesk {
            account: Some(account.into()),
            lines: vec![
                AlarmLine {
                    number: "110".into(),
                    kind: "crime".into(),
                    priority: 1,
                    reply: reply("110"),
                },
                AlarmLine {
                    number: "1101".into(),
                    kind: "help".into(),
                    priority: 2,
                    reply: reply("1101"),
                },
            ],
            keywords: vec![KeywordRank {
                words: ["抢劫", "持刀", "绑架", "杀人", "爆炸"]
                    .map(String::from)
                    .to_vec(),
                rank: 0,
            }],
            ..AlarmDesk::default()
        }
    }

    /// Whether the desk is in use.
    pub fn enabled(&self) -> bool {
        !self.lines.is_empty()
    }

    /// The line an MO to `destination` is for: the destination without the
    /// carrier's SP number (`sp_number`), or the whole destination, matched
    /// by the longest line number it starts with.
    pub fn line_for(&self, destination: &str, sp_number: Option<&str>) -> Option<&AlarmLine> {
        let local = sp_number
            .and_then(|sp| destination.strip_prefix(sp))
            .unwrap_or(destination);
        [local, destination]
            .iter()
            .flat_map(|d| {
                self.lines
                    .iter()
                    .filter(move |l| d.starts_with(l.number.as_str()))
            })
            .max_by_key(|l| l.number.len())
    }

    /// Whether an MO to `destination` reached the desk number.
    pub fn is_desk_number(&self, destination: &str, sp_number: Option<&str>) -> bool {
        let local = sp_number
            .and_then(|sp| destination.strip_prefix(sp))
            .unwrap_or(destination);
        match &self.desk_number {
            Some(n) => local == n || destination == n,
            None => self.line_for(destination, sp_number).is_some(),
        }
    }

    /// The triage rank of `text` on `line`: the line's priority × 10, or a
    /// keyword rank when that is lower.
    pub fn rank(&self, line: &AlarmLine, text: &str) -> u16 {
        let base = u16::from(line.priority) * 10;
        self.keywords
            .iter()
            .filter(|k| k.words.iter().any(|w| text.contains(w.as_str())))
            .map(|k| k.rank)
            .fold(base, u16::min)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_destination_finds_its_line_after_the_sp_number_by_the_longest_match() {
        let d = AlarmDesk::demo("demo");
        assert_eq!(
            d.line_for("1069000110", Some("1069000")).map(|l| l.kind.as_str()),
            Some("crime")
        );
        assert_eq!(
            d.line_for("10690001101", Some("1069000"))
                .map(|l| l.kind.as_str()),
            Some("help")
        );
        assert_eq!(d.line_for("110", None).map(|l| l.kind.as_str()), Some("crime"));
        assert!(d.line_for("1069000123", Some("1069000")).is_none());
        assert!(d.is_desk_number("1069000110", Some("1069000")));
    }

    #[test]
    fn a_top_keyword_outranks_every_line() {
        let d = AlarmDesk::demo("demo");
        let (crime, help) = (&d.lines[0], &d.lines[1]);
        assert_eq!(d.rank(crime, "钱包被偷"), 10);
        assert_eq!(d.rank(help, "门打不开"), 20);
        assert_eq!(d.rank(help, "有人持刀"), 0);
    }
}
