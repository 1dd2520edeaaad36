//! The process sandbox: how a command of a build or an execution is
//! started (bubblewrap, or rlimits and a dropped uid), what it may use,
//! and how all its processes are found, measured and killed.

use crate::files::find_program;
use std::ffi::OsString;
use std::fs::{self, File};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// How executions (and builds) are isolated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Isolation {
    /// bubblewrap: an empty root with read-only binds of the system, the
    /// interpreter, the environment and the code; new pid, network, IPC and
    /// UTS namespaces; a dedicated uid per execution; rlimits.
    Bubblewrap,
    /// No namespaces (except a network namespace where the kernel allows
    /// it): a dedicated uid per execution, a private session, rlimits, and
    /// every process of that uid killed at the end.
    Rlimits,
    /// Nothing but a private session and rlimits, as the worker's own user:
    /// for development on machines where the worker is not root.
    Unisolated,
}

/// A directory or file made visible inside the sandbox.
#[derive(Debug, Clone)]
pub(crate) struct Bind {
    /// Where it is on the machine.
    pub host: PathBuf,
    /// Where the command sees it (bubblewrap only; without it, `host`).
    pub inside: PathBuf,
    /// Whether the command may write to it.
    pub writable: bool,
}

impl Bind {
    /// `host` read-only at the same path.
    pub fn same(host: impl Into<PathBuf>) -> Self {
        let host = host.into();
        Bind {
            inside: host.clone(),
            host,
            writable: false,
        }
    }
}

/// The rlimits of every process of a command (each process on its own;
/// the supervisor adds up the whole tree).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ProcessLimits {
    /// `RLIMIT_AS`, bytes.
    pub address_space: u64,
    /// `RLIMIT_CPU`, seconds (SIGXCPU at it, SIGKILL a second later).
    pub cpu_seconds: u64,
    /// `RLIMIT_NPROC`: processes and threads of the uid.
    pub processes: u64,
    /// `RLIMIT_FSIZE`, bytes.
    pub file_size: u64,
}

/// A command to start in the sandbox.
#[derive(Debug, Clone)]
pub(crate) struct Spec {
    /// The executable (a path the command sees).
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<OsString>,
    /// Its whole environment.
    pub env: Vec<(String, OsString)>,
    /// Its working directory (a path the command sees).
    pub cwd: PathBuf,
    /// What it sees besides the system (bubblewrap only).
    pub binds: Vec<Bind>,
    /// Extra empty directories it sees (bubblewrap only).
    pub dirs: Vec<PathBuf>,
    /// Whether it may use the network.
    pub network: bool,
    /// Its rlimits.
    pub limits: ProcessLimits,
    /// The size of its `/tmp` and `/dev/shm` (bubblewrap only).
    pub tmpfs_bytes: u64,
}

/// System directories bound read-only (or recreated as the host's symlinks).
const SYSTEM_PATHS: &[&str] = &[
    "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
];
/// Files of `/etc` every command sees (none holds a secret).
const ETC_FILES: &[&str] = &["/etc/ld.so.cache", "/etc/localtime"];
/// What name resolution, TLS and pip's site configuration need, for
/// commands with network (builds).
const ETC_NETWORK_PATHS: &[&str] = &[
    "/etc/pip.conf",
    "/etc/xdg/pip",
    "/etc/resolv.conf",
    "/etc/hosts",
    "/etc/nsswitch.conf",
    "/etc/host.conf",
    "/etc/gai.conf",
    "/etc/ssl",
    "/etc/ca-certificates",
    "/etc/pki",
];
/// The fd a command inherits as its control channel.
pub(crate) const CONTROL_FD: RawFd = 3;

/// The sandbox of a runtime: its mode and its tools.
#[derive(Debug, Clone)]
pub(crate) struct Sandbox {
    /// The mode.
    pub isolation: Isolation,
    /// Whether commands without network really have none.
    pub network_isolated: bool,
    bwrap: PathBuf,
    setpriv: PathBuf,
}

