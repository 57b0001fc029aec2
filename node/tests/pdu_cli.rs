//! `smsgw pdu decode|encode` as an ops person uses it: hex pasted from a
//! capture in, JSON out, and back; bad input gives an error naming the field
//! and offset, never a panic.

use std::io::Write;
use std::process::{Command, Stdio};

fn smsgw(args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_smsgw"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run smsgw");
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn vectors() -> Vec<serde_json::Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../protocols/tests/vectors/independent.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn every_vector_decodes_to_named_fields_and_encodes_back() {
    for v in vectors() {
        let proto = v["proto"].as_str().unwrap();
        let hex = v["hex"].as_str().unwrap();
        // Pasted the way captures show it: spaced pairs.
        let spaced: Vec<String> = hex
            .as_bytes()
            .chunks(2)
            .map(|c| String::from_utf8_lossy(c).into())
            .collect();
        let (ok, json, err) = smsgw(&["pdu", "decode", "--proto", proto, &spaced.join(" ")], None);
        assert!(ok, "{proto} {}: {err}", v["what"]);
        let decoded: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert!(decoded["command"].is_string(), "{json}");
        let (ok, back, err) = smsgw(&["pdu", "encode", "--proto", proto, "-"], Some(&json));
        assert!(ok, "{err}");
        assert_eq!(back.trim(), hex, "{proto} {}", v["what"]);
    }
}

#[test]
fn errors_name_field_and_offset() {
    // A CMPP CONNECT cut inside AuthenticatorSource.
    let (ok, _, err) = smsgw(
        &[
            "pdu",
            "decode",
            "--proto",
            "cmpp2",
            "0000001a000000010000000134343535363600",
        ],
        None,
    );
    assert!(!ok);
    assert!(err.contains("offset"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let (ok, _, err) = smsgw(
        &[
            "pdu",
            "decode",
            "--proto",
            "smpp",
            "00000010000000ff000000000000002e",
        ],
        None,
    );
    assert!(!ok);
    assert!(err.contains("unknown command id 0x000000ff"), "{err}");
    let (ok, _, err) = smsgw(&["pdu", "decode", "--proto", "sgip", "0x0g"], None);
    assert!(!ok);
    assert!(err.contains("not hex"), "{err}");
    let (ok, _, err) = smsgw(
        &["pdu", "encode", "--proto", "smgp", r#"{"command":"nope"}"#],
        None,
    );
    assert!(!ok);
    assert!(err.contains("does not fit"), "{err}");
}
