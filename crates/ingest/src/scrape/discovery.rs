//! Target discovery: static groups and files, turned into target label sets by the job's
//! relabeling (Prometheus' `__address__`, `__scheme__`, `__metrics_path__` conventions).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use tracing::warn;

use super::config::{ScrapeConfig, ScrapeGlobal, StaticConfig};
use super::relabel::{Relabel, apply_all};

/// A target ready to scrape.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Target {
    /// URL to fetch.
    pub url: String,
    /// Labels attached to every series from the target (`job`, `instance`, …).
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
struct FileGroup {
    #[serde(default)]
    targets: Vec<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

/// Files matching a pattern whose last component may contain `*`.
pub fn expand(pattern: &str) -> Vec<PathBuf> {
    let p = Path::new(pattern);
    let (dir, name) = match (p.parent(), p.file_name().and_then(|n| n.to_str())) {
        (Some(d), Some(n)) => (
            if d.as_os_str().is_empty() {
                Path::new(".")
            } else {
                d
            },
            n,
        ),
        _ => return Vec::new(),
    };
    if !name.contains('*') {
        return if p.is_file() {
            vec![p.to_path_buf()]
        } else {
            Vec::new()
        };
    }
    let parts: Vec<&str> = name.split('*').collect();
    let matches = |f: &str| {
        let mut rest = f;
        for (i, part) in parts.iter().enumerate() {
            if i == 0 {
                match rest.strip_prefix(part) {
                    Some(r) => rest = r,
                    None => return false,
                }
            } else if i == parts.len() - 1 {
                return rest.ends_with(part);
            } else if let Some(at) = rest.find(part) {
                rest = &rest[at + part.len()..];
            } else {
                return false;
            }
        }
        true
    };
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|f| f.file_name().and_then(|n| n.to_str()).is_some_and(matches))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// Groups read from one file (JSON or YAML), each tagged with `__meta_filepath`.
pub fn read_file(path: &Path) -> Result<Vec<StaticConfig>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let groups: Vec<FileGroup> = if path.extension().and_then(|e| e.to_str()) == Some("json") {
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?
    } else {
        serde_saphyr::from_str(&text).map_err(|e| {
            format!(
                "{}: {}",
                path.display(),
                e.to_string().lines().next().unwrap_or("")
            )
        })?
    };
    Ok(groups
        .into_iter()
        .map(|g| {
            let mut labels = g.labels;
            labels.insert("__meta_filepath".into(), path.display().to_string());
            StaticConfig {
                targets: g.targets,
                labels,
            }
        })
        .collect())
}

/// The job's targets from its static groups and the given file groups.
pub fn targets(
    job: &ScrapeConfig,
    g: &ScrapeGlobal,
    relabel: &[Relabel],
    groups: &[StaticConfig],
) -> Vec<Target> {
    let (interval, timeout) = job.timing(g);
    let mut out = Vec::new();
    for group in job.static_configs.iter().chain(groups) {
        for addr in &group.targets {
            let mut l = group.labels.clone();
            l.insert("__address__".into(), addr.clone());
            l.insert("__scheme__".into(), job.scheme.clone());
            l.insert("__metrics_path__".into(), job.metrics_path.clone());
            l.insert(
                "__scrape_interval__".into(),
                kubepulse_model::format_duration(interval),
            );
            l.insert(
                "__scrape_timeout__".into(),
                kubepulse_model::format_duration(timeout),
            );
            l.entry("job".into())
                .or_insert_with(|| job.job_name.clone());
            if !apply_all(relabel, &mut l) {
                continue;
            }
            let Some(address) = l.get("__address__").cloned().filter(|a| !a.is_empty()) else {
                warn!(job = %job.job_name, "target without __address__ after relabeling");
                continue;
            };
            let url = format!(
                "{}://{}{}",
                l.get("__scheme__").map(String::as_str).unwrap_or("http"),
                address,
                l.get("__metrics_path__")
                    .map(String::as_str)
                    .unwrap_or("/metrics")
            );
            l.entry("instance".into()).or_insert(address);
            l.retain(|k, v| !k.starts_with("__") && !v.is_empty());
            out.push(Target { url, labels: l });
        }
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_and_file_targets() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(
            tmp.path().join("a.json"),
            r#"[{"targets":["10.0.0.5:9100"],"labels":{"team":"infra"}}]"#,
        )
        .unwrap();
        std::fs::write(
            tmp.path().join("b.yaml"),
            "- targets: [\"10.0.0.6:9100\"]\n",
        )
        .unwrap();
        std::fs::write(tmp.path().join("c.txt"), "x").unwrap();
        let pattern = tmp.path().join("*.json").display().to_string();
        assert_eq!(expand(&pattern).len(), 1);
        let mut groups = Vec::new();
        for f in expand(&tmp.path().join("*").display().to_string())
            .into_iter()
            .filter(|f| f.extension().is_some_and(|e| e != "txt"))
        {
            groups.extend(read_file(&f).unwrap());
        }
        let job: ScrapeConfig = serde_saphyr::from_str("job_name: node\nstatic_configs:\n  - targets: ['127.0.0.1:9100']\n    labels: {env: test}\n").unwrap();
        let relabel: Vec<Relabel> = vec![
            Relabel::new(
                serde_saphyr::from_str("action: drop\nsource_labels: [team]\nregex: nobody\n")
                    .unwrap(),
            )
            .unwrap(),
        ];
        let t = targets(&job, &ScrapeGlobal::default(), &relabel, &groups);
        assert_eq!(t.len(), 3);
        assert_eq!(t[0].url, "http://10.0.0.5:9100/metrics");
        assert_eq!(t[0].labels.get("team").map(String::as_str), Some("infra"));
        assert_eq!(
            t[2].labels.get("instance").map(String::as_str),
            Some("127.0.0.1:9100")
        );
        assert_eq!(t[2].labels.get("job").map(String::as_str), Some("node"));
        assert!(
            t.iter()
                .all(|x| x.labels.keys().all(|k| !k.starts_with("__")))
        );
        assert!(read_file(&tmp.path().join("c.txt")).is_err());
    }
}
