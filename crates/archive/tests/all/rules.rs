//! One case per rule: the archive, and the exact messages it earns.

use std::io::{self, Cursor, Read, Seek, SeekFrom};

use qmarket_archive::{validate, Error, Limits, Runtime, State, MAX_MESSAGES};

use crate::support::*;

const PYTHON: Runtime = Runtime::PythonTemplate;
const MIB: usize = 1 << 20;

/// One `#[test]` per case: `name: runtime, upload => STATE [messages];`.
macro_rules! rules {
    ($($name:ident: $runtime:expr, $upload:expr => $state:ident [$($message:expr),* $(,)?];)*) => {
        $(
            #[test]
            fn $name() {
                let validation = check($runtime, $upload);
                assert_verdict(&validation, State::$state, &[$($message),*]);
            }
        )*
    };
}

rules! {
    a_python_project_zipped_from_inside_is_valid:
        PYTHON, python_project().bytes() => Success [];
    a_folder_zipped_archive_says_to_zip_its_contents:
        PYTHON, folder_zipped() => Error [
            "the archive holds the folder 'myproject/' with the project inside; zip its contents instead: cd myproject && zip -r planqk.zip src environment.yml requirements.txt",
        ];
    macos_metadata_does_not_hide_a_folder_zipped_archive:
        PYTHON, folder_zipped_on_a_mac() => Error [
            "the archive holds the folder 'my project/' with the project inside; zip its contents instead: cd 'my project' && zip -r planqk.zip src requirements.txt",
            "the archive holds macOS metadata (__MACOSX/, .DS_Store: 2 entries); it is ignored",
        ];
    a_dot_dot_entry_is_refused:
        PYTHON, with_hostile_name(b"../x") => Error ["entry '../x' has a '..' path component"];
    a_dot_dot_inside_a_path_is_refused:
        PYTHON, with_hostile_name(b"a/../../x") => Error ["entry 'a/../../x' has a '..' path component"];
    an_absolute_entry_is_refused:
        PYTHON, with_hostile_name(b"/etc/x") => Error ["entry '/etc/x' has an absolute path"];
    a_drive_letter_entry_is_refused:
        PYTHON, with_hostile_name(b"C:\\x") => Error ["entry 'C:\\x' starts with a drive letter"];
    a_backslash_entry_is_refused:
        PYTHON, with_hostile_name(b"a\\b") => Error [
            "entry 'a\\b' has a backslash in its name; folders are separated by '/'",
        ];
    a_nul_in_a_name_is_refused:
        PYTHON, with_hostile_name(b"a\0b") => Error [
            "entry 'a\\0b' has a NUL or control character in its name",
        ];
    an_empty_name_is_refused:
        PYTHON, with_empty_name() => Error ["entry #5 has an empty name"];
    a_symlink_entry_is_refused:
        PYTHON, python_project().symlink("link", "/etc/passwd").bytes() => Error [
            "entry 'link' is a symbolic link",
        ];
    a_bomb_whose_declared_size_lies_in_both_headers_is_stopped:
        PYTHON, declare_size(with_zeros(MIB), "bomb.bin", 100) => Error [
            "entry 'bomb.bin' unpacks to more than the 100 bytes it declares",
        ];
    a_bomb_whose_central_directory_lies_is_caught_by_both_rules:
        PYTHON, central_size_lies(with_zeros(MIB), "bomb.bin", 100) => Error [
            "entry 'bomb.bin' declares an uncompressed size of 100 bytes in the central directory but 1,048,576 bytes in its local header",
            "entry 'bomb.bin' unpacks to more than the 100 bytes it declares",
        ];
    an_entry_shorter_than_it_declares_is_refused:
        PYTHON, declare_size(python_project().file("x.txt", b"hello").bytes(), "x.txt", 10) => Error [
            "entry 'x.txt' unpacks to 5 bytes but declares 10",
        ];
    a_damaged_entry_is_refused:
        PYTHON, damaged_crc() => Error ["entry 'x.txt' is damaged: its CRC-32 does not match its data"];
    too_many_entries_are_refused:
        PYTHON, with_empty_files(10_001 - 4) => Error [
            "the archive holds 10,001 entries; at most 10,000 are allowed",
        ];
    ten_thousand_entries_are_allowed:
        PYTHON, with_empty_files(10_000 - 4) => Success [];
    a_program_without_run_is_refused:
        PYTHON, with_program(b"def main(data, params):\n    return {}\n\nclass A:\n    def run(self):\n        pass\n") => Error [
            "src/program.py defines no top-level run function (def run(data, params) or async def run(...))",
        ];
    an_async_run_is_a_run:
        PYTHON, with_program(b"# entry point\nasync def run(data, params):\n    return {}\n") => Success [];
    a_program_that_is_not_utf8_is_refused:
        PYTHON, with_program(b"# caf\xe9\ndef run(data, params):\n    return {}\n") => Error [
            "src/program.py is not valid UTF-8 (at byte 5)",
        ];
    a_missing_program_is_refused:
        PYTHON, Zip::new().file("program.py", PROGRAM).file("requirements.txt", REQUIREMENTS).bytes() => Error [
            "the root holds no src/program.py",
        ];
    a_project_without_dependency_files_is_refused:
        PYTHON, Zip::new().file("src/program.py", PROGRAM).bytes() => Error [
            "the root holds neither environment.yml nor requirements.txt",
        ];
    an_environment_without_requirements_is_a_warning:
        PYTHON, Zip::new().file("src/program.py", PROGRAM).file("environment.yml", ENVIRONMENT).bytes() => Warning [
            "environment.yml without requirements.txt: the dependencies are read from its pip: section; conda packages outside it are not installed",
        ];
    bytes_that_are_not_a_zip_are_refused:
        PYTHON, b"PK but not really a zip archive".to_vec() => Error [
            "the upload is not a ZIP archive, or it is truncated: it does not end with a ZIP end-of-central-directory record",
        ];
    an_empty_upload_is_refused:
        Runtime::Docker, Vec::new() => Error [
            "the upload is not a ZIP archive, or it is truncated: it does not end with a ZIP end-of-central-directory record",
        ];
    a_truncated_zip_is_refused:
        PYTHON, truncated() => Error [
            "the upload is not a ZIP archive, or it is truncated: it does not end with a ZIP end-of-central-directory record",
        ];
    a_damaged_central_directory_is_refused:
        PYTHON, damaged_central_directory() => Error [
            "the upload is not a readable ZIP archive: its central directory is damaged or truncated",
        ];
    a_wasm_component_is_valid:
        Runtime::Wasm, Zip::new().file("program.wasm", b"\0asm\x0d\0\x01\0rest").bytes() => Success [];
    a_wasm_core_module_is_refused:
        Runtime::Wasm, Zip::new().file("program.wasm", b"\0asm\x01\0\0\0rest").bytes() => Error [
            "program.wasm is a core WebAssembly module; a WASI 0.2 command component is needed (build it for wasm32-wasip2)",
        ];
    a_wasm_file_that_is_no_webassembly_is_refused:
        Runtime::Wasm, Zip::new().file("program.wasm", b"#!/bin/sh\n").bytes() => Error [
            "program.wasm is not a WebAssembly binary (it does not start with \\0asm)",
        ];
    a_wasm_archive_without_program_wasm_is_refused:
        Runtime::Wasm, Zip::new().file("main.wasm", b"\0asm\x0d\0\x01\0").bytes() => Error [
            "the root holds no program.wasm",
        ];
    a_docker_archive_with_a_dockerfile_is_valid:
        Runtime::Docker, Zip::new().file("Dockerfile", b"FROM python:3.12\n").bytes() => Success [];
    a_docker_archive_without_a_dockerfile_is_refused:
        Runtime::Docker, Zip::new().file("docker/Dockerfile", b"FROM python:3.12\n").file("app.py", b"").bytes() => Error [
            "the root holds no Dockerfile",
        ];
    a_dockerfile_zipped_in_its_folder_says_to_zip_its_contents:
        Runtime::Docker, Zip::new().file("app/Dockerfile", b"FROM x\n").file("app/main.py", b"").bytes() => Error [
            "the archive holds the folder 'app/' with the project inside; zip its contents instead: cd app && zip -r planqk.zip Dockerfile main.py",
        ];
    an_unsupported_compression_method_is_refused:
        PYTHON, with_method(12) => Error [
            "entry 'x.txt' uses compression method 12; only stored (0) and deflate (8) are supported",
        ];
    an_encrypted_entry_is_refused:
        PYTHON, encrypted() => Error ["entry 'x.txt' is encrypted"];
    a_local_header_that_disagrees_on_the_method_is_refused:
        PYTHON, local_method_differs() => Error [
            "entry 'x.txt' uses compression method 0 in the central directory but 8 in its local header",
        ];
    entries_sharing_their_data_are_refused:
        PYTHON, overlapping() => Error ["entries 'a.txt' and 'b.txt' overlap in the archive"];
    a_name_listed_twice_is_refused:
        PYTHON, rename(python_project().file("a1", b"one").file("a2", b"two").bytes(), "a2", b"a1") => Error [
            "the archive lists an entry name more than once",
        ];
    two_names_for_one_path_are_refused:
        PYTHON, python_project().file("x.txt", b"1").file("./x.txt", b"2").bytes() => Error [
            "entry './x.txt' unpacks to the same path as 'x.txt'",
        ];
    a_file_under_a_file_is_refused:
        PYTHON, python_project().file("a", b"1").file("a/b", b"2").bytes() => Error [
            "entry 'a/b' lies under 'a', which is a file",
        ];
    every_broken_rule_of_one_archive_is_listed:
        PYTHON, everything_wrong() => Error [
            "entry '../x' has a '..' path component",
            "entry 'link' is a symbolic link",
            "src/program.py defines no top-level run function (def run(data, params) or async def run(...))",
            "the root holds neither environment.yml nor requirements.txt",
        ];
}

