//! Carrier profiles in the cluster document: a shipped profile by name with
//! per-key overrides, the protocol's profile when none is named, the TOML
//! and JSON forms round-trip, and every bad value names its key and line.

use smsgw_config::{ClusterDoc, IdFormat, ReceiptStyle, UdhStyle};

fn doc(carrier_extra: &str) -> String {
    format!(
        r#"
[[carriers]]
name = "ct"
protocol = "smgp"
address = "127.0.0.1:8890"
login = "client1"
password = "secret"

[[carriers]]
name = "intl"
protocol = "smpp"
address = "127.0.0.1:2775"
login = "esme"
password = "secret"
{carrier_extra}

[[routes]]
prefixes = ["*"]
carrier = "ct"
"#
    )
}

#[test]
fn a_carrier_without_a_profile_gets_its_protocols_shipped_one() {
    let d = ClusterDoc::from_toml_str(&doc(""), "c.toml").unwrap();
    let ct = d.carriers[0].profile();
    assert_eq!((ct.name.as_str(), ct.version.as_str()), ("china-telecom", "3.0"));
    assert_eq!(ct.login_utc_offset_secs, 8 * 3600, "Beijing time");
    assert_eq!(
        (
            ct.fee.fee_type.as_str(),
            ct.fee.fee_code.as_str(),
            ct.fee.fixed_fee.as_str()
        ),
        ("00", "000000", "000000")
    );
    let intl = d.carriers[1].profile();
    assert_eq!(intl.name, "generic-smpp");
    assert_eq!(intl.receipt_id, IdFormat::Text);
}

#[test]
fn a_named_profile_with_overrides_resolves_and_round_trips() {
    let extra = r#"profile = "generic-smpp"
[carriers.overrides]
version = "3.3"
submit_resp_id = "hex"
receipt_id = "decimal"
receipts = "both"
data_coding_gbk = 8
max_parts = 5
udh = "sar"
login_time_zone = "+05:30"
"#;
    let d = ClusterDoc::from_toml_str(&doc(extra), "c.toml").unwrap();
    let p = d.carriers[1].profile();
    assert_eq!(p.version, "3.3");
    assert_eq!(
        (p.submit_resp_id, p.receipt_id),
        (IdFormat::Hex, IdFormat::Decimal)
    );
    assert_eq!(p.receipts, ReceiptStyle::Both);
    assert_eq!((p.data_coding_ucs2, p.data_coding_gbk, p.max_parts), (8, 8, 5));
    assert_eq!(p.udh, UdhStyle::Sar);
    assert_eq!(p.login_utc_offset_secs, 5 * 3600 + 1800);
    let again = ClusterDoc::from_toml_str(&d.to_toml(), "again.toml").unwrap();
    assert_eq!(again, d);
    assert_eq!(ClusterDoc::from_json(&d.to_json()).unwrap(), d);
}

#[test]
fn smgp_fee_defaults_and_version_can_be_overridden() {
    let text = doc("").replace(
        "password = \"secret\"\n\n[[carriers]]",
        "password = \"secret\"\nprofile = \"china-telecom\"\n[carriers.overrides]\nversion = \"1.3\"\nfee_type = \"01\"\nfee_code = \"000010\"\nservice_id = \"HELP\"\n\n[[carriers]]",
    );
    let d = ClusterDoc::from_toml_str(&text, "c.toml").unwrap();
    let p = d.carriers[0].profile();
    assert_eq!(p.version, "1.3");
    assert_eq!(
        (p.fee.fee_type.as_str(), p.fee.fee_code.as_str()),
        ("01", "000010")
    );
    assert_eq!(
        (p.fee.fixed_fee.as_str(), p.fee.service_id.as_str()),
        ("000000", "HELP")
    );
}

#[test]
fn an_sgip_corp_id_is_five_digits() {
    let with = |v: &str| {
        doc("").replace(
            "password = \"secret\"\n\n[[carriers]]",
            &format!("password = \"secret\"\n[carriers.overrides]\ncorp_id = \"{v}\"\n\n[[carriers]]"),
        )
    };
    let d = ClusterDoc::from_toml_str(&with("41234"), "c.toml").unwrap();
    assert_eq!(d.carriers[0].profile().fee.corp_id, "41234");
    let e = ClusterDoc::from_toml_str(&with("4123"), "c.toml")
        .unwrap_err()
        .to_string();
    assert!(e.contains("corp_id") && e.contains("5 digits"), "{e}");
}

#[test]
fn bad_profile_keys_name_key_and_line() {
    let cases = [
        (
            "profile = \"vodafone\"",
            "carriers[1].profile",
            15,
            "not a carrier profile",
        ),
        (
            "profile = \"china-telecom\"",
            "carriers[1].profile",
            15,
            "not for smpp",
        ),
        (
            "[carriers.overrides]\nversion = \"3.0\"",
            "carriers[1].overrides.version",
            16,
            "3.3 or 3.4",
        ),
        (
            "[carriers.overrides]\nreceipt_id = \"octal\"",
            "carriers[1].overrides.receipt_id",
            16,
            "hex",
        ),
        (
            "[carriers.overrides]\nfee_code = \"12\"",
            "carriers[1].overrides.fee_code",
            16,
            "6 digits",
        ),
        (
            "[carriers.overrides]\nlogin_time_zone = \"Europe/London\"",
            "carriers[1].overrides.login_time_zone",
            16,
            "daylight saving",
        ),
        (
            "[carriers.overrides]\nmax_parts = 0",
            "carriers[1].overrides.max_parts",
            16,
            "from 1",
        ),
        (
            "[carriers.overrides]\nudh = \"7bit\"",
            "carriers[1].overrides.udh",
            16,
            "sar",
        ),
    ];
    for (extra, key, line, msg) in cases {
        let e = ClusterDoc::from_toml_str(&doc(extra), "c.toml").expect_err(extra);
        assert_eq!((e.key.as_str(), e.line), (key, line), "{extra}: {e}");
        assert!(e.to_string().contains(msg), "{extra}: {e}");
    }
    let e = ClusterDoc::from_toml_str(&doc("[carriers.overrides]\nfee = 1"), "c.toml").unwrap_err();
    assert_eq!(e.line, 16, "unknown keys are refused with their line: {e}");
}
