//! The textbook's C programs (c/textbook/, kept exactly as printed) and the Rust examples
//! (crates/*/examples/, their line-by-line ports), started the way a student starts them,
//! but each on this test's own key and port.
//!
//! Both hard-code System V key 1234 and TCP port 9734. [`remapped`] loads the LD_PRELOAD shim
//! c/textbook/remap.c, which moves exactly those two to the test's own values inside
//! msgget/semget/shmget and bind/connect, so that tests run in parallel without editing a
//! line of the programs.
//!
//! The tutorial's FIFO programs hard-code the path /tmp/my_fifo: [`remapped_fifo`] moves it to
//! the test's own path the same way, inside mkfifo/open/access/unlink.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// c/textbook/ in this repository.
fn textbook_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../c/textbook")
}

/// Builds c/textbook once per test run (`make -C c/textbook`) and returns the path of one of
/// its programs (`msg1`, `shm2`, ...); `None` (and a note) without a C compiler, so the test
/// is skipped rather than failed on such a machine.
pub fn textbook_program(name: &str) -> Option<PathBuf> {
    static BUILT: OnceLock<bool> = OnceLock::new();
    let built = *BUILT.get_or_init(|| {
        if !crate::has_c_compiler() {
            return false;
        }
        let out = Command::new("make")
            .arg("-s")
            .arg("-C")
            .arg(textbook_dir())
            .stdin(Stdio::null())
            .output()
            .expect("make runs");
        assert!(
            out.status.success(),
            "make -C c/textbook failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        true
    });
    if !built {
        eprintln!("skipped: no C compiler (cc) to build c/textbook");
        return None;
    }
    Some(textbook_dir().join("build").join(name))
}

/// A Rust example (`msg2`, `shm1`, ...), built by `cargo test` (or `cargo build --examples`)
/// into target/debug/examples beside this test's own executable.
pub fn example(name: &str) -> PathBuf {
    let test_exe = std::env::current_exe().expect("the test knows its own path");
    // target/debug/deps/TEST-HASH -> target/debug/examples/NAME
    let debug = test_exe
        .parent()
        .and_then(Path::parent)
        .expect("the test runs from target/*/deps");
    let path = debug.join("examples").join(name);
    assert!(
        path.exists(),
        "{} is not built: run `cargo build --examples` (make test does)",
        path.display()
    );
    path
}

/// `program` (a textbook C program or a Rust example) with key 1234 moved to `key` and port
/// 9734 to `port` (where given) by the LD_PRELOAD shim.
pub fn remapped(program: &Path, key: i32, port: Option<u16>) -> Command {
    let shim = textbook_program("libremap.so").expect("a C compiler builds the shim");
    let mut cmd = Command::new(program);
    cmd.env("LD_PRELOAD", shim)
        .env("IPC_PAIRS_KEY", format!("0x{:08x}", key as u32));
    if let Some(port) = port {
        cmd.env("IPC_PAIRS_PORT", port.to_string());
    }
    cmd
}

/// `program` (a textbook C program or a Rust example) with the FIFO path `/tmp/my_fifo` moved
/// to `fifo` by the same shim, in mkfifo/open/access/unlink (`IPC_PAIRS_FIFO`).
pub fn remapped_fifo(program: &Path, fifo: &Path) -> Command {
    let shim = textbook_program("libremap.so").expect("a C compiler builds the shim");
    let mut cmd = Command::new(program);
    cmd.env("LD_PRELOAD", shim).env("IPC_PAIRS_FIFO", fifo);
    cmd
}