fn folder_zipped_on_a_mac() -> Vec<u8> {
    Zip::new()
        .file("my project/src/program.py", PROGRAM)
        .file("my project/requirements.txt", REQUIREMENTS)
        .file("my project/.DS_Store", b"\0\0\0\x01Bud1")
        .file("__MACOSX/my project/._requirements.txt", b"\0\x05\x16\x07")
        .bytes()
}

fn with_empty_name() -> Vec<u8> {
    // A one-letter name cut out of both headers (the last entry's, so only
    // the end record's offsets move).
    let mut bytes = python_project().stored("Q", b"").bytes();
    let h = headers(&bytes, "Q");
    set_u16(&mut bytes, h.central + 28, 0);
    bytes.remove(h.central + 46);
    set_u16(&mut bytes, h.local + 26, 0);
    bytes.remove(h.local + 30);
    let end = bytes.len() - 22;
    let (size, start) = (u32_at(&bytes, end + 12), u32_at(&bytes, end + 16));
    set_u32(&mut bytes, end + 12, size - 1);
    set_u32(&mut bytes, end + 16, start - 1);
    bytes
}

fn damaged_crc() -> Vec<u8> {
    let mut bytes = python_project().file("x.txt", b"hello").bytes();
    let h = headers(&bytes, "x.txt");
    let crc = u32_at(&bytes, h.central + CENTRAL_CRC) ^ 1;
    set_u32(&mut bytes, h.local + LOCAL_CRC, crc);
    set_u32(&mut bytes, h.central + CENTRAL_CRC, crc);
    bytes
}

