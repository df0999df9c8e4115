//! The simulator page: inject a chosen fault into a chosen target (sent by the page's script to
//! `POST /api/v1/simulator/faults`), and the faults injected so far.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use kubepulse_sim::FaultKind;

use super::{ago, html, now};
use crate::AppState;
use crate::simulator::{faults, target_word, targets};

type FaultRow = (String, String, String, String, String);

#[derive(Template)]
#[template(path = "simulator.html")]
struct Page {
    nav: &'static str,
    live: bool,
    running: bool,
    kinds: Vec<(String, String)>,
    workloads: Vec<String>,
    services: Vec<String>,
    nodes: Vec<String>,
    faults: Vec<FaultRow>,
}

/// `GET /simulator`.
pub async fn page(st: State<AppState>) -> Response {
    let t = now(&st);
    let mut p = Page {
        nav: "simulator",
        live: false,
        running: false,
        kinds: FaultKind::ALL
            .iter()
            .map(|k| (k.as_str().to_string(), target_word(*k).to_string()))
            .collect(),
        workloads: Vec::new(),
        services: Vec::new(),
        nodes: Vec::new(),
        faults: Vec::new(),
    };
    if let Some(s) = &st.simulator {
        let (w, svc, n) = targets(s);
        p.running = true;
        p.workloads = w.into_iter().map(|(a, b)| format!("{a}/{b}")).collect();
        p.services = svc.into_iter().map(|(a, b)| format!("{a}/{b}")).collect();
        p.nodes = n;
        p.faults = faults(s)
            .into_iter()
            .map(|(kind, target, start, end, detail)| {
                let state = match end {
                    Some(e) if e <= t => "over".to_string(),
                    Some(e) => format!("ends in {}", super::eta(((e - t) / 1000) as f64)),
                    None => "running".to_string(),
                };
                (kind, target, ago(t, start), state, detail)
            })
            .collect();
    }
    html(p.render())
}