impl Sandbox {
    /// A sandbox of `isolation` (unchecked: [`Sandbox::probe`] checks).
    pub fn new(isolation: Isolation) -> Self {
        Sandbox {
            isolation,
            network_isolated: matches!(isolation, Isolation::Bubblewrap | Isolation::Rlimits),
            bwrap: find_program("bwrap").unwrap_or_else(|| "/usr/bin/bwrap".into()),
            setpriv: find_program("setpriv").unwrap_or_else(|| "/usr/bin/setpriv".into()),
        }
    }

    /// Whether commands run as a uid of their own.
    pub fn drops_uid(&self) -> bool {
        self.isolation != Isolation::Unisolated
    }

    /// Starts `spec` as `uid` (ignored when unisolated), with stdout and
    /// stderr piped and `control` (if any) as fd 3. The child leads a new
    /// session, so its process group is its pid.
    pub fn spawn(&self, spec: &Spec, uid: u32, control: Option<&OwnedFd>) -> io::Result<Child> {
        let mut command = match self.isolation {
            Isolation::Bubblewrap => self.bwrap_command(spec, uid),
            Isolation::Rlimits | Isolation::Unisolated => {
                let mut c = Command::new(&spec.program);
                c.args(&spec.args).current_dir(&spec.cwd);
                c
            }
        };
        command
            .env_clear()
            .envs(spec.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let setup = ChildSetup {
            limits: spec.limits,
            control: control.map(|fd| fd.as_raw_fd()),
            // bubblewrap (as root) drops the uid itself, through setpriv.
            uid: (self.isolation == Isolation::Rlimits).then_some(uid),
            unshare_network: self.isolation == Isolation::Rlimits
                && !spec.network
                && self.network_isolated,
        };
        // SAFETY: the closure only makes system calls (no allocation, no
        // locks), as code between fork and exec must.
        unsafe {
            command.pre_exec(move || setup.apply());
        }
        command.spawn()
    }

    fn bwrap_command(&self, spec: &Spec, uid: u32) -> Command {
        let mut c = Command::new(&self.bwrap);
        let arg = |c: &mut Command, items: &[&std::ffi::OsStr]| {
            c.args(items);
        };
        c.args([
            "--die-with-parent",
            "--new-session",
            "--unshare-pid",
            "--unshare-ipc",
            "--unshare-uts",
            "--unshare-cgroup-try",
        ]);
        if !spec.network {
            c.arg("--unshare-net");
        }
        // Run as root without a user namespace, so the command gets a real
        // unprivileged uid of the machine (a user namespace would map it to
        // root outside); setpriv drops to it with these two capabilities.
        c.args(["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]);
        for path in SYSTEM_PATHS {
            let path = Path::new(path);
            match fs::symlink_metadata(path) {
                Ok(m) if m.file_type().is_symlink() => {
                    if let Ok(target) = fs::read_link(path) {
                        arg(
                            &mut c,
                            &["--symlink".as_ref(), target.as_os_str(), path.as_os_str()],
                        );
                    }
                }
                Ok(m) if m.is_dir() => {
                    arg(
                        &mut c,
                        &["--ro-bind".as_ref(), path.as_os_str(), path.as_os_str()],
                    );
                }
                _ => {}
            }
        }
        c.args(["--proc", "/proc", "--dev", "/dev"]);
        let size = spec.tmpfs_bytes.max(1 << 20).to_string();
        for tmp in ["/tmp", "/dev/shm"] {
            c.args(["--perms", "1777", "--size", &size, "--tmpfs", tmp]);
        }
        let etc: Vec<&Path> = ETC_FILES
            .iter()
            .chain(if spec.network { ETC_NETWORK_PATHS } else { &[] })
            .map(Path::new)
            .collect();
        // bubblewrap makes missing parents of a mount point mode 0700,
        // which the sandbox user could not pass: make them 0755 first.
        let mut parents: Vec<&Path> = etc
            .iter()
            .copied()
            .chain(spec.binds.iter().map(|b| b.inside.as_path()))
            .chain(spec.dirs.iter().map(PathBuf::as_path))
            .flat_map(Path::ancestors)
            .filter(|p| p.parent().is_some())
            .filter(|p| !SYSTEM_PATHS.iter().any(|s| p.starts_with(s)))
            .collect();
        parents.sort();
        parents.dedup();
        let destinations: Vec<&Path> = spec
            .binds
            .iter()
            .map(|b| b.inside.as_path())
            .chain(etc.iter().copied())
            .collect();
        for dir in parents.iter().filter(|p| !destinations.contains(p)) {
            arg(
                &mut c,
                &[
                    "--perms".as_ref(),
                    "0755".as_ref(),
                    "--dir".as_ref(),
                    dir.as_os_str(),
                ],
            );
        }
        for path in etc {
            arg(
                &mut c,
                &["--ro-bind-try".as_ref(), path.as_os_str(), path.as_os_str()],
            );
        }
        for bind in &spec.binds {
            let kind = if bind.writable { "--bind" } else { "--ro-bind" };
            arg(
                &mut c,
                &[
                    kind.as_ref(),
                    bind.host.as_os_str(),
                    bind.inside.as_os_str(),
                ],
            );
        }
        arg(
            &mut c,
            &["--chdir".as_ref(), spec.cwd.as_os_str(), "--".as_ref()],
        );
        c.arg(&self.setpriv).args([
            format!("--reuid={uid}"),
            format!("--regid={uid}"),
            "--clear-groups".into(),
            "--inh-caps=-all".into(),
            "--bounding-set=-all".into(),
            "--no-new-privs".into(),
            "--".into(),
        ]);
        c.arg(&spec.program).args(&spec.args);
        c
    }
}

/// What the child does between fork and exec (system calls only).
#[derive(Debug, Clone, Copy)]
struct ChildSetup {
    limits: ProcessLimits,
    control: Option<RawFd>,
    uid: Option<u32>,
    unshare_network: bool,
}

impl ChildSetup {
    fn apply(&self) -> io::Result<()> {
        // SAFETY: plain system calls on values owned by this process.
        unsafe {
            check(libc::setsid())?;
            if let Some(fd) = self.control {
                if fd != CONTROL_FD {
                    check(libc::dup2(fd, CONTROL_FD))?;
                }
                // dup2 leaves the copy inheritable, but a dup2 onto itself
                // keeps close-on-exec: clear it either way.
                check(libc::fcntl(CONTROL_FD, libc::F_SETFD, 0))?;
            }
            set_limit(libc::RLIMIT_AS, self.limits.address_space)?;
            set_limit(libc::RLIMIT_CPU, self.limits.cpu_seconds)?;
            set_limit(libc::RLIMIT_FSIZE, self.limits.file_size)?;
            set_limit(libc::RLIMIT_NPROC, self.limits.processes)?;
            set_limit(libc::RLIMIT_CORE, 0)?;
            if self.unshare_network {
                check(libc::unshare(libc::CLONE_NEWNET))?;
            }
            if let Some(uid) = self.uid {
                drop_to(uid)?;
                check(libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))?;
                // A change of uid clears the parent-death signal: set it after.
                check(libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0))?;
            }
        }
        Ok(())
    }
}

/// Sets a soft and hard rlimit (the CPU one with a second of grace between
/// SIGXCPU and SIGKILL).
unsafe fn set_limit(resource: libc::__rlimit_resource_t, value: u64) -> io::Result<()> {
    let hard = if resource == libc::RLIMIT_CPU {
        value.saturating_add(1)
    } else {
        value
    };
    let limit = libc::rlimit {
        rlim_cur: value as libc::rlim_t,
        rlim_max: hard as libc::rlim_t,
    };
    check(libc::setrlimit(resource, &limit))
}

/// Becomes `uid` (and the group of the same number), with no supplementary
/// groups, through raw system calls (safe after fork in a threaded process).
unsafe fn drop_to(uid: u32) -> io::Result<()> {
    check(libc::syscall(libc::SYS_setgroups, 0, std::ptr::null::<libc::gid_t>()) as i32)?;
    check(libc::syscall(libc::SYS_setresgid, uid, uid, uid) as i32)?;
    check(libc::syscall(libc::SYS_setresuid, uid, uid, uid) as i32)
}

fn check(result: i32) -> io::Result<()> {
    if result < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// A pipe whose ends close on exec (the child gets the write end as fd 3).
pub(crate) fn control_pipe() -> io::Result<(File, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills both fds on success; each is owned exactly once.
    unsafe {
        check(libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC))?;
        Ok((File::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])))
    }
}

