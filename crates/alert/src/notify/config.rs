//! The notification configuration in Alertmanager's YAML schema: `global`, `route` (the routing
//! tree), `receivers` (webhook, Slack and email integrations) and `inhibit_rules`. Unknown
//! fields are refused, as Alertmanager refuses them; `kubepulse check notifications` and
//! `amtool check-config` accept the same files.

use std::collections::BTreeMap;

use kubepulse_model::parse_duration;
use serde::{Deserialize, Serialize};

use super::matchers::{self, Matchers};
use crate::error::{AlertError, Place};

/// Settings shared by every integration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Global {
    /// How long an alert without an end time stays firing after it was last received.
    pub resolve_timeout: Option<String>,
    /// Default SMTP `host:port`.
    pub smtp_smarthost: Option<String>,
    /// Default sender address.
    pub smtp_from: Option<String>,
    /// Default SMTP user.
    pub smtp_auth_username: Option<String>,
    /// Default SMTP password.
    pub smtp_auth_password: Option<String>,
    /// Default name in the SMTP greeting.
    pub smtp_hello: Option<String>,
    /// Refuse to send over SMTP without STARTTLS (Alertmanager's default is true; KubePulse
    /// uses STARTTLS whenever the server offers it either way).
    pub smtp_require_tls: Option<bool>,
    /// Default Slack incoming webhook URL.
    pub slack_api_url: Option<String>,
}

/// A node of the routing tree, as written.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RouteConfig {
    /// Receiver name (inherited when absent).
    pub receiver: Option<String>,
    /// Labels that group alerts; `...` groups by every label.
    pub group_by: Option<Vec<String>>,
    /// Matchers in Alertmanager syntax.
    pub matchers: Vec<String>,
    /// Deprecated equality matchers.
    #[serde(rename = "match")]
    pub match_eq: BTreeMap<String, String>,
    /// Deprecated regex matchers.
    pub match_re: BTreeMap<String, String>,
    /// Go on matching sibling routes after this one matched.
    #[serde(rename = "continue")]
    pub continue_: bool,
    /// Wait before the first notification of a new group.
    pub group_wait: Option<String>,
    /// Wait before notifying about alerts added to a group already notified.
    pub group_interval: Option<String>,
    /// Wait before repeating a notification that has not changed.
    pub repeat_interval: Option<String>,
    /// Child routes.
    pub routes: Vec<RouteConfig>,
}

/// A webhook integration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookConfig {
    /// Where Alertmanager's webhook JSON is posted.
    pub url: String,
    /// Also notify when alerts resolve (default true).
    pub send_resolved: Option<bool>,
    /// Most alerts per message, 0 for all.
    pub max_alerts: u64,
}

/// A Slack incoming-webhook integration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SlackConfig {
    /// The incoming webhook URL (defaults to `global.slack_api_url`).
    pub api_url: Option<String>,
    /// Channel override.
    pub channel: Option<String>,
    /// User name override.
    pub username: Option<String>,
    /// Also notify when alerts resolve (default false).
    pub send_resolved: Option<bool>,
}

/// An email integration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmailConfig {
    /// Recipients, comma-separated.
    pub to: String,
    /// Sender (defaults to `global.smtp_from`).
    pub from: Option<String>,
    /// SMTP `host:port` (defaults to `global.smtp_smarthost`).
    pub smarthost: Option<String>,
    /// Name in the SMTP greeting.
    pub hello: Option<String>,
    /// SMTP user.
    pub auth_username: Option<String>,
    /// SMTP password.
    pub auth_password: Option<String>,
    /// Refuse to send without STARTTLS.
    pub require_tls: Option<bool>,
    /// Also notify when alerts resolve (default false).
    pub send_resolved: Option<bool>,
    /// Extra headers (`Subject` overrides the subject).
    pub headers: BTreeMap<String, String>,
    /// How the server's certificate is checked when STARTTLS is used.
    pub tls_config: TlsConfig,
}