fn truncated() -> Vec<u8> {
    let mut bytes = python_project().bytes();
    bytes.truncate(bytes.len() / 2);
    bytes
}

fn damaged_central_directory() -> Vec<u8> {
    let mut bytes = python_project().bytes();
    let central = headers(&bytes, "src/program.py").central;
    bytes[central..central + 4].copy_from_slice(b"XXXX");
    bytes
}

fn with_method(method: u16) -> Vec<u8> {
    let mut bytes = python_project().stored("x.txt", b"hello").bytes();
    let h = headers(&bytes, "x.txt");
    set_u16(&mut bytes, h.local + LOCAL_METHOD, method);
    set_u16(&mut bytes, h.central + CENTRAL_METHOD, method);
    bytes
}

fn encrypted() -> Vec<u8> {
    let mut bytes = python_project().stored("x.txt", b"hello").bytes();
    let h = headers(&bytes, "x.txt");
    set_u16(&mut bytes, h.local + LOCAL_FLAGS, 1);
    set_u16(&mut bytes, h.central + CENTRAL_FLAGS, 1);
    bytes
}

fn local_method_differs() -> Vec<u8> {
    let mut bytes = python_project().stored("x.txt", b"hello").bytes();
    let local = headers(&bytes, "x.txt").local;
    set_u16(&mut bytes, local + LOCAL_METHOD, 8);
    bytes
}

/// `b.txt`'s directory entry points at `a.txt`'s data: the trick that
/// lets a few kilobytes stand for many entries' worth of output.
fn overlapping() -> Vec<u8> {
    let mut bytes = python_project()
        .file("a.txt", b"same")
        .file("b.txt", b"same")
        .bytes();
    let a = headers(&bytes, "a.txt");
    let b = headers(&bytes, "b.txt");
    set_u32(&mut bytes, b.central + CENTRAL_LOCAL_OFFSET, a.local as u32);
    bytes
}

fn everything_wrong() -> Vec<u8> {
    let bytes = Zip::new()
        .file("src/program.py", b"print('no run')\n")
        .file("QQQQ", b"x")
        .symlink("link", "/etc/passwd")
        .bytes();
    rename(bytes, "QQQQ", b"../x")
}

