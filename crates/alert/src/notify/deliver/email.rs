//! Email over SMTP: STARTTLS whenever the server offers it (required when `require_tls` says
//! so), authentication when configured, and a plain-text and an HTML part.

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::{Context, Delivery, DeliveryError, Notifier};
use crate::notify::config::{EmailConfig, Global, TlsConfig};
use crate::notify::dispatch::Notification;
use crate::notify::payload;

/// An email integration.
pub struct Email {
    to: String,
    from: String,
    smarthost: String,
    hello: Option<String>,
    auth: Option<(String, String)>,
    require_tls: bool,
    send_resolved: bool,
    subject: Option<String>,
    tls: TlsConfig,
    ctx: Context,
}

impl Email {
    /// From its configuration and the global defaults.
    pub fn new(c: &EmailConfig, g: &Global, ctx: &Context) -> Self {
        let user = c
            .auth_username
            .clone()
            .or_else(|| g.smtp_auth_username.clone());
        let pass = c
            .auth_password
            .clone()
            .or_else(|| g.smtp_auth_password.clone());
        Self {
            to: c.to.clone(),
            from: c
                .from
                .clone()
                .or_else(|| g.smtp_from.clone())
                .unwrap_or_default(),
            smarthost: c
                .smarthost
                .clone()
                .or_else(|| g.smtp_smarthost.clone())
                .unwrap_or_default(),
            hello: c.hello.clone().or_else(|| g.smtp_hello.clone()),
            auth: user.zip(pass),
            require_tls: c.require_tls.or(g.smtp_require_tls).unwrap_or(false),
            send_resolved: c.send_resolved.unwrap_or(false),
            subject: c.headers.get("Subject").cloned(),
            tls: c.tls_config.clone(),
            ctx: ctx.clone(),
        }
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The plain-text and HTML bodies of `n`.
pub fn bodies(n: &Notification, external_url: &str) -> (String, String) {
    let title = payload::title(n);
    let lines = payload::lines(n);
    let link = payload::dashboard_link(external_url);
    let mut text = format!("{title}\n\n");
    for l in &lines {
        text.push_str(&format!("- {l}\n"));
    }
    for a in &n.alerts {
        if let Some(d) = a.annotations.get("description") {
            text.push_str(&format!(
                "\n{}: {d}",
                a.labels.get("alertname").unwrap_or("")
            ));
        }
    }
    if let Some(l) = &link {
        text.push_str(&format!("\n\nOpen in KubePulse: {l}\n"));
    }
    let mut html = format!(
        "<!DOCTYPE html><html><body style=\"font-family:sans-serif\"><h2>{}</h2><ul>",
        escape(&title)
    );
    for l in &lines {
        html.push_str(&format!("<li>{}</li>", escape(l)));
    }
    html.push_str("</ul>");
    if let Some(l) = &link {
        html.push_str(&format!(
            "<p><a href=\"{0}\">Open in KubePulse</a></p>",
            escape(l)
        ));
    }
    html.push_str("</body></html>");
    (text, html)
}

fn mailboxes(list: &str) -> Result<Vec<Mailbox>, DeliveryError> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<Mailbox>()
                .map_err(|e| DeliveryError::fatal(format!("address {s:?}: {e}")))
        })
        .collect()
}

impl Email {
    /// STARTTLS settings: the usual roots, the configured CA, the expected name.
    fn tls_parameters(&self, host: &str) -> Result<TlsParameters, DeliveryError> {
        let name = self
            .tls
            .server_name
            .clone()
            .unwrap_or_else(|| host.to_string());
        let mut b = TlsParameters::builder(name)
            .dangerous_accept_invalid_certs(self.tls.insecure_skip_verify);
        if let Some(ca) = &self.tls.ca_file {
            let pem = std::fs::read(ca)
                .map_err(|e| DeliveryError::fatal(format!("ca_file {ca}: {e}")))?;
            let cert = Certificate::from_pem(&pem)
                .map_err(|e| DeliveryError::fatal(format!("ca_file {ca}: {e}")))?;
            b = b.add_root_certificate(cert);
        }
        b.build_rustls()
            .map_err(|e| DeliveryError::fatal(format!("tls: {e}")))
    }

    async fn send(&self, n: &Notification) -> Result<(), DeliveryError> {
        let (host, port) = match self.smarthost.rsplit_once(':') {
            Some((h, p)) => (
                h.trim_matches(['[', ']']).to_string(),
                p.parse::<u16>().map_err(|_| {
                    DeliveryError::fatal(format!("bad smarthost {:?}", self.smarthost))
                })?,
            ),
            None => (self.smarthost.clone(), 25),
        };
        let tls = self.tls_parameters(&host)?;
        let mode = if self.require_tls {
            Tls::Required(tls)
        } else {
            Tls::Opportunistic(tls)
        };
        let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(port)
            .tls(mode)
            .timeout(Some(super::ATTEMPT_TIMEOUT));
        if let Some(h) = &self.hello {
            b = b.hello_name(ClientId::Domain(h.clone()));
        }
        if let Some((u, p)) = &self.auth {
            b = b.credentials(Credentials::new(u.clone(), p.clone()));
        }
        let transport = b.build();
        let from: Mailbox = self
            .from
            .parse()
            .map_err(|e| DeliveryError::fatal(format!("from {:?}: {e}", self.from)))?;
        let mut m = Message::builder()
            .from(from)
            .subject(self.subject.clone().unwrap_or_else(|| payload::title(n)));
        for to in mailboxes(&self.to)? {
            m = m.to(to);
        }
        let (text, html) = bodies(n, &self.ctx.external_url);
        let msg = m
            .multipart(MultiPart::alternative_plain_html(text, html))
            .map_err(|e| DeliveryError::fatal(e.to_string()))?;
        transport.send(msg).await.map(|_| ()).map_err(|e| {
            let permanent = e.is_permanent();
            DeliveryError {
                message: e.to_string(),
                retry: !permanent,
            }
        })
    }
}

impl Notifier for Email {
    fn kind(&self) -> &'static str {
        "email"
    }

    fn send_resolved(&self) -> bool {
        self.send_resolved
    }

    fn notify<'a>(&'a self, n: &'a Notification) -> Delivery<'a> {
        Box::pin(self.send(n))
    }
}
