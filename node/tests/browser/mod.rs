//! Real Chromium for the console tests, driven over WebDriver (fantoccini)
//! through Debian's chromedriver: started by the test on a free port of
//! 127.0.0.1, headless, with a fresh profile, and stopped when dropped
//! (chromedriver and that profile's Chromium processes, by process id).
//!
//! Missing chromium or chromedriver fails the test, unless
//! `SMSGW_SKIP_BROWSER=1` is set: then [`Browser::start`] prints why and
//! returns `None`. CI installs both (`.ci/run`).
#![allow(dead_code)]

pub mod console;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

fn which(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for n in names {
        for dir in std::env::split_paths(&path)
            .chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/lib/chromium")])
        {
            let p = dir.join(n);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

pub struct Browser {
    pub client: Client,
    driver: Child,
    pub driver_addr: String,
    _profile: tempfile::TempDir,
    pub base: String,
}

impl Browser {
    /// Chromium at 1366×768 against the console at `http://{http_addr}`.
    pub async fn start(http_addr: &str) -> Option<Browser> {
        let chromium = which(&["chromium", "chromium-browser"]);
        let driver = which(&["chromedriver"]);
        let (Some(chromium), Some(driver)) = (chromium, driver) else {
            let why = "chromium or chromedriver is not installed (Debian: apt-get install chromium chromium-driver)";
            if std::env::var("SMSGW_SKIP_BROWSER").as_deref() == Ok("1") {
                println!("SKIPPED: {why}; SMSGW_SKIP_BROWSER=1");
                return None;
            }
            panic!("{why}; set SMSGW_SKIP_BROWSER=1 to skip the browser tests");
        };
        let profile = tempfile::tempdir().expect("profile dir");
        let mut last_err = String::new();
        for _ in 0..3 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("free port")
                .port();
            let mut cmd = Command::new(&driver);
            cmd.arg(format!("--port={port}"))
                .arg("--allowed-ips=127.0.0.1")
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            let mut child = cmd.spawn().expect("spawn chromedriver");
            let addr = format!("127.0.0.1:{port}");
            let up = Instant::now();
            while up.elapsed() < Duration::from_secs(10) && std::net::TcpStream::connect(&addr).is_err() {
                std::thread::sleep(Duration::from_millis(50));
            }
            let caps = json!({
                "browserName": "chrome",
                "goog:loggingPrefs": {"browser": "ALL"},
                "goog:chromeOptions": {
                    "binary": chromium.to_string_lossy(),
                    "args": [
                        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                        "--disable-background-networking", "--disable-component-update", "--disable-sync",
                        "--no-first-run", "--window-size=1366,768", "--lang=zh-CN",
                        format!("--user-data-dir={}", profile.path().display()),
                    ]
                }
            });
            let caps = match caps {
                Value::Object(m) => m,
                _ => unreachable!("an object"),
            };
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(caps)
                .connect(&format!("http://{addr}"))
                .await
            {
                Ok(client) => {
                    return Some(Browser {
                        client,
                        driver: child,
                        driver_addr: addr,
                        _profile: profile,
                        base: format!("http://{http_addr}"),
                    })
                }
                Err(e) => {
                    last_err = e.to_string();
                    stop(&mut child, profile.path());
                }
            }
        }
        panic!("no WebDriver session: {last_err}");
    }

    pub async fn open(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .expect("navigate");
    }

    /// The element with `data-testid` `id`, waiting up to 10 s for it.
    pub async fn el(&self, id: &str) -> fantoccini::elements::Element {
        let css = format!("[data-testid=\"{id}\"]");
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(&css))
            .await
            .unwrap_or_else(|e| panic!("no element {id}: {e}"))
    }

    pub async fn fill(&self, id: &str, text: &str) {
        let e = self.el(id).await;
        e.clear().await.expect("clear");
        e.send_keys(text).await.expect("type");
    }

    /// Clicks the element `id`. A page that redraws between the look-up
    /// and the click (a navigation re-rendering its menu) leaves a stale
    /// element: it is looked up again, a few times at most.
    pub async fn click(&self, id: &str) {
        for _ in 0..5 {
            match self.el(id).await.click().await {
                Ok(()) => return,
                Err(e) if e.is_stale_element_reference() => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("click {id}: {e}"),
            }
        }
        panic!("click {id}: stale after 5 look-ups");
    }

    pub async fn text(&self, id: &str) -> String {
        self.el(id).await.text().await.unwrap_or_default()
    }

    /// Waits up to `limit` for `id`'s text to satisfy `ok`; its last text.
    pub async fn wait_text(&self, id: &str, limit: Duration, ok: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let t = self.text(id).await;
            if ok(&t) {
                return t;
            }
            if start.elapsed() > limit {
                panic!("{id} did not reach the expected text within {limit:?}; it shows: {t}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Runs `script` (a function body) in the page; its JSON result.
    pub async fn js(&self, script: &str) -> Value {
        self.client.execute(script, vec![]).await.expect("execute script")
    }

    /// Browser console messages at SEVERE level since the last call
    /// (chromedriver's log endpoint, which keeps its connection open: asked
    /// with a real HTTP client).
    pub async fn console_errors(&self) -> Vec<String> {
        use http_body_util::BodyExt;
        let sid = self.client.session_id().await.ok().flatten().unwrap_or_default();
        let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build_http::<http_body_util::Full<bytes::Bytes>>();
        let req = hyper::Request::post(format!("http://{}/session/{sid}/se/log", self.driver_addr))
            .header("content-type", "application/json")
            .body(http_body_util::Full::new(bytes::Bytes::from_static(
                br#"{"type":"browser"}"#,
            )))
            .expect("log request");
        let resp = tokio::time::timeout(Duration::from_secs(10), client.request(req))
            .await
            .expect("chromedriver answers within 10 s")
            .expect("chromedriver log");
        let body = resp.into_body().collect().await.expect("log body").to_bytes();
        let v: Value = serde_json::from_slice(&body).unwrap_or_default();
        v["value"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .filter(|e| e["level"] == "SEVERE")
            .map(|e| e["message"].as_str().unwrap_or("").to_string())
            .collect()
    }

    /// A PNG of the window into `dir/name.png` when `dir` is given.
    pub async fn screenshot(&self, dir: Option<&Path>, name: &str) {
        if let Some(d) = dir {
            let png = self.client.screenshot().await.expect("screenshot");
            std::fs::create_dir_all(d).expect("screenshot dir");
            std::fs::write(d.join(format!("{name}.png")), png).expect("write screenshot");
        }
    }

    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        stop(&mut self.driver, self._profile.path());
    }
}

/// Ends chromedriver and every Chromium process of this profile: by
/// process id only (found in /proc by the profile's unique path), never by
/// name or process group.
fn stop(child: &mut Child, profile: &Path) {
    let _ = child.kill();
    let _ = child.wait();
    let needle = profile.to_string_lossy().into_owned();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return;
    };
    for e in dir.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        let cmdline = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
        if pid > 1 && String::from_utf8_lossy(&cmdline).contains(&needle) {
            let _ = Command::new("kill")
                .args(["-9", &pid.to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// Where screenshots go: `SMSGW_SCREENSHOTS=DIR` (the README's pictures are
/// made with `SMSGW_SCREENSHOTS=docs/screenshots`), else nowhere.
pub fn screenshot_dir() -> Option<PathBuf> {
    std::env::var_os("SMSGW_SCREENSHOTS").map(|d| {
        let p = PathBuf::from(d);
        if p.is_absolute() {
            p
        } else {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(p)
        }
    })
}
