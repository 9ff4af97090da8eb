//! Log outputs: one bounded queue per destination and one thread that writes it
//! out, so that logging never blocks the broker. stderr and stdout are
//! process-wide, like the streams; a file or the syslog socket is opened by the
//! logger that uses it and closed when the last logger configuration using it is
//! replaced (a reload reopens files, which is what logrotate expects).

use super::LogError;
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Most lines waiting for the output.
const QUEUE_LINES: usize = 4096;
/// Most bytes waiting for the output.
const QUEUE_BYTES: usize = 1 << 20;

/// What a writer thread writes to.
enum Target {
    Stderr,
    Stdout,
    File(File),
    /// The syslog socket (one datagram a line), its path and facility.
    #[cfg(unix)]
    Syslog(std::os::unix::net::UnixDatagram, std::path::PathBuf, u8),
}

/// The counters a writer thread shares with the loggers feeding it.
#[derive(Default)]
struct Counters {
    /// Bytes queued and not yet written.
    queued: AtomicUsize,
    /// Lines dropped since the last report.
    dropped: AtomicU64,
    /// Lines queued and not yet written, for [`Output::wait_written`].
    pending: AtomicUsize,
    /// The last line queued was JSON: the "dropped" notice is written as JSON too.
    json: AtomicBool,
}

/// One destination's queue. Dropping the last handle to a file's or syslog's
/// output ends its thread once the queue is written.
pub(super) struct Output {
    tx: SyncSender<String>,
    counters: Arc<Counters>,
}

static STDERR: OnceLock<Arc<Output>> = OnceLock::new();
static STDOUT: OnceLock<Arc<Output>> = OnceLock::new();

impl Output {
    /// The process-wide stderr (`stdout` false) or stdout output, started on first
    /// use; `None` when its thread cannot be started.
    pub(super) fn standard(stdout: bool) -> Option<Arc<Output>> {
        let cell = if stdout { &STDOUT } else { &STDERR };
        if let Some(out) = cell.get() {
            return Some(out.clone());
        }
        // Only one thread may start the writer: the receiver goes to it.
        static STARTING: Mutex<()> = Mutex::new(());
        let _guard = STARTING.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(out) = cell.get() {
            return Some(out.clone());
        }
        let target = if stdout {
            Target::Stdout
        } else {
            Target::Stderr
        };
        let out = Output::start(target).ok()?;
        Some(cell.get_or_init(|| Arc::new(out)).clone())
    }

    /// A file opened for appending (created if missing).
    pub(super) fn file(path: &Path) -> Result<Output, LogError> {
        let file = File::options()
            .append(true)
            .create(true)
            .open(path)
            .map_err(|source| LogError::File {
                path: path.to_path_buf(),
                source,
            })?;
        Output::start(Target::File(file)).map_err(|source| LogError::File {
            path: path.to_path_buf(),
            source,
        })
    }

    /// The syslog socket at `path` (`/dev/log` on most systems).
    #[cfg(unix)]
    pub(super) fn syslog(path: &Path, facility: u8) -> Result<Output, LogError> {
        let failed = |source| LogError::Syslog {
            path: path.to_path_buf(),
            source,
        };
        let socket = std::os::unix::net::UnixDatagram::unbound().map_err(failed)?;
        socket.connect(path).map_err(failed)?;
        Output::start(Target::Syslog(socket, path.to_path_buf(), facility)).map_err(failed)
    }

    fn start(target: Target) -> std::io::Result<Output> {
        let (tx, rx) = sync_channel(QUEUE_LINES);
        let counters = Arc::new(Counters::default());
        let shared = counters.clone();
        std::thread::Builder::new()
            .name("mq-log".into())
            .spawn(move || write_out(&shared, target, rx))?;
        Ok(Output { tx, counters })
    }

