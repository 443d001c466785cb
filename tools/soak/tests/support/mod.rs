//! What the soak's tests share: the workspace's programs, found where ipc-soak finds them.

use std::path::PathBuf;
use std::process::{Command, Stdio};

/// The program `name` (beside the test executable, else in `IPC_BIN`); panics, saying what to
/// build, when it is missing.
pub fn program_path(name: &str) -> PathBuf {
    let path = ipc_soak::bin_dir().join(name);
    assert!(
        path.is_file(),
        "{} is missing: build the programs first (cargo build --workspace --bins)",
        path.display()
    );
    path
}

/// The program `name` as a command, with stdin from /dev/null (no program may read a terminal).
#[allow(dead_code)] // some test files only need the path
pub fn program(name: &str) -> Command {
    let mut cmd = Command::new(program_path(name));
    cmd.stdin(Stdio::null());
    cmd
}