/// Checks of a server's certificate.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsConfig {
    /// A PEM file of certificate authorities to trust besides the usual roots.
    pub ca_file: Option<String>,
    /// The name the certificate must carry (default: the host of the smarthost).
    pub server_name: Option<String>,
    /// Accept any certificate (testing only).
    pub insecure_skip_verify: bool,
}

/// A receiver: a name and its integrations.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReceiverConfig {
    /// Unique name routes refer to.
    pub name: String,
    /// Webhooks.
    pub webhook_configs: Vec<WebhookConfig>,
    /// Slack.
    pub slack_configs: Vec<SlackConfig>,
    /// Email.
    pub email_configs: Vec<EmailConfig>,
}

/// An inhibition rule, as written.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InhibitConfig {
    /// Alerts that inhibit.
    pub source_matchers: Vec<String>,
    /// Alerts that get inhibited.
    pub target_matchers: Vec<String>,
    /// Deprecated equality matchers of the source.
    pub source_match: BTreeMap<String, String>,
    /// Deprecated regex matchers of the source.
    pub source_match_re: BTreeMap<String, String>,
    /// Deprecated equality matchers of the target.
    pub target_match: BTreeMap<String, String>,
    /// Deprecated regex matchers of the target.
    pub target_match_re: BTreeMap<String, String>,
    /// Labels whose values must be equal in source and target.
    pub equal: Vec<String>,
}

/// The whole file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotifyConfig {
    /// Shared settings.
    pub global: Global,
    /// The routing tree's root.
    pub route: Option<RouteConfig>,
    /// Receivers.
    pub receivers: Vec<ReceiverConfig>,
    /// Inhibition rules.
    pub inhibit_rules: Vec<InhibitConfig>,
    /// Template files (not supported: messages use KubePulse's layouts).
    pub templates: Vec<String>,
}

fn err(file: &str, message: String) -> AlertError {
    AlertError::Load {
        place: Place {
            file: file.into(),
            line: 0,
            group: None,
            rule: None,
        },
        message,
    }
}

/// `match` and `match_re` maps as matchers.
pub fn legacy(
    eq: &BTreeMap<String, String>,
    re: &BTreeMap<String, String>,
) -> Result<Matchers, String> {
    let mut out = Vec::new();
    for (k, v) in eq {
        out.push(
            kubepulse_store::Matcher::new(kubepulse_store::MatchOp::Equal, k, v)
                .map_err(|e| e.to_string())?,
        );
    }
    for (k, v) in re {
        out.push(
            kubepulse_store::Matcher::new(kubepulse_store::MatchOp::RegexMatch, k, v)
                .map_err(|e| e.to_string())?,
        );
    }
    Ok(out)
}

impl NotifyConfig {
    /// Parses and validates the file `file` holding `src`.
    pub fn parse(file: &str, src: &str) -> Result<Self, AlertError> {
        let cfg: NotifyConfig = serde_saphyr::from_str(src).map_err(|e| {
            let line = e.location().map_or(0, |l| l.line() as usize);
            let (key, message) =
                kubepulse_model::yaml::describe_error(src, line.max(1), &e.to_string());
            AlertError::Load {
                place: Place {
                    file: file.into(),
                    line,
                    group: None,
                    rule: None,
                },
                message: if key.is_empty() {
                    message
                } else {
                    format!("{key}: {message}")
                },
            }
        })?;
        cfg.validate().map_err(|m| err(file, m))?;
        Ok(cfg)
    }