/// Kills the process group `pgid` (the command's session leader and what
/// stayed in its group).
pub(crate) fn kill_group(pgid: u32) {
    // SAFETY: kill has no memory effects.
    unsafe {
        libc::kill(-(pgid as libc::pid_t), libc::SIGKILL);
    }
}

/// Kills every process of `uid` (which only one command uses at a time),
/// until none is left: a forked child that left the session dies too.
pub(crate) fn kill_uid(uid: u32) {
    for _ in 0..200 {
        if processes_of(uid).is_empty() {
            return;
        }
        kill_as(uid);
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// `kill(-1, SIGKILL)` from a child that is `uid`: the kernel sends it to
/// every process of that uid, atomically, however fast they fork.
fn kill_as(uid: u32) {
    // SAFETY: the child makes system calls only and ends with _exit.
    unsafe {
        let pid = libc::fork();
        if pid == 0 {
            if drop_to(uid).is_ok() {
                libc::kill(-1, libc::SIGKILL);
            }
            libc::_exit(0);
        }
        if pid > 0 {
            let mut status = 0;
            libc::waitpid(pid, &mut status, 0);
        }
    }
}

/// One live process of a uid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ProcessUsage {
    /// Its resident memory, bytes.
    pub rss_bytes: u64,
    /// Its CPU time and that of its reaped children, clock ticks.
    pub cpu_ticks: u64,
}

/// The live (not zombie) processes whose real uid is `uid`.
pub(crate) fn processes_of(uid: u32) -> Vec<ProcessUsage> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    let page = page_size();
    entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().as_bytes().iter().all(u8::is_ascii_digit))
        .filter_map(|e| {
            let dir = e.path();
            let status = fs::read_to_string(dir.join("status")).ok()?;
            let real_uid: u32 = status
                .lines()
                .find_map(|l| l.strip_prefix("Uid:"))?
                .split_whitespace()
                .next()?
                .parse()
                .ok()?;
            if real_uid != uid {
                return None;
            }
            let stat = fs::read_to_string(dir.join("stat")).ok()?;
            // Fields after the command name, which may hold spaces and ')'.
            let fields: Vec<&str> = stat[stat.rfind(')')? + 1..].split_whitespace().collect();
            if fields.first() == Some(&"Z") || fields.first() == Some(&"X") {
                return None;
            }
            let number = |i: usize| {
                fields
                    .get(i)
                    .and_then(|f| f.parse::<u64>().ok())
                    .unwrap_or(0)
            };
            // After ')': state(0) ... utime(11) stime(12) cutime(13) cstime(14) ... rss(21).
            Some(ProcessUsage {
                rss_bytes: number(21) * page,
                cpu_ticks: number(11) + number(12) + number(13) + number(14),
            })
        })
        .collect()
}

