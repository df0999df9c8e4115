//! The dashboard in a real browser: headless Chromium driven through WebDriver (Debian's
//! chromium and chromium-driver) against `kubepulse serve` on the simulated cluster. Every page
//! loads without console errors and is saved as a screenshot (in the target directory's
//! `test-artefacts/dashboard`); a silence is created and feedback given by clicks; the theme
//! switches; a query runs from the explore page.

#![allow(clippy::unwrap_used)]

mod support;

use std::path::PathBuf;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use kubepulse_model::clock::Stopwatch;
use kubepulse_testkit::{Peer, free_port};
use serde_json::{Value, json};

const RULES: &str = r#"groups:
  - name: demo
    interval: 5s
    rules:
      - alert: DemoAlwaysFiring
        expr: vector(1)
        labels: {severity: warning, namespace: shop, pod: cart-1}
        annotations: {summary: "cart-1 needs attention"}
"#;

fn artefacts() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("../test-artefacts/dashboard");
    std::fs::create_dir_all(&d).unwrap();
    d
}

async fn browser(driver_port: u16) -> Client {
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
    ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{driver_port}"))
        .await
        .expect("chromedriver session (install Debian's chromium and chromium-driver)")
}

/// Console messages of level SEVERE since the last call.
async fn console_errors(driver_port: u16, c: &Client) -> Vec<String> {
    let id = c.session_id().await.unwrap().unwrap();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let r: Value = reqwest::Client::new()
        .post(format!(
            "http://127.0.0.1:{driver_port}/session/{id}/se/log"
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

async fn wait_text(c: &Client, css: &str, want: &str) -> String {
    let watch = Stopwatch::start();
    loop {
        if let Ok(e) = c.find(Locator::Css(css)).await
            && let Ok(t) = e.text().await
            && t.contains(want)
        {
            return t;
        }
        assert!(watch.elapsed_secs() < 30.0, "{css} never showed {want:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_page_loads_and_the_alert_path_works_by_clicks() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("rules.yml"), RULES).unwrap();
    let config = format!(
        "prediction:\n  enabled: false\nrules:\n  files: [{}]\n",
        tmp.path().join("rules.yml").display()
    );
    let server = support::serve(&config, &tmp.path().join("data"));
    let base = format!("http://127.0.0.1:{}", server.port);
    let driver_port = free_port();
    let mut driver = Peer::start(
        "chromedriver",
        "chromedriver",
        &[format!("--port={driver_port}")],
    )
    .unwrap();
    driver
        .wait_port(driver_port, Duration::from_secs(30))
        .unwrap();
    let c = browser(driver_port).await;
    // Let the simulated cluster report and the rule fire.
    tokio::time::sleep(Duration::from_secs(12)).await;
    let out = artefacts();
    for (name, path) in [
        ("overview", "/"),
        ("alerts", "/alerts"),
        (
            "explore",
            "/explore?q=sum+by+(namespace)+(rate(container_cpu_usage_seconds_total%5B5m%5D))&range=15m",
        ),
        ("events", "/events"),
        ("workloads", "/workloads"),
        (
            "logs",
            "/logs?q=%7Bnamespace%3D%22shop%22%7D&namespace=shop",
        ),
        ("simulator", "/simulator"),
    ] {
        c.goto(&format!("{base}{path}")).await.unwrap();
        c.find(Locator::Css("main h1")).await.unwrap();
        let png = c.screenshot().await.unwrap();
        std::fs::write(out.join(format!("{name}.png")), png).unwrap();
        let errors = console_errors(driver_port, &c).await;
        assert!(errors.is_empty(), "{name}: console errors {errors:?}");
    }

    // The overview shows the cluster and the firing alert.
    c.goto(&base).await.unwrap();
    let nodes = wait_text(&c, "#nodes", "/").await;
    assert!(nodes.ends_with("/ 6"), "{nodes}");
    wait_text(&c, "#firing", "DemoAlwaysFiring").await;

    // Theme switch.
    c.find(Locator::Id("theme"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let theme = c
        .execute(
            "return document.documentElement.getAttribute('data-theme')",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(theme, "dark");

    // Alerts: silence the alert by clicks, then give feedback.
    c.goto(&format!("{base}/alerts")).await.unwrap();
    wait_text(&c, "main", "DemoAlwaysFiring").await;
    c.find(Locator::Css("button.silence-this"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let matchers = c
        .find(Locator::Id("s-matchers"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default();
    assert!(
        matchers.contains("alertname=\"DemoAlwaysFiring\""),
        "{matchers}"
    );
    c.find(Locator::Id("s-author"))
        .await
        .unwrap()
        .send_keys("sre")
        .await
        .unwrap();
    c.find(Locator::Id("s-comment"))
        .await
        .unwrap()
        .send_keys("known issue")
        .await
        .unwrap();
    c.find(Locator::Css("#silence-form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_text(&c, "#silences", "known issue").await;
    wait_text(&c, "main", "silenced").await;
    std::fs::write(
        out.join("alerts-silenced.png"),
        c.screenshot().await.unwrap(),
    )
    .unwrap();
    c.find(Locator::Css("button.feedback[data-verdict=noise]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_text(&c, "#status", "Feedback recorded: noise").await;
    let errors = console_errors(driver_port, &c).await;
    assert!(errors.is_empty(), "alerts: console errors {errors:?}");

    // Workloads → a pod's page with its charts → its node's page.
    c.goto(&format!("{base}/workloads?namespace=shop"))
        .await
        .unwrap();
    c.find(Locator::Css("table.pods a[href^='/pods/shop/cart-']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let title = wait_text(&c, "main h1", "Pod shop/cart-").await;
    let charts = c.find_all(Locator::Css("svg.chart")).await.unwrap();
    assert_eq!(charts.len(), 4, "{title}");
    std::fs::write(out.join("pod.png"), c.screenshot().await.unwrap()).unwrap();
    c.find(Locator::Css(".fact strong")).await.unwrap();
    let node = c
        .execute(
            "return document.querySelector('.fact strong').textContent",
            vec![],
        )
        .await
        .unwrap();
    c.goto(&format!("{base}/nodes/{}", node.as_str().unwrap()))
        .await
        .unwrap();
    wait_text(&c, "main h1", "Node node-").await;
    std::fs::write(out.join("node.png"), c.screenshot().await.unwrap()).unwrap();
    let errors = console_errors(driver_port, &c).await;
    assert!(errors.is_empty(), "object pages: console errors {errors:?}");

    // Simulator: a memory leak injected into shop/cart by the form.
    c.goto(&format!("{base}/simulator")).await.unwrap();
    c.find(Locator::Css("#f-kind option[value=memory_leak]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(Locator::Css("#f-workload option[value='shop/cart']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(Locator::Css("#fault-form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_text(&c, "#status", "memory_leak injected").await;
    // The fault begins at the simulator's next step.
    let watch = Stopwatch::start();
    loop {
        c.goto(&format!("{base}/simulator")).await.unwrap();
        if let Ok(e) = c.find(Locator::Css("#faults")).await
            && e.text().await.unwrap_or_default().contains("shop/cart-")
        {
            break;
        }
        assert!(
            watch.elapsed_secs() < 45.0,
            "the injected fault never began"
        );
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    std::fs::write(
        out.join("simulator-injected.png"),
        c.screenshot().await.unwrap(),
    )
    .unwrap();

    // Logs: the shop's lines and its templates.
    c.goto(&format!(
        "{base}/logs?q=%7Bnamespace%3D%22shop%22%7D&namespace=shop"
    ))
    .await
    .unwrap();
    wait_text(&c, "#log-lines", "shop/").await;
    wait_text(&c, "#templates", "<*>").await;

    // Explore: a query typed and run.
    c.goto(&format!("{base}/explore")).await.unwrap();
    c.find(Locator::Id("q"))
        .await
        .unwrap()
        .send_keys("count by (namespace) (kube_pod_info)")
        .await
        .unwrap();
    c.find(Locator::Css("form.query button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_text(&c, "#result", "namespace=").await;
    assert!(c.find(Locator::Css("svg#graph path")).await.is_ok());
    // A bad query is an error message, not a broken page.
    c.goto(&format!("{base}/explore?q=sum(")).await.unwrap();
    wait_text(&c, "#error", "parse error").await;
    c.close().await.unwrap();
}
