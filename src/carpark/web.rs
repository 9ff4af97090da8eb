//! `mq carpark display --web`: the display as a web page. One HTTP server (hyper)
//! serves a single self-contained page — HTML, CSS and script embedded in the binary,
//! no CDN, no build step — whose small MQTT client subscribes to the car park over
//! WebSocket, and `/mqtt`, a WebSocket endpoint that relays those bytes to the broker
//! the display itself uses ([`relay`]), so the page works with any broker, even one
//! without a WebSocket listener. With [`WebOptions::ws_url`] the page connects
//! straight to a broker's WebSocket listener instead.
//!
//! Everything is bounded: at most [`MAX_CONNECTIONS`] HTTP connections (pages and
//! relays together), a deadline on request headers, relay buffers of a fixed size.

mod relay;

use super::Shutdown;
use super::messages::Topics;
use crate::client::ConnectOptions;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use hyper::upgrade::OnUpgrade;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::{JoinHandle, JoinSet};

/// At most this many HTTP connections at once (pages and `/mqtt` relays together);
/// more wait to be accepted.
pub const MAX_CONNECTIONS: usize = 64;
/// A client must send its request headers within this time.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

const PAGE_HTML: &str = include_str!("web/index.html");
const PAGE_CSS: &str = include_str!("web/style.css");
const PAGE_JS: &str = include_str!("web/mqtt-page.js");

/// Why the web display could not start.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// The listening socket could not be opened.
    #[error("cannot listen on {addr} for the web display: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// Everything the web display needs.
#[derive(Debug, Clone)]
pub struct WebOptions {
    /// Where to serve the page (port 0: a free one).
    pub listen: SocketAddr,
    /// The broker `/mqtt` relays to (scheme, TLS, Unix socket, proxy as for any role;
    /// the page's own CONNECT carries its client id and protocol version).
    pub broker: ConnectOptions,
    /// Where the page connects instead of `/mqtt`: a broker's WebSocket listener
    /// (`ws://host:port/mqtt`).
    pub ws_url: Option<String>,
    /// The car park's topics.
    pub topics: Topics,
    /// Name shown on the page.
    pub name: String,
}

/// Where a display serves its page (`--web`, `--ws-url`); the rest of the
/// [`WebOptions`] comes from the display's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebSettings {
    /// Where to serve the page (port 0: a free one).
    pub listen: SocketAddr,
    /// Where the page connects instead of `/mqtt`.
    pub ws_url: Option<String>,
}

