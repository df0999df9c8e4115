//! The dashboard in a real browser: headless Chromium driven through WebDriver (Debian's
//! chromium and chromium-driver) against `kubepulse serve` on the simulated cluster. Every page
//! loads without console errors and is saved as a screenshot (in the target directory's
//! `test-artefacts/dashboard`); a silence is created and feedback given by clicks; the theme
//! switches; a query runs from the explore page.

#![allow(clippy::unwrap_used)]

mod browser;
mod support;

use std::time::Duration;

use browser::Browser;
use fantoccini::Locator;

const RULES: &str = r#"groups:
  - name: demo
    interval: 5s
    rules:
      - alert: DemoAlwaysFiring
        expr: vector(1)
        labels: {severity: warning, namespace: shop, pod: cart-1}
        annotations: {summary: "cart-1 needs attention"}
"#;

#[tokio::test(flavor = "multi_thread")]
async fn every_page_loads_and_silences_and_feedback_work_by_clicks() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("rules.yml"), RULES).unwrap();
    let config = format!(
        "prediction:\n  enabled: false\nrules:\n  files: [{}]\n",
        tmp.path().join("rules.yml").display()
    );
    let server = support::serve(&config, &tmp.path().join("data"));
    let base = format!("http://127.0.0.1:{}", server.port);
    let b = Browser::start().await;
    let c = &b.c;
    // Let the simulated cluster report and the rule fire.
    tokio::time::sleep(Duration::from_secs(12)).await;
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
        b.screenshot(name).await;
        b.assert_no_console_errors(name).await;
    }

    // The overview shows the cluster and the firing alert.
    c.goto(&base).await.unwrap();
    let nodes = b.wait_text("#nodes", "/").await;
    assert!(nodes.ends_with("/ 6"), "{nodes}");
    b.wait_text("#firing", "DemoAlwaysFiring").await;

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
    b.wait_text("main", "DemoAlwaysFiring").await;
    let button = c.find(Locator::Css("button.silence-this")).await.unwrap();
    let matchers = b.silence_by(button, "sre", "known issue").await;
    assert!(
        matchers.contains("alertname=\"DemoAlwaysFiring\""),
        "{matchers}"
    );
    b.wait_text("main", "silenced").await;
    b.screenshot("alerts-silenced").await;
    c.find(Locator::Css("button.feedback[data-verdict=noise]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait_text("#status", "Feedback recorded: noise").await;
    b.assert_no_console_errors("alerts").await;

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
    let title = b.wait_text("main h1", "Pod shop/cart-").await;
    let charts = c.find_all(Locator::Css("svg.chart")).await.unwrap();
    assert_eq!(charts.len(), 4, "{title}");
    b.screenshot("pod").await;
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
    b.wait_text("main h1", "Node node-").await;
    b.screenshot("node").await;
    b.assert_no_console_errors("object pages").await;

    // Logs: the shop's lines and its templates.
    c.goto(&format!(
        "{base}/logs?q=%7Bnamespace%3D%22shop%22%7D&namespace=shop"
    ))
    .await
    .unwrap();
    b.wait_text("#log-lines", "shop/").await;
    b.wait_text("#templates", "<*>").await;

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
    b.wait_text("#result", "namespace=").await;
    assert!(c.find(Locator::Css("svg#graph path")).await.is_ok());
    // A bad query is an error message, not a broken page.
    c.goto(&format!("{base}/explore?q=sum(")).await.unwrap();
    b.wait_text("#error", "parse error").await;
    c.clone().close().await.unwrap();
}
