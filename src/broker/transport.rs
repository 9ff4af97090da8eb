//! The byte streams a broker connection runs over, seen by the connection task as
//! one read half ([`PacketRead`]) and one write half (`AsyncWrite`): plain TCP,
//! TLS, WebSocket and WebSocket over TLS all go through the same packet handling.
//!
//! Reading is the one place where the transports differ. A TCP socket can report
//! that input is waiting before the connection allocates a buffer for it, so an
//! idle TCP connection holds no read buffer ([`Tcp`]); a stream with a layer of its
//! own in between (TLS, WebSocket) is read into a buffer reserved first
//! ([`Layered`]).

use bytes::BytesMut;
use std::io;
use tokio::io::{AsyncRead, AsyncReadExt, Interest};
use tokio::net::tcp::OwnedReadHalf;

/// The read half of a connection's stream.
pub trait PacketRead: Send {
    /// Wait for input and read some of it into `buf`, after `reserve` has made room
    /// in it (called once input is known to be waiting where the transport can
    /// tell). `Ok(0)` at the end of the stream; an error of kind `WouldBlock` when
    /// the input announced was not there after all: the caller releases what it
    /// reserved and calls again, so that an idle connection holds no buffer.
    fn read_more<F: FnOnce(&mut BytesMut) + Send>(
        &mut self,
        buf: &mut BytesMut,
        reserve: F,
    ) -> impl Future<Output = io::Result<usize>> + Send;
}

/// The read half of a plain TCP connection.
pub struct Tcp(pub OwnedReadHalf);

impl PacketRead for Tcp {
    async fn read_more<F: FnOnce(&mut BytesMut) + Send>(
        &mut self,
        buf: &mut BytesMut,
        reserve: F,
    ) -> io::Result<usize> {
        // Polled on the stream itself: `readable()`'s future is 168 bytes, part of
        // every connection's task; this one holds a reference.
        std::future::poll_fn(|cx| self.0.as_ref().poll_read_ready(cx)).await?;
        reserve(buf);
        let (stream, half, room) = (self.0.as_ref(), &self.0, buf.capacity() - buf.len());
        read_drained(
            |f| stream.try_io(Interest::READABLE, f),
            || half.try_read_buf(buf),
            room,
        )
    }
}

/// Whether the runtime's readiness events are edge-triggered here (see
/// [`read_drained`]).
const EDGE_TRIGGERED: bool = cfg!(any(
    target_os = "linux",
    target_os = "android",
    target_os = "illumos",
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
    target_os = "openbsd",
    target_os = "netbsd",
    target_os = "dragonfly",
));

/// Read once, and when the read took less than the buffer had room for, tell the
/// runtime that the socket is drained, so that the next read waits for the next
/// readiness event instead of asking the kernel first. (`try_read_buf` forgets
/// readiness only when a read fails with `WouldBlock`: each packet cost a second,
/// empty read, made before the packet's deliveries were written — on the path of
/// every message at low rates.) A stream socket's read returns all that is
/// waiting, up to the room given, so a short read leaves nothing behind; data that
/// arrives after it is a new readiness event, which the runtime does not forget
/// (it clears only the event the read was made under).
///
/// Only where the runtime's readiness is edge-triggered (epoll, kqueue), as in
/// tokio's own reads: elsewhere (Windows) readiness is forgotten only on
/// `WouldBlock`.
fn read_drained(
    try_io: impl FnOnce(&mut dyn FnMut() -> io::Result<usize>) -> io::Result<usize>,
    mut read: impl FnMut() -> io::Result<usize>,
    room: usize,
) -> io::Result<usize> {
    if !EDGE_TRIGGERED {
        return read();
    }
    let mut got = None;
    match try_io(&mut || {
        let n = read()?;
        if n > 0 && n < room {
            // `try_io` clears the readiness on `WouldBlock`; the bytes are kept.
            got = Some(n);
            return Err(io::ErrorKind::WouldBlock.into());
        }
        Ok(n)
    }) {
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => got.ok_or(e),
        other => other,
    }
}

/// The read half of a stream with a layer of its own over the socket (TLS,
/// WebSocket).
pub struct Layered<R>(pub R);

impl<R: AsyncRead + Unpin + Send> PacketRead for Layered<R> {
    async fn read_more<F: FnOnce(&mut BytesMut) + Send>(
        &mut self,
        buf: &mut BytesMut,
        reserve: F,
    ) -> io::Result<usize> {
        reserve(buf);
        self.0.read_buf(buf).await
    }
}

/// The read half of a Unix domain socket connection: like TCP, it reports waiting
/// input before a buffer is reserved.
#[cfg(unix)]
pub struct Unix(pub tokio::net::unix::OwnedReadHalf);

#[cfg(unix)]
impl PacketRead for Unix {
    async fn read_more<F: FnOnce(&mut BytesMut) + Send>(
        &mut self,
        buf: &mut BytesMut,
        reserve: F,
    ) -> io::Result<usize> {
        // As for TCP: the stream's readiness is polled without `readable()`'s future,
        // and forgotten after a short read.
        std::future::poll_fn(|cx| self.0.as_ref().poll_read_ready(cx)).await?;
        reserve(buf);
        let (stream, half, room) = (self.0.as_ref(), &self.0, buf.capacity() - buf.len());
        read_drained(
            |f| stream.try_io(Interest::READABLE, f),
            || half.try_read_buf(buf),
            room,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `f` as the runtime's `try_io` does, and says whether it would have
    /// forgotten the readiness (on `WouldBlock`).
    fn run(read: io::Result<usize>, room: usize) -> (io::Result<usize>, bool) {
        let mut cleared = false;
        let mut once = Some(read);
        let got = read_drained(
            |f| {
                let r = f();
                cleared = matches!(&r, Err(e) if e.kind() == io::ErrorKind::WouldBlock);
                r
            },
            || once.take().unwrap_or(Ok(0)),
            room,
        );
        (got, cleared)
    }

    #[test]
    fn a_short_read_keeps_its_bytes_and_forgets_the_readiness() {
        let (got, cleared) = run(Ok(100), 1024);
        assert_eq!(got.unwrap(), 100);
        assert_eq!(cleared, EDGE_TRIGGERED);
    }

    #[test]
    fn a_full_read_or_the_end_keeps_the_readiness() {
        let (got, cleared) = run(Ok(1024), 1024);
        assert_eq!(got.unwrap(), 1024);
        assert!(!cleared);
        let (got, cleared) = run(Ok(0), 1024);
        assert_eq!(got.unwrap(), 0);
        assert!(!cleared);
    }

    #[test]
    fn nothing_to_read_is_would_block() {
        let (got, cleared) = run(Err(io::ErrorKind::WouldBlock.into()), 1024);
        assert_eq!(got.unwrap_err().kind(), io::ErrorKind::WouldBlock);
        assert_eq!(cleared, EDGE_TRIGGERED);
    }
}
