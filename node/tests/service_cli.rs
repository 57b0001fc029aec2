//! The service's CLI against a real node, as a desk clerk would use it:
//! import a GBK spreadsheet, find a contact by pinyin initials, make a
//! group, add a template, send to the group minus one member with the
//! template, follow the job, and read the records and statistics.

mod common;

use std::time::{Duration, Instant};

use common::{cli, Node};

#[test]
fn a_clerk_imports_finds_groups_and_sends_from_the_command_line() {
    let node = Node::start(&[]);
    let dir = node.dir.path();
    let api = format!("http://{}", node.http);
    let run = |args: &[&str]| {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--api", &api]);
        let (ok, out, err) = cli(dir, &all);
        assert!(ok, "smsgw {args:?} failed:\n{out}\n{err}");
        (out, err)
    };
    let csv = "姓名,手机,单位\n张伟,13900000001,应急办\n李娜,13900000002,应急办\n王芳,13900000003,应急办\n错误,123x,应急办\n";
    let (gbk, _, _) = encoding_rs::GBK.encode(csv);
    std::fs::write(dir.join("通讯录.csv"), &gbk).expect("write csv");

    let (out, err) = run(&["contacts", "import", "通讯录.csv"]);
    assert!(out.contains("3 created") && out.contains("gbk"), "{out}");
    assert!(err.contains("line 5"), "the bad line is named: {err}");
    let (out, _) = run(&["contacts", "find", "zw"]);
    assert!(out.contains("张伟") && out.contains("13900000001"), "{out}");
    run(&["groups", "add", "应急办", "--unit", "应急办"]);
    let (out, _) = run(&["groups", "members", "应急办"]);
    assert!(out.contains("3 members"), "{out}");
    run(&["templates", "add", "集合", "{name}：请到{place}集合"]);
    let (out, _) = run(&[
        "send",
        "--group",
        "应急办",
        "--except",
        "张伟",
        "--template",
        "集合",
        "--var",
        "place=三号楼",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json answer");
    assert_eq!(v["recipients"], 2, "{out}");
    let job = v["job"].to_string();

    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (out, _) = run(&["jobs", "show", &job]);
        let j: serde_json::Value = serde_json::from_str(&out).expect("json job");
        if j["by_status"]["DELIVERED"] == 2 {
            break;
        }
        assert!(Instant::now() < deadline, "job not delivered: {out}");
        std::thread::sleep(Duration::from_millis(200));
    }
    let (out, _) = run(&["records", "--job", &job]);
    assert!(
        out.contains("李娜：请到三号楼集合") && out.contains("王芳"),
        "{out}"
    );
    assert!(!out.contains("张伟："), "the excluded member got nothing: {out}");
    let (out, _) = run(&["stats", "--period", "week", "--format", "csv"]);
    assert!(out.lines().any(|l| l.ends_with(",sent,2,2")), "{out}");
    let (out, _) = run(&["stats", "--by", "carrier"]);
    assert!(out.contains("2/2"), "a table of messages/parts: {out}");

    // Bad input: the API's error, a non-zero exit.
    let (ok, _, err) = cli(dir, &["send", "--group", "没有", "--text", "x", "--api", &api]);
    assert!(!ok && err.contains("not_found") && err.contains("没有"), "{err}");
}