    /// Checks references, durations and matchers.
    pub fn validate(&self) -> Result<(), String> {
        if !self.templates.is_empty() {
            return Err("templates: custom notification templates are not supported".into());
        }
        let Some(route) = &self.route else {
            return Err("no route provided in config".into());
        };
        let Some(root_receiver) = &route.receiver else {
            return Err("root route must specify a default receiver".into());
        };
        if !route.matchers.is_empty() || !route.match_eq.is_empty() || !route.match_re.is_empty() {
            return Err("root route must not have any matchers".into());
        }
        if route.continue_ {
            return Err("cannot have continue in root route".into());
        }
        let mut names = std::collections::BTreeSet::new();
        for r in &self.receivers {
            if r.name.is_empty() {
                return Err("missing name in receiver".into());
            }
            if !names.insert(r.name.as_str()) {
                return Err(format!(
                    "notification config name {:?} is not unique",
                    r.name
                ));
            }
            for w in &r.webhook_configs {
                check_url(&w.url)
                    .map_err(|e| format!("receiver {:?}: webhook url: {e}", r.name))?;
            }
            for s in &r.slack_configs {
                let url = s.api_url.as_ref().or(self.global.slack_api_url.as_ref());
                match url {
                    Some(u) => check_url(u)
                        .map_err(|e| format!("receiver {:?}: slack api_url: {e}", r.name))?,
                    None => return Err("no global Slack API URL set".into()),
                }
            }
            for e in &r.email_configs {
                if e.to.is_empty() {
                    return Err("missing to address in email config".into());
                }
                if e.smarthost.is_none() && self.global.smtp_smarthost.is_none() {
                    return Err("no global SMTP smarthost set".into());
                }
                if e.from.is_none() && self.global.smtp_from.is_none() {
                    return Err("no global SMTP from set".into());
                }
                if let Some(ca) = &e.tls_config.ca_file
                    && !std::path::Path::new(ca).is_file()
                {
                    return Err(format!("unable to load specified CA cert {ca}"));
                }
            }
        }
        if !names.contains(root_receiver.as_str()) {
            return Err(format!(
                "undefined receiver {root_receiver:?} used in route"
            ));
        }
        check_route(route, &names)?;
        for (i, ir) in self.inhibit_rules.iter().enumerate() {
            matchers::parse_all(&ir.source_matchers)
                .and_then(|_| matchers::parse_all(&ir.target_matchers))
                .and_then(|_| legacy(&ir.source_match, &ir.source_match_re))
                .and_then(|_| legacy(&ir.target_match, &ir.target_match_re))
                .map_err(|e| format!("inhibit_rules[{i}]: {e}"))?;
        }
        if let Some(t) = &self.global.resolve_timeout {
            parse_duration(t).map_err(|e| format!("global.resolve_timeout: {e}"))?;
        }
        Ok(())
    }
}

fn check_url(u: &str) -> Result<(), String> {
    if u.starts_with("http://") || u.starts_with("https://") {
        Ok(())
    } else {
        Err(format!("unsupported scheme in {u:?} for URL"))
    }
}

fn check_route(r: &RouteConfig, names: &std::collections::BTreeSet<&str>) -> Result<(), String> {
    if let Some(rc) = &r.receiver
        && !names.contains(rc.as_str())
    {
        return Err(format!("undefined receiver {rc:?} used in route"));
    }
    for (what, d) in [
        ("group_wait", &r.group_wait),
        ("group_interval", &r.group_interval),
        ("repeat_interval", &r.repeat_interval),
    ] {
        if let Some(d) = d {
            let ms = parse_duration(d).map_err(|e| format!("{what}: {e}"))?;
            if what != "group_wait" && ms == 0 {
                return Err(format!("{what} cannot be zero"));
            }
        }
    }
    if let Some(g) = &r.group_by {
        for l in g {
            if l != "..." && !kubepulse_model::labels::is_valid_label_name(l) {
                return Err(format!("invalid label name {l:?} in group_by list"));
            }
        }
        if g.iter().any(|l| l == "...") && g.len() > 1 {
            return Err(
                "cannot have wildcard group_by (`...`) and other other labels at the same time"
                    .into(),
            );
        }
    }
    matchers::parse_all(&r.matchers)?;
    legacy(&r.match_eq, &r.match_re)?;
    for c in &r.routes {
        check_route(c, names)?;
    }
    Ok(())
}
