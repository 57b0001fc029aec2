//! The cluster document: a full file parses, the demo routes the real Chinese
//! segments, the TOML and JSON forms round-trip, and errors name key and line.

use smsgw_config::{ClusterDoc, DemoCarrier, DemoCarriers, Priority};

const FULL: &str = r#"
[defaults]
validity_secs = 3600
report = false

[[carriers]]
name = "cm"
protocol = "cmpp3"
address = "127.0.0.1:7890"
login = "900001"
password = "secret"
connections = 2
window = 32
tps = 500
sp_number = "1069000"

[[carriers]]
name = "cu"
protocol = "sgip"
address = "127.0.0.1:8801"
login = "900001"
password = "secret"
sgip_sp_listen = "0.0.0.0:8802"

[[routes]]
prefixes = ["134-139", "150-152"]
carrier = "cm"
backup = "cu"

[[routes]]
prefixes = ["*"]
carrier = "cu"

[[accounts]]
name = "billing"
api_keys = ["sk_billing_0123456789"]
priorities = ["high", "normal"]
balance = 1000
"#;

fn err(text: &str) -> (String, usize, String) {
    let e = ClusterDoc::from_toml_str(text, "c.toml").expect_err("should be rejected");
    (e.key.clone(), e.line, e.to_string())
}

#[test]
fn full_document_parses_and_routes() {
    let d = ClusterDoc::from_toml_str(FULL, "c.toml").unwrap();
    assert_eq!(d.defaults.validity_secs, 3600);
    assert!(!d.defaults.report);
    assert_eq!(d.carriers[0].tps, 500);
    assert_eq!(d.carriers[1].window, 16, "default window");
    let a = d.account_by_key("sk_billing_0123456789").unwrap();
    assert!(a.allows(Priority::High) && !a.allows(Priority::Alarm));
    assert_eq!(a.balance, Some(1000));
    assert!(d.account_by_key("sk_billing_012345678X").is_none());
    let r = d.router();
    let c = r.route("13800138000").unwrap();
    assert_eq!((c.carrier, c.backup, c.prefix), ("cm", Some("cu"), "138"));
    assert_eq!(r.route("18612345678").unwrap().carrier, "cu");
}

#[test]
fn toml_and_json_round_trip() {
    let d = ClusterDoc::from_toml_str(FULL, "c.toml").unwrap();
    let again = ClusterDoc::from_toml_str(&d.to_toml(), "shown.toml").unwrap();
    assert_eq!(d, again);
    assert_eq!(ClusterDoc::from_json(&d.to_json()).unwrap(), d);
}

fn demo() -> ClusterDoc {
    let c = |port: u16| DemoCarrier {
        address: format!("127.0.0.1:{port}"),
        login: "900001".into(),
        password: "secret".into(),
    };
    ClusterDoc::demo(
        &DemoCarriers {
            china_mobile: c(1),
            china_unicom: c(2),
            china_telecom: c(3),
            international: c(4),
        },
        "sk_demo_0123456789abcdef",
    )
}

#[test]
fn demo_routes_the_chinese_segments() {
    let d = demo();
    let again = ClusterDoc::from_toml_str(&d.to_toml(), "demo.toml").unwrap();
    assert_eq!(again, d, "the demo document validates");
    let r = d.router();
    for (n, carrier) in [
        ("13800138000", "china-mobile"),
        ("14712345678", "china-mobile"),
        ("19812345678", "china-mobile"),
        ("+8615012345678", "china-mobile"),
        ("13012345678", "china-unicom"),
        ("16612345678", "china-unicom"),
        ("18612345678", "china-unicom"),
        ("13312345678", "china-telecom"),
        ("19912345678", "china-telecom"),
        ("0086 ", "international"),
        ("+447700900123", "international"),
        ("0014155550100", "international"),
        ("17012345678", "international"),
    ] {
        assert_eq!(r.route(n).map(|c| c.carrier), Some(carrier), "{n}");
    }
    assert!(d.demo);
    assert_eq!(d.carriers.len(), 4);
}

#[test]
fn errors_name_key_and_line() {
    let bad_proto = FULL.replace("protocol = \"cmpp3\"", "protocol = \"cmpp4\"");
    let (k, l, m) = err(&bad_proto);
    assert_eq!((k.as_str(), l), ("carriers[0].protocol", 8), "{m}");
    assert!(m.contains("cmpp2, cmpp3"), "{m}");

    let (k, l, _) = err(&FULL.replace("tps = 500", "tps = 0"));
    assert_eq!((k.as_str(), l), ("carriers[0].tps", 14));

    let (k, l, m) = err(&FULL.replace("carrier = \"cu\"\n", "carrier = \"nope\"\n"));
    assert_eq!((k.as_str(), l), ("routes[1].carrier", 32), "{m}");

    let (k, l, m) = err(&FULL.replace("\"150-152\"", "\"152-150\""));
    assert_eq!((k.as_str(), l), ("routes[0].prefixes[1]", 26), "{m}");

    let (k, _, m) = err(&FULL.replace("\"150-152\"", "\"136\""));
    assert_eq!(k, "routes[0].prefixes[1]");
    assert!(m.contains("already routed"), "{m}");

    let (k, l, _) = err(&FULL.replace("\"high\", \"normal\"", "\"high\", \"urgent\""));
    assert_eq!((k.as_str(), l), ("accounts[0].priorities[1]", 37));

    let (k, _, _) = err(&FULL.replace("sk_billing_0123456789", "short"));
    assert_eq!(k, "accounts[0].api_keys[0]");

    let (k, l, m) = err(&FULL.replace("window = 32", "windw = 32"));
    assert_eq!((k.as_str(), l), ("windw", 13), "{m}");

    let (k, _, m) = err(&FULL.replace("address = \"127.0.0.1:7890\"\n", ""));
    assert_eq!(k, "address", "{m}");

    let dup = format!("{FULL}\n[[accounts]]\nname = \"billing\"\napi_keys = [\"sk_other_0123456789\"]\n");
    let (k, l, m) = err(&dup);
    assert_eq!((k.as_str(), l), ("accounts[1].name", 41), "{m}");
}