fn page_size() -> u64 {
    // SAFETY: sysconf has no memory effects.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if size > 0 {
        size as u64
    } else {
        4096
    }
}

/// Clock ticks per second, the unit of [`ProcessUsage::cpu_ticks`].
pub(crate) fn ticks_per_second() -> u64 {
    // SAFETY: sysconf has no memory effects.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 {
        ticks as u64
    } else {
        100
    }
}

/// Whether this process runs as root.
pub(crate) fn is_root() -> bool {
    // SAFETY: geteuid has no memory effects.
    unsafe { libc::geteuid() == 0 }
}

/// The uids commands run as: each held by one command at a time, across
/// processes (an exclusive `flock` on a file per uid).
#[derive(Debug)]
pub(crate) struct UidPool {
    dir: PathBuf,
    first: u32,
    count: u32,
    next: AtomicU32,
}

/// A uid held until dropped; its processes are killed when it is taken
/// and when it is given back.
#[derive(Debug)]
pub(crate) struct HeldUid {
    /// The uid (and gid).
    pub uid: u32,
    lock: Option<File>,
}

impl HeldUid {
    /// Whether the uid is the command's own (not this process's).
    pub fn dedicated(&self) -> bool {
        self.lock.is_some()
    }
}

impl UidPool {
    /// The pool `first..first + count`, with its lock files in `dir`.
    pub fn new(dir: PathBuf, first: u32, count: u32) -> Self {
        let start = std::process::id() % count.max(1);
        UidPool {
            dir,
            first,
            count: count.max(1),
            next: AtomicU32::new(start),
        }
    }

