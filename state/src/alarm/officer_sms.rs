//! Officers' SMS commands: `JS <case>` accept, `WC <case> <note>` close,
//! `ZF <case> <badge>` transfer, `CX <case>` show, `ZB ON|OFF` on or off
//! duty, `FW <line> <badge|group>` set the line's forwarding. Words are
//! separated by spaces (ASCII or ideographic), the command word is
//! case-insensitive. Parsing only: what a command does is apply's.

use serde::{Deserialize, Serialize};

/// A parsed officer command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum OfficerSms {
    /// `JS <case>`.
    Accept(String),
    /// `WC <case> <note>`.
    Close(String, String),
    /// `ZF <case> <badge>`.
    Transfer(String, String),
    /// `CX <case>`.
    Show(String),
    /// `ZB ON|OFF`.
    Duty(bool),
    /// `FW <line> <badge|group>`.
    Forward(String, String),
}

/// The usage line sent back with an error.
pub const USAGE: &str = "JS 编号 接警 | WC 编号 说明 结案 | ZF 编号 警号 转交 | CX 编号 查询 | ZB ON/OFF 上下班 | FW 线路 警号或组 转发";

/// Whether `text` looks like a command (its first word is a command word),
/// so an officer's other texts to a line are still alarms.
pub fn is_command(text: &str) -> bool {
    let first = words(text).next().unwrap_or("").to_ascii_uppercase();
    matches!(first.as_str(), "JS" | "WC" | "ZF" | "CX" | "ZB" | "FW")
}

fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| c.is_whitespace() || c == '\u{3000}')
        .filter(|w| !w.is_empty())
}

/// Parses an officer's SMS; the error is the text sent back.
pub fn parse_officer_sms(text: &str) -> Result<OfficerSms, String> {
    let mut w = words(text);
    let cmd = w.next().unwrap_or("").to_ascii_uppercase();
    let arg = |x: Option<&str>, what: &str| -> Result<String, String> {
        x.map(|s| s.to_ascii_uppercase())
            .ok_or_else(|| format!("缺少{what}。用法：{USAGE}"))
    };
    match cmd.as_str() {
        "JS" => Ok(OfficerSms::Accept(arg(w.next(), "案件编号")?)),
        "CX" => Ok(OfficerSms::Show(arg(w.next(), "案件编号")?)),
        "WC" => {
            let case = arg(w.next(), "案件编号")?;
            let note: Vec<&str> = w.collect();
            Ok(OfficerSms::Close(case, note.join(" ")))
        }
        "ZF" => {
            let case = arg(w.next(), "案件编号")?;
            Ok(OfficerSms::Transfer(case, arg(w.next(), "警号")?))
        }
        "ZB" => match w.next().map(|s| s.to_ascii_uppercase()).as_deref() {
            Some("ON") | Some("上班") => Ok(OfficerSms::Duty(true)),
            Some("OFF") | Some("下班") => Ok(OfficerSms::Duty(false)),
            _ => Err(format!("ZB 后面应为 ON 或 OFF。用法：{USAGE}")),
        },
        "FW" => {
            let line = w.next().ok_or_else(|| format!("缺少线路。用法：{USAGE}"))?;
            let to = w.next().ok_or_else(|| format!("缺少警号或组名。用法：{USAGE}"))?;
            Ok(OfficerSms::Forward(line.to_string(), to.to_string()))
        }
        _ => Err(format!("无法识别的指令。用法：{USAGE}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_word_parses_in_either_case_and_with_ideographic_spaces() {
        assert_eq!(
            parse_officer_sms("js a20261203-0001"),
            Ok(OfficerSms::Accept("A20261203-0001".into()))
        );
        assert_eq!(
            parse_officer_sms("WC\u{3000}A20261203-0001 已处置 嫌疑人逃离"),
            Ok(OfficerSms::Close(
                "A20261203-0001".into(),
                "已处置 嫌疑人逃离".into()
            ))
        );
        assert_eq!(
            parse_officer_sms("ZF A1 P002"),
            Ok(OfficerSms::Transfer("A1".into(), "P002".into()))
        );
        assert_eq!(parse_officer_sms("cx A1"), Ok(OfficerSms::Show("A1".into())));
        assert_eq!(parse_officer_sms("ZB on"), Ok(OfficerSms::Duty(true)));
        assert_eq!(parse_officer_sms("ZB OFF"), Ok(OfficerSms::Duty(false)));
        assert_eq!(
            parse_officer_sms("FW 110 巡逻一组"),
            Ok(OfficerSms::Forward("110".into(), "巡逻一组".into()))
        );
    }

    #[test]
    fn a_bad_command_is_an_error_that_teaches_the_usage() {
        for bad in ["JS", "ZB maybe", "FW 110", "HELLO", ""] {
            let e = parse_officer_sms(bad).expect_err(bad);
            assert!(e.contains("用法"), "{bad}: {e}");
        }
        assert!(is_command("js A1") && is_command("ZB ON"));
        assert!(!is_command("有人抢劫") && !is_command(""));
    }
}
