//! Headless Chromium driven through WebDriver (Debian's chromium and chromium-driver), for the
//! dashboard's end-to-end tests: a chromedriver per test, console errors read through
//! chromedriver's log endpoint, screenshots saved under the target directory's
//! `test-artefacts/dashboard`.

#![allow(dead_code, clippy::unwrap_used)]

use std::path::PathBuf;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use kubepulse_model::clock::Stopwatch;
use kubepulse_testkit::{Peer, free_port};
use serde_json::{Value, json};

/// A chromedriver and one browser session on it.
pub struct Browser {
    /// The session.
    pub c: Client,
    port: u16,
    _driver: Peer,
}

impl Browser {
    /// Starts chromedriver and opens a headless Chromium session.
    pub async fn start() -> Self {
        let port = free_port();
        let mut driver =
            Peer::start("chromedriver", "chromedriver", &[format!("--port={port}")]).unwrap();
        driver.wait_port(port, Duration::from_secs(30)).unwrap();
        let profile = tempfile::tempdir().unwrap().keep();
        let caps = json!({
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--no-first-run",
                    "--window-size=1280,1000", format!("--user-data-dir={}", profile.display()),
                ]
            },
            "goog:loggingPrefs": {"browser": "ALL"}
        });
        let caps: serde_json::Map<String, Value> = serde_json::from_value(caps).unwrap();
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let c = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("chromedriver session (install Debian's chromium and chromium-driver)");
        Self {
            c,
            port,
            _driver: driver,
        }
    }

    /// Console messages of level SEVERE since the last call.
    pub async fn console_errors(&self) -> Vec<String> {
        let id = self.c.session_id().await.unwrap().unwrap();
        let _ = rustls::crypto::ring::default_provider().install_default();
        let r: Value = reqwest::Client::new()
            .post(format!(
                "http://127.0.0.1:{}/session/{id}/se/log",
                self.port
            ))
            .json(&json!({"type": "browser"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        r["value"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .filter(|e| e["level"] == "SEVERE")
            .map(|e| e["message"].as_str().unwrap_or("").to_string())
            .collect()
    }

    /// Fails the test if the console logged an error since the last check.
    pub async fn assert_no_console_errors(&self, page: &str) {
        let errors = self.console_errors().await;
        assert!(errors.is_empty(), "{page}: console errors {errors:?}");
    }

    /// Saves a screenshot of the page as `name`.png among the artefacts.
    pub async fn screenshot(&self, name: &str) {
        let png = self.c.screenshot().await.unwrap();
        std::fs::write(artefacts().join(format!("{name}.png")), png).unwrap();
    }

    /// Waits up to 30 s for the element `css` to contain `want`; its text.
    pub async fn wait_text(&self, css: &str, want: &str) -> String {
        let watch = Stopwatch::start();
        loop {
            if let Some(t) = self.text(css).await
                && t.contains(want)
            {
                return t;
            }
            assert!(watch.elapsed_secs() < 30.0, "{css} never showed {want:?}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The text of the element `css`, if there is one.
    pub async fn text(&self, css: &str) -> Option<String> {
        let e = self.c.find(Locator::Css(css)).await.ok()?;
        e.text().await.ok()
    }

    /// Clicks the element `css`.
    pub async fn click(&self, css: &str) {
        self.c
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .click()
            .await
            .unwrap();
    }

    /// Types `text` into the element `css`.
    pub async fn type_into(&self, css: &str, text: &str) {
        self.c
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .send_keys(text)
            .await
            .unwrap();
    }

    /// Clicks a Silence button of the alerts page, fills in the author and comment of the
    /// silence form it prepared, submits it and waits for the silence to be listed; the
    /// matchers the button filled in.
    pub async fn silence_by(
        &self,
        button: fantoccini::elements::Element,
        author: &str,
        comment: &str,
    ) -> String {
        button.click().await.unwrap();
        let matchers = self
            .c
            .find(Locator::Id("s-matchers"))
            .await
            .unwrap()
            .prop("value")
            .await
            .unwrap()
            .unwrap_or_default();
        self.type_into("#s-author", author).await;
        self.type_into("#s-comment", comment).await;
        self.click("#silence-form button[type=submit]").await;
        self.wait_text("#silences", comment).await;
        matchers
    }

    /// Loads `url` again every 2 s until the text of the element `css` passes `want`, for at
    /// most `seconds`; that text.
    pub async fn reload_until(
        &self,
        url: &str,
        css: &str,
        want: impl Fn(&str) -> bool,
        seconds: f64,
    ) -> String {
        let watch = Stopwatch::start();
        loop {
            self.c.goto(url).await.unwrap();
            let t = self.text(css).await;
            if let Some(t) = &t
                && want(t)
            {
                return t.clone();
            }
            assert!(
                watch.elapsed_secs() < seconds,
                "{url}: {css} never as wanted in {seconds} s; last {t:?}"
            );
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    }
}

/// Where screenshots go.
pub fn artefacts() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("../test-artefacts/dashboard");
    std::fs::create_dir_all(&d).unwrap();
    d
}