    /// Queue a line, or drop and count it when the queue is full.
    pub(super) fn push(&self, line: String, json: bool) {
        let c = &self.counters;
        let len = line.len();
        if c.queued.load(Ordering::Relaxed) + len > QUEUE_BYTES {
            c.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        c.json.store(json, Ordering::Relaxed);
        c.queued.fetch_add(len, Ordering::Relaxed);
        c.pending.fetch_add(1, Ordering::AcqRel);
        match self.tx.try_send(line) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                c.queued.fetch_sub(len, Ordering::Relaxed);
                c.pending.fetch_sub(1, Ordering::AcqRel);
                c.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Wait until every queued line is written, at most `limit` (polled: used once,
    /// at shutdown).
    pub(super) fn wait_written(&self, limit: Duration) {
        let deadline = Instant::now() + limit;
        while self.counters.pending.load(Ordering::Acquire) > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

/// Wait, at most `limit` in all, until every line logged so far is written, to
/// stderr and stdout: before the process exits.
pub fn flush_all(limit: Duration) {
    let deadline = Instant::now() + limit;
    for out in [STDERR.get(), STDOUT.get()].into_iter().flatten() {
        out.wait_written(deadline.saturating_duration_since(Instant::now()));
    }
}

/// How long the writer thread lets lines gather before writing them out together.
/// A burst of connections logs a few thousand lines a second: a broker worker that
/// wakes this thread for each line (a system call, and a context switch for the
/// thread) and a write per line took CPU time from the broker's workers on a small
/// machine (connect p99 doubled). Each time the thread wakes it may also preempt a
/// worker: on two busy cores, waking every 2 ms still made connect p99 twice what
/// it is every 10 ms. A line is late by at most this, too little to see.
const GATHER: Duration = Duration::from_millis(10);

/// The writer thread: write the lines a batch at a time, each batch preceded by a
/// line saying how many were dropped since the last one written. The first line
/// of a burst wakes the thread; then, as long as lines keep coming, it looks for
/// more every [`GATHER`] by itself, so the loggers do not wake it again until the
/// burst is over. A closed stream, a full disk or a syslog daemon that went away
/// must not stop the broker: write errors are ignored (a syslog socket is
/// connected again once per line until it works).
fn write_out(c: &Counters, mut target: Target, rx: Receiver<String>) {
    let mut batch: Vec<String> = Vec::new();
    while let Ok(first) = rx.recv() {
        batch.push(first);
        loop {
            std::thread::sleep(GATHER);
            // Bounded: the queue holds at most QUEUE_LINES.
            let before = batch.len();
            batch.extend(rx.try_iter().take(QUEUE_LINES));
            let more = batch.len() > before;
            write_batch(c, &mut target, &mut batch);
            if !more {
                break;
            }
        }
    }
}

/// Write the batch out (after the notice of lines dropped, if any) and empty it.
fn write_batch(c: &Counters, target: &mut Target, batch: &mut Vec<String>) {
    if batch.is_empty() {
        return;
    }
    let lines = batch.len();
    let bytes: usize = batch.iter().map(String::len).sum();
    let dropped = c.dropped.swap(0, Ordering::Relaxed);
    if dropped > 0 {
        batch.insert(0, dropped_notice(dropped, c.json.load(Ordering::Relaxed)));
    }
    write_lines(target, batch);
    batch.clear();
    c.queued.fetch_sub(bytes, Ordering::Relaxed);
    c.pending.fetch_sub(lines, Ordering::AcqRel);
}

/// Write a batch of lines: in one write to a stream or a file, one datagram a line
/// to syslog.
fn write_lines(target: &mut Target, lines: &[String]) {
    let _ = match target {
        Target::Stderr => {
            let mut s = std::io::stderr().lock();
            write_joined(&mut s, lines).and_then(|()| s.flush())
        }
        Target::Stdout => {
            let mut s = std::io::stdout().lock();
            write_joined(&mut s, lines).and_then(|()| s.flush())
        }
        Target::File(f) => write_joined(f, lines),
        #[cfg(unix)]
        Target::Syslog(socket, path, facility) => {
            for line in lines {
                // A text line ends with a newline, which syslog does not want; the
                // priority is added to the notice here.
                let body = line.strip_suffix('\n').unwrap_or(line);
                let datagram = if body.starts_with('<') {
                    body.to_string()
                } else {
                    super::format::syslog_line(*facility, super::LogTypes::WARNING, body)
                };
                let _ = socket.send(datagram.as_bytes()).map(drop).or_else(|_| {
                    socket.connect(path.as_path())?;
                    socket.send(datagram.as_bytes()).map(drop)
                });
            }
            Ok(())
        }
    };
}

/// Write the lines with one `write_all` (std's streams are unbuffered or line
/// buffered: writing them one by one would be one system call each).
fn write_joined(out: &mut impl Write, lines: &[String]) -> std::io::Result<()> {
    if let [line] = lines {
        return out.write_all(line.as_bytes());
    }
    let mut joined = String::with_capacity(lines.iter().map(String::len).sum());
    for line in lines {
        joined.push_str(line);
    }
    out.write_all(joined.as_bytes())
}

/// The line that says lines were lost.
fn dropped_notice(dropped: u64, json: bool) -> String {
    let msg = format!("{dropped} log lines were dropped: the log output did not keep up.");
    if json {
        super::format::json_line(SystemTime::now(), super::LogTypes::WARNING, &msg)
    } else {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        format!("{secs}: {msg}\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines pushed in a burst are gathered into batches: every one is written, once,
    /// in the order pushed.
    #[test]
    fn a_burst_is_written_whole_and_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mq.log");
        let out = Output::file(&path).unwrap();
        for i in 0..1000 {
            out.push(format!("line {i}\n"), false);
        }
        out.wait_written(Duration::from_secs(10));
        let text = std::fs::read_to_string(&path).unwrap();
        let want: String = (0..1000).map(|i| format!("line {i}\n")).collect();
        assert_eq!(text, want);
    }

    #[test]
    fn one_write_holds_every_line_of_a_batch() {
        let mut buf = Vec::new();
        write_joined(&mut buf, &["a\n".to_string(), "b\n".to_string()]).unwrap();
        write_joined(&mut buf, &["c\n".to_string()]).unwrap();
        assert_eq!(buf, b"a\nb\nc\n");
    }
}
