//! Editing from the console in real Chromium (WebDriver, headless) against
//! a real node: a dispatcher adds an officer, switches him off duty, makes
//! a duty group and a forwarding rule (a refused one first, its error shown
//! next to the form), removes the rule, then edits an address-book group
//! and saves a template; each change is read back through the JSON API.
//! `SMSGW_SCREENSHOTS=docs/screenshots` saves the edited pages.

mod browser;
mod common;

use std::time::Duration;

use browser::console::{add_user, api_until, assert_all_chinese, runtime};
use browser::{screenshot_dir, Browser};
use common::Node;
use serde_json::json;

#[test]
fn a_dispatcher_edits_the_roster_a_rule_a_group_and_a_template_in_the_page_and_the_api_sees_them() {
    let node = Node::start(&[]);
    let key = node.demo_key();
    add_user(&node, "desk", "desk-pass-1", "dispatcher", Some("demo"));

    runtime().block_on(async {
        let Some(b) = Browser::start(&node.http).await else {
            return;
        };
        let shots = screenshot_dir();
        b.open("/").await;
        b.fill("login-user", "desk").await;
        b.fill("login-password", "desk-pass-1").await;
        b.click("login-submit").await;
        b.click("nav-alarm").await;
        b.el("officer-add").await;

        // An officer added in the page is in the roster the API reads.
        b.fill("officer-badge", "B007").await;
        b.fill("officer-name", "赵警官").await;
        b.fill("officer-phone", "13600000007").await;
        b.click("officer-add").await;
        b.wait_text("roster-officers", Duration::from_secs(10), |t| t.contains("B007"))
            .await;
        let officers = node.call("GET", "/v1/alarm/officers", Some(&key), None).body;
        assert!(
            officers["officers"]
                .as_array()
                .is_some_and(|l| l.iter().any(|o| o["badge"] == "B007" && o["name"] == "赵警官")),
            "{officers}"
        );

        // Off duty by the switch in his row.
        b.el("duty-B007")
            .await
            .select_by_value("off")
            .await
            .expect("off duty");
        api_until(&node, &key, "/v1/alarm/officers", |v| {
            v["officers"]
                .as_array()
                .is_some_and(|l| l.iter().any(|o| o["badge"] == "B007" && o["duty"] == "off"))
        });
        b.wait_text("on-duty-B007", Duration::from_secs(10), |t| t == "离岗")
            .await;

        // A duty group with its leader and a shift.
        b.fill("dgroup-name", "一组").await;
        b.fill("dgroup-leader", "B007").await;
        b.fill("dgroup-members", "B007").await;
        b.fill("dgroup-shifts", "08:00-20:00").await;
        b.click("dgroup-save").await;
        api_until(&node, &key, "/v1/alarm/groups", |v| {
            v["groups"].as_array().is_some_and(|l| {
                l.iter().any(|g| {
                    g["name"] == "一组" && g["leader"] == "B007" && g["shifts"] == json!(["08:00-20:00"])
                })
            })
        });
        // The roster is drawn again after each change: wait for it.
        b.wait_text("roster-groups", Duration::from_secs(10), |t| t.contains("一组"))
            .await;

        // A refused rule (an officer rule without the officer): the API's
        // error shows next to the form.
        b.fill("rule-line", "110").await;
        b.fill("rule-keyword", "抢劫").await;
        b.el("rule-target")
            .await
            .select_by_value("officer")
            .await
            .expect("target");
        b.click("rule-save").await;
        let refused = b
            .wait_text("roster-error", Duration::from_secs(10), |t| !t.is_empty())
            .await;
        assert!(refused.contains("officer"), "{refused}");

        // Then the rule: 110 + 抢劫 → officer B007.
        b.fill("rule-officer", "B007").await;
        b.click("rule-save").await;
        api_until(&node, &key, "/v1/alarm/rules", |v| {
            v["rules"].as_array().is_some_and(|l| {
                l.iter().any(|r| {
                    r["line"] == "110"
                        && r["keyword"] == "抢劫"
                        && r["target"] == "officer"
                        && r["officer"] == "B007"
                })
            })
        });
        let rules = b
            .wait_text("roster-rules", Duration::from_secs(10), |t| t.contains("抢劫"))
            .await;
        assert!(rules.contains("指定民警"), "{rules}");
        assert_all_chinese(&b, "alarm roster").await;
        b.screenshot(shots.as_deref(), "alarm-roster").await;

        // Removed from its row.
        b.js("document.querySelector('[data-rule=\"110/抢劫\"] button').click(); return true")
            .await;
        api_until(&node, &key, "/v1/alarm/rules", |v| {
            v["rules"]
                .as_array()
                .is_some_and(|l| !l.iter().any(|r| r["keyword"] == "抢劫"))
        });

        // Address book: a group made, then edited; a template saved.
        b.click("nav-contacts").await;
        b.fill("group-name", "值班室").await;
        b.fill("group-units", "应急办").await;
        b.click("group-add").await;
        b.wait_text("groups-table", Duration::from_secs(10), |t| t.contains("值班室"))
            .await;
        b.click("group-edit-值班室").await;
        b.fill("group-description", "夜班").await;
        b.click("group-add").await;
        api_until(&node, &key, "/v1/groups?limit=200", |v| {
            v["items"].as_array().is_some_and(|l| {
                l.iter()
                    .any(|g| g["name"] == "值班室" && g["description"] == "夜班")
            })
        });
        b.fill("template-name", "台风").await;
        b.fill("template-text", "台风将至，请做好防范").await;
        b.click("template-save").await;
        api_until(&node, &key, "/v1/templates?limit=200", |v| {
            v["items"].as_array().is_some_and(|l| {
                l.iter()
                    .any(|x| x["name"] == "台风" && x["text"] == "台风将至，请做好防范")
            })
        });
        b.wait_text("templates-table", Duration::from_secs(10), |t| {
            t.contains("台风将至")
        })
        .await;
        assert_all_chinese(&b, "contacts").await;
        b.screenshot(shots.as_deref(), "contacts-edit").await;
        // The refused rule's 4xx is the only console error.
        let errors: Vec<String> = b
            .console_errors()
            .await
            .into_iter()
            .filter(|e| !(e.contains("/v1/alarm/rules") && (e.contains("400") || e.contains("422"))))
            .collect();
        assert!(errors.is_empty(), "console errors: {errors:?}");
        b.close().await;
    });
}
