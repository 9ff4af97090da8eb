//! `/mqtt`: the page's MQTT-over-WebSocket connection relayed to the broker. The
//! WebSocket handshake goes through hyper's upgrade; the binary frames are seen as a
//! byte stream ([`WsStream`]) and copied both ways to a connection opened by the
//! client layer's transport (TCP, TLS, Unix socket, WebSocket, proxy: whatever the
//! display's own flags name). The relay reads no packet: the page's CONNECT and
//! everything after it go to the broker as they are.
//!
//! The `mqtt` subprotocol is required and chosen [MQTT-6.0.0-3] [MQTT-6.0.0-4]. A
//! request whose `Origin` is another site is refused, so that a page elsewhere cannot
//! use the relay from the visitor's browser.

use super::status;
use crate::client::{ConnectOptions, transport};
use crate::ws::WsStream;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{
    CONNECTION, HOST, HeaderMap, HeaderValue, ORIGIN, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY,
    SEC_WEBSOCKET_PROTOCOL, SEC_WEBSOCKET_VERSION, UPGRADE,
};
use hyper::upgrade::OnUpgrade;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

/// The largest WebSocket message or frame accepted from the page.
const MAX_MESSAGE: usize = 1 << 20;

/// Answer a `GET /mqtt`: `101 Switching Protocols` with the `mqtt` subprotocol, the
/// upgrade to await put in `upgrade`; or why not.
pub(super) fn accept(
    req: &mut Request<Incoming>,
    upgrade: &mut Option<OnUpgrade>,
) -> Response<Full<Bytes>> {
    let headers = req.headers();
    if !has_token(headers, &UPGRADE, "websocket") || !has_token(headers, &CONNECTION, "upgrade") {
        return status(
            StatusCode::BAD_REQUEST,
            "/mqtt is MQTT over WebSocket: a WebSocket upgrade is expected",
        );
    }
    if headers
        .get(SEC_WEBSOCKET_VERSION)
        .map(HeaderValue::as_bytes)
        != Some(b"13")
    {
        let mut resp = status(StatusCode::UPGRADE_REQUIRED, "WebSocket version 13 only");
        resp.headers_mut()
            .insert(SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
        return resp;
    }
    let Some(key) = headers.get(SEC_WEBSOCKET_KEY) else {
        return status(StatusCode::BAD_REQUEST, "no Sec-WebSocket-Key");
    };
    if !has_token(headers, &SEC_WEBSOCKET_PROTOCOL, "mqtt") {
        return status(
            StatusCode::BAD_REQUEST,
            "the WebSocket subprotocol must be mqtt [MQTT-6.0.0-3]",
        );
    }
    if !same_origin(headers) {
        return status(StatusCode::FORBIDDEN, "a page from another site");
    }
    let accept_key = derive_accept_key(key.as_bytes());
    *upgrade = Some(hyper::upgrade::on(req));
    let mut resp = Response::new(Full::new(Bytes::new()));
    *resp.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = resp.headers_mut();
    h.insert(UPGRADE, HeaderValue::from_static("websocket"));
    h.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
    h.insert(SEC_WEBSOCKET_PROTOCOL, HeaderValue::from_static("mqtt"));
    if let Ok(v) = HeaderValue::from_str(&accept_key) {
        h.insert(SEC_WEBSOCKET_ACCEPT, v);
    }
    resp
}

/// Whether header `name` lists `token` (comma-separated, any case).
fn has_token(headers: &HeaderMap, name: &hyper::header::HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

/// A request without `Origin` (not from a browser page), or from a page served by
/// this host and port.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let Some(host) = headers.get(HOST).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let authority = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    authority.is_some_and(|a| a.eq_ignore_ascii_case(host))
}

/// Relay the upgraded connection to the broker until either side closes.
pub(super) async fn run(upgrade: OnUpgrade, broker: &ConnectOptions) {
    let upgraded = match upgrade.await {
        Ok(u) => u,
        Err(e) => {
            tracing::debug!("web display: WebSocket upgrade failed: {e}");
            return;
        }
    };
    let mut config = WebSocketConfig::default();
    config.max_message_size = Some(MAX_MESSAGE);
    config.max_frame_size = Some(MAX_MESSAGE);
    let ws =
        WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(config)).await;
    let mut page = WsStream::new(ws);
    let deadline = tokio::time::Instant::now() + broker.connect_timeout;
    let upstream = match transport::connect(broker, deadline).await {
        Ok(t) => t,
        Err(e) => {
            tracing::warn!(
                "web display: cannot reach the broker at {}: {e}",
                broker.server_display()
            );
            // The page sees the WebSocket close and tries again later.
            let _ = page.shutdown().await;
            return;
        }
    };
    pipe(page, upstream).await;
}

/// Copy both ways (8 KiB at a time each way) until one side ends; then close the
/// other.
async fn pipe<A, B>(a: A, b: B)
where
    A: AsyncRead + AsyncWrite + Unpin,
    B: AsyncRead + AsyncWrite + Unpin,
{
    let (mut a_read, mut a_write) = tokio::io::split(a);
    let (mut b_read, mut b_write) = tokio::io::split(b);
    let a_to_b = async {
        let _ = tokio::io::copy(&mut a_read, &mut b_write).await;
        let _ = b_write.shutdown().await;
    };
    let b_to_a = async {
        let _ = tokio::io::copy(&mut b_read, &mut a_write).await;
        let _ = a_write.shutdown().await;
    };
    tokio::select! {
        _ = a_to_b => {}
        _ = b_to_a => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn tokens_are_comma_separated_any_case() {
        let h = headers(&[
            ("connection", "keep-alive, Upgrade"),
            ("sec-websocket-protocol", "mqttv3.1"),
            ("sec-websocket-protocol", "MQTT"),
        ]);
        assert!(has_token(&h, &CONNECTION, "upgrade"));
        assert!(has_token(&h, &SEC_WEBSOCKET_PROTOCOL, "mqtt"));
        assert!(!has_token(&h, &UPGRADE, "websocket"));
    }

    #[test]
    fn only_pages_from_this_server_may_connect() {
        assert!(same_origin(&headers(&[("host", "127.0.0.1:8080")])));
        assert!(same_origin(&headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://127.0.0.1:8080"),
        ])));
        for other in ["http://evil.example", "http://127.0.0.1:8081", "null"] {
            let h = headers(&[("host", "127.0.0.1:8080"), ("origin", other)]);
            assert!(!same_origin(&h), "{other}");
        }
    }
}
