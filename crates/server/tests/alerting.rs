//! Alerting end to end with real peers on loopback: rules fire, KubePulse's pipeline notifies a
//! webhook (Alertmanager's JSON, version 4), Slack (a readable message) and email (a real SMTP
//! server, aiosmtpd, receiving a text and an HTML part), forwards to a real Alertmanager 0.25
//! (`amtool alert query` there shows the alert), answers the real `amtool` (alerts, silences),
//! keeps going when a receiver hangs or fails, takes feedback, and does not notify again after
//! a restart.

#![allow(clippy::unwrap_used)]

mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use kubepulse_model::clock::Stopwatch;

use kubepulse_testkit::{HttpStub, Peer, StubResponse, free_port};
use serde_json::Value;

const RULES: &str = r#"groups:
  - name: demo
    interval: 1s
    rules:
      - alert: AlwaysFiring
        expr: vector(1)
        labels:
          severity: critical
          namespace: shop
          pod: cart-1
        annotations:
          summary: "cart-1 is failing (value {{ $value }})"
"#;

fn wait_for(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let start = Stopwatch::start();
    while !f() {
        assert!(
            start.elapsed_secs() < timeout.as_secs_f64(),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn amtool(url: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new("amtool")
        .arg(format!("--alertmanager.url={url}"))
        .args(args)
        .output()
        .expect("amtool (install Debian's prometheus-alertmanager)");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// One HTTP call: status and JSON body.
fn http(method: &str, url: &str, body: &str) -> (u16, Value) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let c = reqwest::Client::new();
        let req = if method == "POST" {
            c.post(url).body(body.to_string())
        } else {
            c.get(url)
        };
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    })
}

fn bodies(stub: &HttpStub) -> Vec<Value> {
    stub.requests()
        .iter()
        .filter_map(|(_, b)| serde_json::from_slice(b).ok())
        .collect()
}

fn start_alertmanager(dir: &Path) -> (Peer, u16) {
    let port = free_port();
    let cfg = dir.join("am.yml");
    std::fs::write(
        &cfg,
        "route:\n  receiver: none\nreceivers:\n  - name: none\n",
    )
    .unwrap();
    let args = vec![
        format!("--config.file={}", cfg.display()),
        format!("--storage.path={}", dir.join("am-data").display()),
        format!("--web.listen-address=127.0.0.1:{port}"),
        "--cluster.listen-address=".to_string(),
    ];
    let mut p = Peer::start("alertmanager", "prometheus-alertmanager", &args).unwrap();
    p.wait_port(port, Duration::from_secs(30)).unwrap();
    (p, port)
}

/// A CA and a certificate it signed for 127.0.0.1, made with openssl: (CA file, cert, key).
fn certificates(dir: &Path) -> (String, String, String) {
    let p = |n: &str| dir.join(n).display().to_string();
    let run = |args: &[&str]| {
        let o = Command::new("openssl")
            .args(args)
            .output()
            .expect("openssl");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=test ca",
        "-keyout",
        &p("ca.key"),
        "-out",
        &p("ca.pem"),
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        &p("smtp.key"),
        "-out",
        &p("smtp.csr"),
    ]);
    std::fs::write(dir.join("san.ext"), "subjectAltName=IP:127.0.0.1\n").unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        &p("smtp.csr"),
        "-CA",
        &p("ca.pem"),
        "-CAkey",
        &p("ca.key"),
        "-CAcreateserial",
        "-days",
        "1",
        "-extfile",
        &p("san.ext"),
        "-out",
        &p("smtp.pem"),
    ]);
    (p("ca.pem"), p("smtp.pem"), p("smtp.key"))
}

/// aiosmtpd delivering into `maildir`; with a certificate it offers STARTTLS and refuses mail
/// sent without it.
fn start_smtp(maildir: &Path, tls: Option<(&str, &str)>) -> (Peer, u16) {
    let port = free_port();
    let mut args = vec![
        "-m".to_string(),
        "aiosmtpd".into(),
        "-n".into(),
        "-l".into(),
        format!("127.0.0.1:{port}"),
        "-c".into(),
        "aiosmtpd.handlers.Mailbox".into(),
        maildir.display().to_string(),
    ];
    if let Some((cert, key)) = tls {
        let at = args.len() - 3;
        args.splice(
            at..at,
            [
                "--tlscert".to_string(),
                cert.to_string(),
                "--tlskey".into(),
                key.to_string(),
            ],
        );
    }
    let mut p = Peer::start("aiosmtpd", "python3", &args).unwrap();
    p.wait_port(port, Duration::from_secs(30)).unwrap();
    (p, port)
}