#[test]
fn an_entry_with_an_absurd_compression_ratio_is_refused_without_being_unpacked() {
    let bytes = python_project()
        .file("zeros.bin", &vec![0; 16 * MIB])
        .bytes();
    let packed = u32_at(
        &bytes,
        headers(&bytes, "zeros.bin").central + CENTRAL_COMPRESSED,
    );
    let ratio = 16 * MIB as u64 / u64::from(packed);
    assert!(
        ratio > 1000,
        "deflate packs zeros about 1030:1, got {ratio}:1"
    );
    let validation = check(PYTHON, bytes);
    assert_verdict(
        &validation,
        State::Error,
        &[&format!(
            "entry 'zeros.bin' declares a compression ratio of {ratio}:1 (16 MiB packed into {:.1} KiB); at most 1000:1 is allowed for entries over 1 MiB",
            f64::from(packed) / 1024.0
        )],
    );
}

#[test]
fn a_ratio_at_the_limit_or_a_small_entry_is_fine() {
    // 1 MiB of zeros packs about as well, but is not over 1 MiB.
    assert_verdict(&check(PYTHON, with_zeros(MIB)), State::Success, &[]);
    // Random-looking data barely packs at all.
    let noise: Vec<u8> = (0..4 * MIB as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let bytes = python_project().file("noise.bin", &noise).bytes();
    assert_verdict(&check(PYTHON, bytes), State::Success, &[]);
}

#[test]
fn an_archive_that_unpacks_past_the_limit_is_refused() {
    let limits = Limits {
        max_unpacked: 1000,
        ..Limits::PLATFORM
    };
    let bytes = Zip::new()
        .file("src/program.py", PROGRAM)
        .file("requirements.txt", REQUIREMENTS)
        .file("a.bin", &[1; 600])
        .file("b.bin", &[2; 600])
        .bytes();
    let unpacked = PROGRAM.len() + REQUIREMENTS.len() + 1200;
    assert_verdict(
        &check_with(PYTHON, bytes, &limits),
        State::Error,
        &[&format!(
            "the archive unpacks to {:.1} KiB; at most 1000 bytes are allowed",
            unpacked as f64 / 1024.0
        )],
    );
}

#[test]
fn the_platform_limits_are_the_contracts() {
    assert_eq!(Limits::default(), Limits::PLATFORM);
    assert_eq!(Limits::PLATFORM.max_entries, 10_000);
    assert_eq!(Limits::PLATFORM.max_unpacked, 500 * 1024 * 1024);
    assert_eq!(Limits::PLATFORM.max_ratio, 1000);
    assert_eq!(Limits::PLATFORM.ratio_above, 1024 * 1024);
}

#[test]
fn a_valid_archive_is_summed_up_and_serializes_as_the_contract_says() {
    let validation = check(PYTHON, python_project().bytes());
    let unpacked = PROGRAM.len() + ENVIRONMENT.len() + REQUIREMENTS.len();
    assert_eq!(
        validation.summary,
        format!("the archive is valid: 4 entries, {unpacked} bytes unpacked")
    );
    let refused = check(PYTHON, b"nope".to_vec());
    assert_eq!(
        serde_json::to_value(&refused).unwrap(),
        serde_json::json!({
            "state": "ERROR",
            "summary": "the archive is refused: 1 error",
            "messages": ["the upload is not a ZIP archive, or it is truncated: it does not end with a ZIP end-of-central-directory record"],
        })
    );
}

#[test]
fn messages_name_their_entry_and_severity() {
    let v = check(
        PYTHON,
        Zip::new()
            .file("src/program.py", PROGRAM)
            .file("environment.yml", b"")
            .symlink("l", "x")
            .bytes(),
    );
    let kinds: Vec<_> = v
        .messages
        .iter()
        .map(|m| (m.severity, m.entry.as_deref()))
        .collect();
    use qmarket_archive::Severity::*;
    assert_eq!(
        kinds,
        [(Error, Some("l")), (Warning, Some("environment.yml"))]
    );
}

#[test]
fn a_flood_of_bad_entries_is_cut_to_a_readable_list() {
    let bytes = (0..150)
        .fold(python_project(), |zip, i| {
            zip.symlink(&format!("l{i}"), "x")
        })
        .bytes();
    let v = check(PYTHON, bytes);
    assert_eq!(v.messages.len(), MAX_MESSAGES + 1);
    assert_eq!(v.messages[MAX_MESSAGES].text, "… and 50 more messages");
    assert_eq!(v.summary, "the archive is refused: 150 errors");
}

#[test]
fn a_long_hostile_name_is_cut_in_its_message() {
    let name = format!("../{}", "a".repeat(300));
    let v = check(PYTHON, with_hostile_name(name.as_bytes()));
    assert_eq!(
        v.texts(),
        [format!(
            "entry '../{}…' has a '..' path component",
            "a".repeat(97)
        )]
    );
}

/// A reader over an upload whose store fails after `ok` reads.
struct FailingStore {
    upload: Cursor<Vec<u8>>,
    ok: usize,
}

impl Read for FailingStore {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.ok == 0 {
            return Err(io::Error::other("store unavailable"));
        }
        self.ok -= 1;
        self.upload.read(buf)
    }
}

