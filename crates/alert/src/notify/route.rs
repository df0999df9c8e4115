//! The routing tree: each alert goes down the tree to the deepest routes whose matchers hold,
//! siblings after a match only when it says `continue`; options are inherited from the parent.

use kubepulse_model::Labels;
use kubepulse_model::parse_duration;

use super::config::{RouteConfig, legacy};
use super::matchers::{self, Matchers, render};

/// Which labels group alerts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupBy {
    /// These labels.
    Labels(Vec<String>),
    /// Every label (`...`): each alert is its own group.
    All,
}

/// A route with its options resolved.
#[derive(Debug, Clone)]
pub struct Route {
    /// Alertmanager's key of the route: the parent's key, `/`, the matchers.
    pub key: String,
    /// The receiver.
    pub receiver: String,
    /// Grouping.
    pub group_by: GroupBy,
    /// Matchers.
    pub matchers: Matchers,
    /// Go on with siblings after a match.
    pub continue_: bool,
    /// Wait before the first notification (ms).
    pub group_wait: i64,
    /// Wait between notifications of a changed group (ms).
    pub group_interval: i64,
    /// Wait before repeating an unchanged notification (ms).
    pub repeat_interval: i64,
    /// Children.
    pub routes: Vec<Route>,
}

fn dur(v: &Option<String>, inherited: i64) -> Result<i64, String> {
    match v {
        Some(s) => parse_duration(s).map_err(|e| e.to_string()),
        None => Ok(inherited),
    }
}

impl Route {
    /// The root from its configuration (validated beforehand).
    pub fn root(cfg: &RouteConfig) -> Result<Self, String> {
        let defaults = Route {
            key: String::new(),
            receiver: String::new(),
            group_by: GroupBy::Labels(Vec::new()),
            matchers: Vec::new(),
            continue_: false,
            group_wait: 30_000,
            group_interval: 300_000,
            repeat_interval: 4 * 3_600_000,
            routes: Vec::new(),
        };
        Self::build(cfg, &defaults, None)
    }

    fn build(cfg: &RouteConfig, parent: &Route, parent_key: Option<&str>) -> Result<Self, String> {
        let mut ms = matchers::parse_all(&cfg.matchers)?;
        ms.extend(legacy(&cfg.match_eq, &cfg.match_re)?);
        let rendered: Vec<String> = ms.iter().map(render).collect();
        let own = format!("{{{}}}", rendered.join(", "));
        let key = match parent_key {
            Some(p) => format!("{p}/{own}"),
            None => own,
        };
        let group_by = match &cfg.group_by {
            Some(g) if g.iter().any(|l| l == "...") => GroupBy::All,
            Some(g) => {
                let mut g = g.clone();
                g.sort();
                GroupBy::Labels(g)
            }
            None => parent.group_by.clone(),
        };
        let mut r = Route {
            key,
            receiver: cfg
                .receiver
                .clone()
                .unwrap_or_else(|| parent.receiver.clone()),
            group_by,
            matchers: ms,
            continue_: cfg.continue_,
            group_wait: dur(&cfg.group_wait, parent.group_wait)?,
            group_interval: dur(&cfg.group_interval, parent.group_interval)?,
            repeat_interval: dur(&cfg.repeat_interval, parent.repeat_interval)?,
            routes: Vec::new(),
        };
        let key = r.key.clone();
        r.routes = cfg
            .routes
            .iter()
            .map(|c| Route::build(c, &r, Some(&key)))
            .collect::<Result<_, _>>()?;
        Ok(r)
    }

    /// The routes `labels` ends at, in tree order.
    pub fn matching(&self, labels: &Labels) -> Vec<&Route> {
        if !matchers::matches(&self.matchers, labels) {
            return Vec::new();
        }
        let mut all = Vec::new();
        for c in &self.routes {
            let m = c.matching(labels);
            let matched = !m.is_empty();
            all.extend(m);
            if matched && !c.continue_ {
                break;
            }
        }
        if all.is_empty() {
            all.push(self);
        }
        all
    }

    /// The labels that group `labels` on this route.
    pub fn group_labels(&self, labels: &Labels) -> Labels {
        match &self.group_by {
            GroupBy::All => labels.clone(),
            GroupBy::Labels(names) => {
                let mut b = kubepulse_model::LabelsBuilder::new();
                for n in names {
                    if let Some(v) = labels.get(n) {
                        b.set(n.clone(), v);
                    }
                }
                b.build()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> Route {
        let cfg: RouteConfig = serde_saphyr::from_str(
            r#"
receiver: default
group_by: [alertname]
routes:
  - matchers: ['severity="critical"']
    receiver: pager
    group_wait: 10s
    continue: true
    routes:
      - matchers: ['team=~"db|storage"']
        receiver: dba
  - match: {team: web}
    receiver: web
    group_by: ['...']
  - matchers: ['team="web"']
    receiver: never
"#,
        )
        .unwrap();
        Route::root(&cfg).unwrap()
    }

    fn names(r: &Route, l: &[(&str, &str)]) -> Vec<(String, String)> {
        let labels = Labels::from_pairs(l.iter().copied()).unwrap();
        r.matching(&labels)
            .iter()
            .map(|r| (r.receiver.clone(), r.key.clone()))
            .collect()
    }

    #[test]
    fn deepest_match_continue_and_inheritance() {
        let r = tree();
        assert_eq!(
            names(&r, &[("alertname", "X")]),
            vec![("default".into(), "{}".into())]
        );
        assert_eq!(
            names(&r, &[("severity", "critical"), ("team", "db")]),
            vec![(
                "dba".into(),
                r#"{}/{severity="critical"}/{team=~"db|storage"}"#.into()
            )]
        );
        // `continue` lets the critical web alert reach the web route too, but not the third.
        let got: Vec<String> = names(&r, &[("severity", "critical"), ("team", "web")])
            .into_iter()
            .map(|x| x.0)
            .collect();
        assert_eq!(got, vec!["pager", "web"]);
        let pager = &r.routes[0];
        assert_eq!((pager.group_wait, pager.group_interval), (10_000, 300_000));
        assert_eq!(
            pager.routes[0].group_wait, 10_000,
            "inherited from the parent"
        );
        assert_eq!(pager.group_by, GroupBy::Labels(vec!["alertname".into()]));
        assert_eq!(r.routes[1].group_by, GroupBy::All);
        let l = Labels::from_pairs([("alertname", "X"), ("pod", "p")]).unwrap();
        assert_eq!(r.group_labels(&l).to_string(), r#"{alertname="X"}"#);
    }
}