fn mails(maildir: &Path) -> Vec<String> {
    std::fs::read_dir(maildir.join("new"))
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn rules_notify_every_receiver_and_amtool_manages_silences() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let hook = HttpStub::start().unwrap();
    let slack = HttpStub::start().unwrap();
    let hanging = HttpStub::start().unwrap();
    hanging.set(StubResponse {
        delay: Duration::from_secs(120),
        ..StubResponse::default()
    });
    let failing = HttpStub::start().unwrap();
    failing.set(StubResponse {
        status: 500,
        ..StubResponse::default()
    });
    let maildir = dir.join("mail");
    let (_smtp, smtp_port) = start_smtp(&maildir, None);
    let (ca, cert, key) = certificates(dir);
    let tls_maildir = dir.join("tls-mail");
    let (_tls_smtp, tls_port) = start_smtp(&tls_maildir, Some((&cert, &key)));
    let (_am, am_port) = start_alertmanager(dir);

    std::fs::write(dir.join("rules.yml"), RULES).unwrap();
    let notify = format!(
        r#"global:
  smtp_smarthost: 127.0.0.1:{smtp_port}
  smtp_from: kubepulse@example.org
  smtp_require_tls: false
route:
  receiver: everyone
  group_by: [alertname]
  group_wait: 1s
  group_interval: 2s
receivers:
  - name: everyone
    webhook_configs:
      - url: http://127.0.0.1:{}/hanging
      - url: http://127.0.0.1:{}/failing
      - url: http://127.0.0.1:{}/hook
    slack_configs:
      - api_url: http://127.0.0.1:{}/slack
        channel: '#alerts'
    email_configs:
      - to: sre@example.org
      - to: oncall@example.org
        smarthost: 127.0.0.1:{tls_port}
        require_tls: true
        tls_config:
          ca_file: {ca}
"#,
        hanging.port, failing.port, hook.port, slack.port
    );
    std::fs::write(dir.join("notify.yml"), &notify).unwrap();
    let am_check = Command::new("amtool")
        .args([
            "check-config",
            &dir.join("notify.yml").display().to_string(),
        ])
        .output()
        .unwrap();
    assert!(
        am_check.status.success(),
        "amtool refuses the notification config"
    );
    let config = format!(
        "{}rules:\n  files: [{}]\n  builtin: false\n  external_url: http://kubepulse.example:9800\nalerting:\n  config_file: {}\n  alertmanagers: [http://127.0.0.1:{am_port}]\n  attempts: 3\n",
        support::QUIET,
        dir.join("rules.yml").display(),
        dir.join("notify.yml").display()
    );
    let data = dir.join("data");
    let mut server = support::serve(&config, &data);
    let url = format!("http://127.0.0.1:{}", server.port);

    // The webhook gets Alertmanager's JSON while another integration of the receiver hangs.
    wait_for("the webhook", Duration::from_secs(30), || {
        !bodies(&hook).is_empty()
    });
    let m = &bodies(&hook)[0];
    assert_eq!(m["version"], "4");
    assert_eq!(m["status"], "firing");
    assert_eq!(m["receiver"], "everyone");
    assert_eq!(m["groupKey"], "{}:{alertname=\"AlwaysFiring\"}");
    assert_eq!(m["groupLabels"]["alertname"], "AlwaysFiring");
    assert_eq!(m["commonLabels"]["severity"], "critical");
    assert_eq!(m["externalURL"], "http://kubepulse.example:9800");
    let a = &m["alerts"][0];
    assert_eq!(a["annotations"]["summary"], "cart-1 is failing (value 1)");
    assert_eq!(a["status"], "firing");
    assert!(
        a["generatorURL"]
            .as_str()
            .unwrap()
            .starts_with("http://kubepulse.example:9800/graph?g0.expr=vector%281%29")
    );
    assert_eq!(a["fingerprint"].as_str().unwrap().len(), 16);
    // Each integration is delivered on its own task: the hanging one may be reached a little
    // after the webhook answered.
    wait_for("the hanging receiver", Duration::from_secs(30), || {
        !hanging.requests().is_empty()
    });
    assert_eq!(
        hanging.requests().len(),
        1,
        "the hanging receiver was called, and still hangs"
    );

    // Slack: a readable message.
    wait_for("slack", Duration::from_secs(30), || {
        !bodies(&slack).is_empty()
    });
    let s = &bodies(&slack)[0];
    assert_eq!(s["channel"], "#alerts");
    let att = &s["attachments"][0];
    assert_eq!(att["color"], "danger");
    assert!(
        att["title"]
            .as_str()
            .unwrap()
            .starts_with("[FIRING:1] AlwaysFiring")
    );
    let text = att["text"].as_str().unwrap();
    assert!(
        text.contains("[critical] cart-1 is failing (value 1)"),
        "{text}"
    );
    assert!(text.contains("namespace=shop pod=cart-1"), "{text}");
    assert!(
        text.contains("http://kubepulse.example:9800/alerts"),
        "{text}"
    );

    // Email through a real SMTP server, with a text and an HTML part.
    wait_for("the email", Duration::from_secs(30), || {
        !mails(&maildir).is_empty()
    });
    let mail = &mails(&maildir)[0];
    assert!(mail.contains("Subject: [FIRING:1] AlwaysFiring"), "{mail}");
    assert!(mail.contains("To: sre@example.org"), "{mail}");
    assert!(mail.contains("multipart/alternative"), "{mail}");
    assert!(
        mail.contains("text/plain") && mail.contains("text/html"),
        "{mail}"
    );

    // STARTTLS, which that server requires before any mail, with its certificate checked.
    wait_for("the email over STARTTLS", Duration::from_secs(30), || {
        !mails(&tls_maildir).is_empty()
    });
    assert!(mails(&tls_maildir)[0].contains("To: oncall@example.org"));

    // The failing receiver is retried with back-off.
    wait_for("retries", Duration::from_secs(30), || {
        failing.requests().len() >= 2
    });

    // Forwarded to the real Alertmanager: amtool there lists it.
    let am_url = format!("http://127.0.0.1:{am_port}");
    wait_for("the forwarded alert", Duration::from_secs(30), || {
        amtool(&am_url, &["alert", "query"])
            .1
            .contains("AlwaysFiring")
    });

    // amtool against KubePulse: alerts, then a silence added, listed and expired.
    let (ok, out) = amtool(&url, &["alert", "query"]);
    assert!(
        ok && out.contains("AlwaysFiring") && out.contains("cart-1 is failing"),
        "{out}"
    );
    let (ok, id) = amtool(
        &url,
        &[
            "silence",
            "add",
            "alertname=AlwaysFiring",
            "--comment=deploying",
            "--author=sre",
            "--duration=1h",
        ],
    );
    assert!(ok, "{id}");
    let id = id
        .lines()
        .rev()
        .find(|l| l.len() == 36)
        .unwrap()
        .trim()
        .to_string();
    let (ok, out) = amtool(&url, &["silence", "query"]);
    assert!(
        ok && out.contains(&id) && out.contains("deploying"),
        "{out}"
    );
    let (_, out) = amtool(&url, &["alert", "query", "-s"]);
    assert!(out.contains("suppressed"), "{out}");
    let (ok, out) = amtool(&url, &["silence", "expire", &id]);
    assert!(ok, "{out}");
    let (_, out) = amtool(&url, &["silence", "query"]);
    assert!(!out.contains(&id), "{out}");

    // Feedback on the alert is stored with its labels and context.
    let (_, alerts) = http("GET", &format!("{url}/api/v2/alerts"), "");
    let fp = alerts[0]["fingerprint"].as_str().unwrap().to_string();
    let feedback = format!("{url}/api/v1/alerts/feedback");
    let body =
        format!(r#"{{"fingerprint":"{fp}","verdict":"noise","comment":"flaps every deploy"}}"#);
    assert_eq!(http("POST", &feedback, &body).0, 200);
    let bad = format!(r#"{{"fingerprint":"{fp}","verdict":"meh"}}"#);
    assert_eq!(http("POST", &feedback, &bad).0, 400);
    let (_, list) = http("GET", &feedback, "");
    assert_eq!(list[0]["verdict"], "noise");
    assert_eq!(list[0]["labels"]["pod"], "cart-1");
    assert_eq!(
        list[0]["context"]["annotations"]["summary"],
        "cart-1 is failing (value 1)"
    );

    // SIGHUP reloads the rule files; a broken file is refused and the running rules go on.
    let more = format!("{RULES}      - record: demo:one\n        expr: vector(1)\n");
    std::fs::write(dir.join("rules.yml"), more).unwrap();
    let hup = Command::new("kill")
        .args(["-HUP", &server.peer.pid().to_string()])
        .status()
        .unwrap();
    assert!(hup.success());
    let names = |url: &str| {
        let (_, v) = http("GET", &format!("{url}/api/v1/rules"), "");
        v["data"]["groups"][0]["rules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    wait_for("the reload", Duration::from_secs(20), || {
        names(&url) == ["AlwaysFiring", "demo:one"]
    });
    std::fs::write(
        dir.join("rules.yml"),
        "groups:\n  - name: demo\n    rules:\n      - record: x\n        expr: sum(\n",
    )
    .unwrap();
    let (status, _) = http("POST", &format!("{url}/-/reload"), "");
    assert_eq!(status, 500);
    assert_eq!(names(&url), ["AlwaysFiring", "demo:one"]);
    std::fs::write(dir.join("rules.yml"), RULES).unwrap();

    // A restart neither loses the alert nor notifies the webhook again.
    let before = hook.requests().len();
    assert!(server.peer.terminate(Duration::from_secs(20)));
    let server = support::serve(&config, &data);
    let url = format!("http://127.0.0.1:{}", server.port);
    std::thread::sleep(Duration::from_secs(6));
    let (_, out) = amtool(&url, &["alert", "query"]);
    assert!(out.contains("AlwaysFiring"), "{out}");
    assert_eq!(
        hook.requests().len(),
        before,
        "notified again after a restart"
    );
}