/// A running web display.
#[derive(Debug)]
pub struct WebServer {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl WebServer {
    /// Bind and serve until `shutdown`.
    pub async fn start(options: WebOptions, shutdown: Shutdown) -> Result<WebServer, WebError> {
        let listener =
            TcpListener::bind(options.listen)
                .await
                .map_err(|source| WebError::Bind {
                    addr: options.listen,
                    source,
                })?;
        let addr = listener.local_addr().map_err(|source| WebError::Bind {
            addr: options.listen,
            source,
        })?;
        let site = Arc::new(Site {
            page: Bytes::from(page(&options)),
            broker: options.broker,
        });
        let task = tokio::spawn(accept_loop(listener, site, shutdown));
        Ok(WebServer { addr, task })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The page's URL (`http://127.0.0.1:PORT/`; a wildcard address is shown as
    /// loopback, which is where a browser on this machine finds it).
    pub fn url(&self) -> String {
        let mut addr = self.addr;
        if addr.ip().is_unspecified() {
            addr.set_ip(match addr {
                SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
                SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
            });
        }
        format!("http://{addr}/")
    }

    /// Wait until it has stopped (after the shutdown signal), its connections closed.
    pub async fn stopped(mut self) {
        let _ = (&mut self.task).await;
    }
}

impl Drop for WebServer {
    /// A server dropped stops at once, its connections with it.
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What every connection serves.
struct Site {
    /// The page, assembled once.
    page: Bytes,
    /// Where `/mqtt` relays to.
    broker: ConnectOptions,
}

/// The page with its stylesheet, script and settings inlined.
fn page(options: &WebOptions) -> String {
    let settings = serde_json::json!({
        "prefix": options.topics.prefix(),
        "name": options.name,
        "ws_url": options.ws_url,
    });
    // Inside <script>, `<` must not appear: `</script>` would end the element early.
    let settings = settings
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026");
    fill(
        PAGE_HTML,
        &[
            ("{{title}}", &html_escape(&options.name)),
            ("{{settings}}", &settings),
            ("{{style}}", PAGE_CSS),
            ("{{script}}", PAGE_JS),
        ],
    )
}

/// `template` with each placeholder replaced, in one pass: what is put in is never
/// read again, so a name that contains `{{settings}}` stays text.
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out =
        String::with_capacity(template.len() + values.iter().map(|(_, v)| v.len()).sum::<usize>());
    let mut rest = template;
    while let Some(at) = rest.find("{{") {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        match values.iter().find(|(key, _)| tail.starts_with(key)) {
            Some((key, value)) => {
                out.push_str(value);
                rest = &tail[key.len()..];
            }
            None => {
                out.push_str("{{");
                rest = &tail[2..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Text safe inside HTML elements and attribute values.
fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Accept connections (at most [`MAX_CONNECTIONS`] at once) until `shutdown`; then
/// close them all.
async fn accept_loop(listener: TcpListener, site: Arc<Site>, mut shutdown: Shutdown) {
    let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut connections = JoinSet::new();
    loop {
        // Reap finished connections so the set stays as small as the live ones.
        while connections.try_join_next().is_some() {}
        let permit = tokio::select! {
            _ = shutdown.wait() => break,
            permit = permits.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let (stream, peer) = tokio::select! {
            _ = shutdown.wait() => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little, go on.
                    tracing::warn!("web display: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let site = site.clone();
        connections.spawn(async move {
            let _permit = permit;
            serve_connection(stream, peer, site).await;
        });
    }
    connections.shutdown().await;
}

/// Serve one HTTP/1.1 connection; after a `/mqtt` upgrade, the relay, in the same
/// task (so it holds its connection permit and stops with the server).
async fn serve_connection(stream: tokio::net::TcpStream, peer: SocketAddr, site: Arc<Site>) {
    let upgrade: Arc<Mutex<Option<OnUpgrade>>> = Arc::default();
    let slot = upgrade.clone();
    let page = site.page.clone();
    let service = hyper::service::service_fn(move |mut req| {
        let response = match slot.lock() {
            Ok(mut slot) => respond(&mut req, &page, &mut slot),
            Err(_) => status(StatusCode::INTERNAL_SERVER_ERROR, "internal error"),
        };
        async move { Ok::<_, std::convert::Infallible>(response) }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    if let Err(e) = conn.await {
        tracing::debug!("web display: connection from {peer}: {e}");
        return;
    }
    let pending = upgrade.lock().ok().and_then(|mut u| u.take());
    if let Some(pending) = pending {
        relay::run(pending, &site.broker).await;
    }
}

/// The answer to one request: the page, the `/mqtt` upgrade (left in `upgrade`), or
/// an error status.
fn respond(
    req: &mut Request<Incoming>,
    page: &Bytes,
    upgrade: &mut Option<OnUpgrade>,
) -> Response<Full<Bytes>> {
    match (req.method(), req.uri().path()) {
        (&Method::GET, "/mqtt") => relay::accept(req, upgrade),
        (&Method::GET | &Method::HEAD, "/" | "/index.html") => {
            let mut resp = Response::new(Full::new(page.clone()));
            let headers = resp.headers_mut();
            headers.insert(
                CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
            headers.insert(
                "X-Content-Type-Options",
                HeaderValue::from_static("nosniff"),
            );
            resp
        }
        (&Method::GET | &Method::HEAD, _) => status(StatusCode::NOT_FOUND, "not found"),
        _ => status(StatusCode::METHOD_NOT_ALLOWED, "only GET is served here"),
    }
}

/// A plain-text response with `code`.
fn status(code: StatusCode, text: &str) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(format!("{text}\n"))));
    *resp.status_mut() = code;
    resp.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(name: &str, ws_url: Option<&str>) -> WebOptions {
        WebOptions {
            listen: "127.0.0.1:0".parse().unwrap(),
            broker: ConnectOptions::new("127.0.0.1", 1883),
            ws_url: ws_url.map(String::from),
            topics: Topics::new("carpark/level2").unwrap(),
            name: name.into(),
        }
    }

    #[test]
    fn the_page_is_self_contained() {
        let html = page(&options("Level 2", None));
        assert!(html.contains("<title>Level 2</title>"), "{html}");
        assert!(html.contains(r#""prefix":"carpark/level2""#), "{html}");
        assert!(html.contains(r#""ws_url":null"#), "{html}");
        for placeholder in ["{{title}}", "{{settings}}", "{{style}}", "{{script}}"] {
            assert!(
                !html.contains(placeholder),
                "{placeholder} left in the page"
            );
        }
        // Nothing fetched from elsewhere.
        for external in ["src=\"http", "href=\"http", "<link", "src=\"//"] {
            assert!(!html.contains(external), "{external} in the page");
        }
    }

    #[test]
    fn names_cannot_break_out_of_the_page() {
        let html = page(&options("</script><b>&", Some("ws://h:9001/mqtt")));
        assert!(html.contains("<title>&lt;/script&gt;&lt;b&gt;&amp;</title>"));
        assert!(html.contains(r#""name":"\u003c/script\u003e\u003cb\u003e\u0026""#));
        assert!(html.contains(r#""ws_url":"ws://h:9001/mqtt""#));
        assert_eq!(html.matches("</script>").count(), 2, "{html}");
    }

    #[test]
    fn placeholders_in_a_name_stay_text() {
        let html = page(&options("{{settings}} {{script}}", None));
        assert!(
            html.contains("<title>{{settings}} {{script}}</title>"),
            "{html}"
        );
        assert_eq!(html.matches(r#""prefix":"#).count(), 1, "{html}");
        assert_eq!(
            fill("a{{x}}b{{y}}{{", &[("{{x}}", "{{y}}"), ("{{y}}", "2")]),
            "a{{y}}b2{{"
        );
    }
}
