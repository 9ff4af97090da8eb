//! The client side of a SOCKS5 proxy handshake (`--proxy socks5h://...`): method
//! negotiation and CONNECT from RFC 1928, user name/password authentication from
//! RFC 1929. The broker's host name is sent as a domain name (ATYP 3) so that the proxy
//! resolves it (the `h` of `socks5h`); IP literals are sent as addresses.

use super::Error;
use super::options::Proxy;
use std::io;
use std::net::IpAddr;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The protocol version byte of SOCKS5 (RFC 1928 section 3).
const VERSION: u8 = 5;
/// "No authentication required" (RFC 1928 section 3).
const NO_AUTH: u8 = 0x00;
/// "Username/password" (RFC 1929).
const USER_PASS: u8 = 0x02;
/// "No acceptable methods".
const NO_ACCEPTABLE: u8 = 0xFF;

/// Ask the proxy on `stream` to connect to `host:port`.
pub async fn handshake<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    proxy: &Proxy,
    host: &str,
    port: u16,
) -> Result<(), Error> {
    let who = format!("SOCKS5 proxy {}:{}", proxy.host, proxy.port);
    let io_err = |e: io::Error| Error::Io(io::Error::new(e.kind(), format!("{who}: {e}")));
    let fail = |why: String| {
        Error::Io(io::Error::new(
            io::ErrorKind::ConnectionRefused,
            format!("{who}: {why}"),
        ))
    };

    // Method selection (RFC 1928 section 3).
    let greeting: &[u8] = if proxy.username.is_some() {
        &[VERSION, 2, NO_AUTH, USER_PASS]
    } else {
        &[VERSION, 1, NO_AUTH]
    };
    stream.write_all(greeting).await.map_err(io_err)?;
    let mut reply = [0u8; 2];
    stream.read_exact(&mut reply).await.map_err(io_err)?;
    if reply[0] != VERSION {
        return Err(fail(format!(
            "not a SOCKS5 proxy (version byte {})",
            reply[0]
        )));
    }
    match reply[1] {
        NO_AUTH => {}
        USER_PASS => {
            let (Some(user), Some(pass)) = (&proxy.username, &proxy.password) else {
                return Err(fail(
                    "the proxy wants a user name and password (socks5h://user:pass@host:port)"
                        .into(),
                ));
            };
            // RFC 1929 section 2: VER=1, ULEN, UNAME, PLEN, PASSWD (lengths checked
            // to be <= 255 when the URL was parsed; checked again here).
            let (ulen, plen) = match (u8::try_from(user.len()), u8::try_from(pass.len())) {
                (Ok(u), Ok(p)) => (u, p),
                _ => return Err(fail("user name or password longer than 255 bytes".into())),
            };
            let mut req = Vec::with_capacity(3 + user.len() + pass.len());
            req.push(1);
            req.push(ulen);
            req.extend_from_slice(user.as_bytes());
            req.push(plen);
            req.extend_from_slice(pass.as_bytes());
            stream.write_all(&req).await.map_err(io_err)?;
            let mut status = [0u8; 2];
            stream.read_exact(&mut status).await.map_err(io_err)?;
            if status[1] != 0 {
                return Err(fail(
                    "authentication failed (wrong user name or password)".into(),
                ));
            }
        }
        NO_ACCEPTABLE => {
            return Err(fail(
                "the proxy accepts none of our authentication methods".into(),
            ));
        }
        other => {
            return Err(fail(format!(
                "the proxy chose an authentication method we did not offer ({other})"
            )));
        }
    }

    // CONNECT request (RFC 1928 section 4).
    let mut req = vec![VERSION, 1, 0];
    match host.parse::<IpAddr>() {
        Ok(IpAddr::V4(a)) => {
            req.push(1);
            req.extend_from_slice(&a.octets());
        }
        Ok(IpAddr::V6(a)) => {
            req.push(4);
            req.extend_from_slice(&a.octets());
        }
        Err(_) => {
            let len = u8::try_from(host.len())
                .map_err(|_| fail(format!("host name '{host}' is longer than 255 bytes")))?;
            req.push(3);
            req.push(len);
            req.extend_from_slice(host.as_bytes());
        }
    }
    req.extend_from_slice(&port.to_be_bytes());
    stream.write_all(&req).await.map_err(io_err)?;

    // Reply (RFC 1928 section 6): VER, REP, RSV, ATYP, BND.ADDR, BND.PORT.
    let mut head = [0u8; 4];
    stream.read_exact(&mut head).await.map_err(io_err)?;
    if head[0] != VERSION {
        return Err(fail(format!("bad reply version {}", head[0])));
    }
    if head[1] != 0 {
        return Err(fail(format!(
            "cannot reach {host}:{port}: {}",
            reply_text(head[1])
        )));
    }
    let rest = match head[3] {
        1 => 4 + 2,
        4 => 16 + 2,
        3 => {
            let mut len = [0u8; 1];
            stream.read_exact(&mut len).await.map_err(io_err)?;
            usize::from(len[0]) + 2
        }
        other => return Err(fail(format!("bad address type {other} in the reply"))),
    };
    let mut skip = vec![0u8; rest];
    stream.read_exact(&mut skip).await.map_err(io_err)?;
    Ok(())
}

/// The meaning of a SOCKS5 reply code (RFC 1928 section 6).
fn reply_text(code: u8) -> String {
    match code {
        1 => "general SOCKS server failure".into(),
        2 => "connection not allowed by ruleset".into(),
        3 => "network unreachable".into(),
        4 => "host unreachable".into(),
        5 => "connection refused".into(),
        6 => "TTL expired".into(),
        7 => "command not supported".into(),
        8 => "address type not supported".into(),
        other => format!("error {other}"),
    }
}