impl Seek for FailingStore {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.upload.seek(pos)
    }
}

#[test]
fn a_failing_store_is_an_error_not_a_broken_archive() {
    let upload = python_project().file("big.bin", &vec![7; 300_000]).bytes();
    for ok in [0, 1, 3, 8] {
        let store = FailingStore {
            upload: Cursor::new(upload.clone()),
            ok,
        };
        match validate(store, PYTHON) {
            Err(Error::Read(e)) => assert_eq!(e.to_string(), "store unavailable"),
            other => panic!("after {ok} reads: {other:?}"),
        }
    }
}

/// A reader that counts the bytes it hands out from one range.
struct Metered {
    upload: Cursor<Vec<u8>>,
    range: std::ops::Range<u64>,
    read: u64,
}

impl Read for Metered {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let start = self.upload.position();
        let n = self.upload.read(buf)?;
        let end = start + n as u64;
        self.read += end
            .min(self.range.end)
            .saturating_sub(start.max(self.range.start));
        Ok(n)
    }
}

impl Seek for Metered {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.upload.seek(pos)
    }
}

#[test]
fn a_lying_bomb_costs_one_buffer_of_reading() {
    // 128 MiB of zeros (about 128 KiB packed) declared as 100 bytes: one
    // 32 KiB buffer of the packed data is read, never the rest. (The filler
    // keeps the bomb out of the 64 KiB tail read for the end record.)
    let upload = python_project()
        .file("bomb.bin", &vec![0; 128 * MIB])
        .stored("filler.bin", &[7; 70_000])
        .bytes();
    let upload = declare_size(upload, "bomb.bin", 100);
    let h = headers(&upload, "bomb.bin");
    let packed = u64::from(u32_at(&upload, h.central + CENTRAL_COMPRESSED));
    let start = h.local as u64 + 30 + "bomb.bin".len() as u64;
    let mut reader = Metered {
        upload: Cursor::new(upload),
        range: start..start + packed,
        read: 0,
    };
    let v = validate(&mut reader, PYTHON).unwrap();
    assert_eq!(
        v.texts(),
        ["entry 'bomb.bin' unpacks to more than the 100 bytes it declares"]
    );
    assert!(
        reader.read <= 32 * 1024,
        "read {} of {packed} packed bytes",
        reader.read
    );
}

#[test]
fn a_streamed_archive_with_data_descriptors_is_valid() {
    // What a writer that cannot seek back makes: zeros in the local headers,
    // the sizes after the data and in the central directory.
    let mut zip = zip::ZipWriter::new_stream(Vec::new());
    for (name, data) in [
        ("src/program.py", PROGRAM),
        ("requirements.txt", REQUIREMENTS),
    ] {
        zip.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        io::Write::write_all(&mut zip, data).unwrap();
    }
    let bytes = zip.finish().unwrap().into_inner();
    let local = headers(&bytes, "src/program.py").local;
    assert_ne!(
        u32_at(&bytes, local + LOCAL_FLAGS) & 8,
        0,
        "a data descriptor follows"
    );
    assert_verdict(&check(PYTHON, bytes), State::Success, &[]);
}

#[test]
fn a_zip64_entry_is_read_like_any_other() {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let large = zip::write::SimpleFileOptions::default().large_file(true);
    for (name, data) in [
        ("src/program.py", PROGRAM),
        ("requirements.txt", REQUIREMENTS),
    ] {
        zip.start_file(name, large).unwrap();
        io::Write::write_all(&mut zip, data).unwrap();
    }
    let bytes = zip.finish().unwrap().into_inner();
    let local = headers(&bytes, "src/program.py").local;
    assert_eq!(
        u32_at(&bytes, local + LOCAL_SIZE),
        u32::MAX,
        "sizes in the ZIP64 field"
    );
    assert_verdict(&check(PYTHON, bytes), State::Success, &[]);
}
