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
use tokio::io::{AsyncRead, AsyncReadExt};
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
        self.0.try_read_buf(buf)
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
        // As for TCP: the stream's readiness is polled without `readable()`'s future.
        std::future::poll_fn(|cx| self.0.as_ref().poll_read_ready(cx)).await?;
        reserve(buf);
        self.0.try_read_buf(buf)
    }
}
