//! Watches one sandboxed command from start to end: streams its output
//! line by line while it runs, enforces its deadlines, its memory, its CPU
//! time and (for builds) the size of what it writes, and kills its whole
//! process tree when it ends, however it ends.

use std::fs::File;
use std::io::{self, Read};
use std::path::PathBuf;
use std::process::{Child, ExitStatus};
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender};
use std::time::{Duration, Instant};

use super::sandbox::{self, HeldUid};
use crate::output::{LineSplitter, SplitLine, Stream};

/// How often the tree's memory and CPU time are measured (and cancellation
/// asked, which the contract wants at least every 250 ms).
const TICK: Duration = Duration::from_millis(100);
/// How often the size of a build's directories is measured.
const SIZE_EVERY: Duration = Duration::from_secs(3);
/// How long a program may take to exit once it reported its outcome
/// (threads it left running keep the interpreter alive).
const EXIT_GRACE: Duration = Duration::from_secs(5);
/// How long output already written is still read after the tree was killed.
const DRAIN: Duration = Duration::from_secs(2);
/// Lines buffered between the readers and the supervisor: a program that
/// writes faster than its log is taken waits.
const BACKLOG: usize = 1024;

/// Where a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// stdout or stderr.
    Output(Stream),
    /// The control channel (fd 3).
    Control,
}

/// A line read from a command.
#[derive(Debug)]
pub(crate) struct Line {
    /// Where it came from.
    pub source: Source,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Whether it was cut at the maximum length.
    pub truncated: bool,
}

/// What a command is held to.
pub(crate) struct Watch<'a> {
    /// Wall-clock deadline.
    pub deadline: Instant,
    /// Resident memory of all its processes together, bytes.
    pub memory_bytes: u64,
    /// CPU time of all its processes together.
    pub cpu: Duration,
    /// Directories whose total size may not pass `max_bytes` (builds).
    pub sizes: Vec<PathBuf>,
    /// The bound on their size.
    pub max_bytes: u64,
    /// Whether to stop now.
    pub cancelled: &'a dyn Fn() -> bool,
    /// Whether the command's outcome is in (then it gets [`EXIT_GRACE`] to exit).
    pub reported: &'a dyn Fn() -> bool,
}

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ended {
    /// It exited by itself (or, having reported, was stopped after the grace).
    Exited(Option<ExitStatus>),
    /// The wall-clock deadline passed.
    TimedOut,
    /// Its processes used more CPU time than allowed.
    CpuExhausted,
    /// Its processes together used more memory than allowed.
    OutOfMemory,
    /// Its directories grew past the bound.
    TooLarge,
    /// It was cancelled.
    Cancelled,
    /// It could not be started at all.
    NotStarted,
}

/// Line length bounds of the output streams and of the control channel.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LineBounds {
    /// stdout and stderr.
    pub output: usize,
    /// fd 3 (a result is one line).
    pub control: usize,
}

/// Runs `child` (started by the sandbox as `uid`) to its end under `watch`,
/// passing every line to `on_line` as it comes, then kills what is left of
/// its tree and passes the lines still buffered.
pub(crate) fn supervise(
    mut child: Child,
    uid: &HeldUid,
    control: Option<File>,
    bounds: LineBounds,
    watch: &Watch<'_>,
    on_line: &mut dyn FnMut(Line),
) -> Ended {
    let pgid = child.id();
    let (sender, lines) = mpsc::sync_channel(BACKLOG);
    if let Some(stdout) = child.stdout.take() {
        read_lines(
            stdout,
            Source::Output(Stream::Stdout),
            bounds.output,
            sender.clone(),
        );
    }
    if let Some(stderr) = child.stderr.take() {
        read_lines(
            stderr,
            Source::Output(Stream::Stderr),
            bounds.output,
            sender.clone(),
        );
    }
    if let Some(control) = control {
        read_lines(control, Source::Control, bounds.control, sender.clone());
    }
    drop(sender);

    let cpu_budget = watch.cpu.as_secs_f64() * sandbox::ticks_per_second() as f64;
    let mut last_measure = Instant::now() - TICK;
    let mut last_size = Instant::now();
    let mut reported_at: Option<Instant> = None;
    let ended = loop {
        match lines.recv_timeout(TICK) {
            Ok(line) => on_line(line),
            Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => {}
        }
        if let Ok(Some(status)) = child.try_wait() {
            break Ended::Exited(Some(status));
        }
        let now = Instant::now();
        if (watch.cancelled)() {
            break Ended::Cancelled;
        }
        if now >= watch.deadline {
            break Ended::TimedOut;
        }
        if reported_at.is_none() && (watch.reported)() {
            reported_at = Some(now);
        }
        if reported_at.is_some_and(|at| now >= at + EXIT_GRACE) {
            break Ended::Exited(None);
        }
        if now >= last_measure + TICK {
            last_measure = now;
            let processes = sandbox::processes_of(uid.uid);
            let rss: u64 = processes.iter().map(|p| p.rss_bytes).sum();
            let cpu: u64 = processes.iter().map(|p| p.cpu_ticks).sum();
            if rss > watch.memory_bytes {
                break Ended::OutOfMemory;
            }
            if cpu as f64 > cpu_budget {
                break Ended::CpuExhausted;
            }
        }
        if !watch.sizes.is_empty() && now >= last_size + SIZE_EVERY {
            last_size = now;
            let size: u64 = watch.sizes.iter().map(|d| tree_size(d)).sum();
            if size > watch.max_bytes {
                break Ended::TooLarge;
            }
        }
    };

    sandbox::kill_group(pgid);
    if uid.dedicated() {
        sandbox::kill_uid(uid.uid);
    }
    let status = child.wait().ok();
    let ended = match ended {
        Ended::Exited(None) => Ended::Exited(status),
        other => other,
    };
    let until = Instant::now() + DRAIN;
    loop {
        let left = until.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => on_line(line),
            Err(_) => break,
        }
    }
    ended
}

/// Reads `stream` on a thread of its own, sending its lines; the thread
/// ends at the end of the stream (or when nobody listens any more).
fn read_lines(
    mut stream: impl Read + Send + 'static,
    source: Source,
    max: usize,
    to: SyncSender<Line>,
) {
    std::thread::spawn(move || {
        let mut splitter = LineSplitter::new(max);
        let mut buffer = vec![0u8; 16 * 1024];
        let mut open = true;
        let mut send = |l: SplitLine| {
            if open {
                open = to
                    .send(Line {
                        source,
                        bytes: l.bytes,
                        truncated: l.truncated,
                    })
                    .is_ok();
            }
        };
        loop {
            match stream.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => splitter.push(&buffer[..n], &mut send),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
        splitter.finish(&mut send);
    });
}

/// The bytes of the regular files under `path` (not following symlinks).
pub(crate) fn tree_size(path: &std::path::Path) -> u64 {
    let Ok(metadata) = std::fs::symlink_metadata(path) else {
        return 0;
    };
    if !metadata.is_dir() {
        return metadata.len();
    }
    std::fs::read_dir(path)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| tree_size(&e.path()))
                .sum()
        })
        .unwrap_or(0)
}
