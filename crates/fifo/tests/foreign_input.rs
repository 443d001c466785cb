//! Foreign input on a FIFO: a default fifo-receiver that gets the C writer's text lines names
//! them as C text with the `--wire c` to use, counts them as corrupt and stops with its summary
//! (a byte stream cannot be read on after bytes that are not a frame). Its `--wire c` mirror,
//! fed our frames, is in c_wire.rs. Real processes; the FIFO is gone afterwards.

use std::process::{Command, Stdio};

use ipc_testkit::{assert_gone, c_program, run, unique_path, Running, WATCHDOG};

#[test]
fn a_default_receiver_fed_the_c_writers_lines_names_them_and_counts_them() {
    let Some(c_writer) = c_program("fifo_writer") else {
        return;
    };
    let path = unique_path("fifo-foreign");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_fifo-receiver"));
    cmd.arg("--path").arg(&path).stdin(Stdio::null());
    let mut receiver = Running::start(cmd, None);
    receiver.wait_for_stderr("waiting for a sender", WATCHDOG);
    let mut writer = Command::new(c_writer);
    writer.arg("-p").arg(&path);
    // The C writer may see EPIPE once the receiver stops: its exit is not what is tested.
    let _ = run(writer, b"hello\nworld\nend\n");
    let done = receiver.finish(WATCHDOG);
    done.assert_code(1).assert_no_panic();
    assert_eq!(
        done.last_line(),
        "summary: received=0 lost=0 duplicated=0 reordered=0 corrupt=1",
        "the C text is counted, not silently dropped"
    );
    assert!(
        done.stderr.contains(
            "warning: a C-layout text (\"hello\"), not one of our Messages: the sender speaks \
             the C programs' layout; start this end with --wire c"
        ),
        "{}",
        done.stderr
    );
    assert!(
        !done.stderr.contains("OtherString") && !done.stderr.contains("truncated frame"),
        "no decoder internals: {}",
        done.stderr
    );
    assert_gone(&path);
}