    /// A free uid (or, unisolated, this process's own uid, not held).
    pub fn take(&self, sandbox: &Sandbox) -> io::Result<HeldUid> {
        if !sandbox.drops_uid() {
            // SAFETY: getuid has no memory effects.
            let uid = unsafe { libc::getuid() };
            return Ok(HeldUid { uid, lock: None });
        }
        fs::create_dir_all(&self.dir)?;
        fs::set_permissions(&self.dir, fs::Permissions::from_mode(0o700))?;
        for _ in 0..self.count {
            let offset = self.next.fetch_add(1, Ordering::Relaxed) % self.count;
            let uid = self.first + offset;
            let file = File::options()
                .create(true)
                .truncate(false)
                .write(true)
                .open(self.dir.join(format!("{uid}.lock")))?;
            // SAFETY: flock on a file this process owns.
            if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
                // Whatever a crashed holder left behind goes first.
                kill_uid(uid);
                return Ok(HeldUid {
                    uid,
                    lock: Some(file),
                });
            }
        }
        Err(io::Error::other(format!(
            "all {} sandbox uids from {} are in use",
            self.count, self.first
        )))
    }
}

impl Drop for HeldUid {
    fn drop(&mut self) {
        if self.dedicated() {
            kill_uid(self.uid);
        }
    }
}

/// Gives `path` and everything under it to `uid` (not following symlinks).
pub(crate) fn chown_tree(path: &Path, uid: u32) -> io::Result<()> {
    std::os::unix::fs::lchown(path, Some(uid), Some(uid))?;
    let metadata = fs::symlink_metadata(path)?;
    if metadata.is_dir() {
        for entry in fs::read_dir(path)? {
            chown_tree(&entry?.path(), uid)?;
        }
    }
    Ok(())
}

/// Makes `path` and everything under it readable by all and writable by
/// none but the owner, without set-id bits (not following symlinks).
pub(crate) fn publish_tree(path: &Path) -> io::Result<()> {
    let metadata = fs::symlink_metadata(path)?;
    if metadata.file_type().is_symlink() {
        return Ok(());
    }
    let mode = metadata.mode() & 0o777;
    let wanted = if metadata.is_dir() || mode & 0o100 != 0 {
        (mode | 0o555) & 0o755
    } else {
        (mode | 0o444) & 0o644
    };
    fs::set_permissions(path, fs::Permissions::from_mode(wanted))?;
    if metadata.is_dir() {
        for entry in fs::read_dir(path)? {
            publish_tree(&entry?.path())?;
        }
    }
    Ok(())
}
