//! `--mode 0666`, the tutorial's FIFO shared by two users: root (the test) and uid 65534
//! (nobody, through setpriv) use one FIFO in /tmp, which both can reach. The end that created it
//! removes it; the other joins only with `--mode` equal to the FIFO's mode, and is refused
//! without it.

use std::path::Path;
use std::process::{Command, Stdio};

use ipc_testkit::{assert_gone, unique_path, Finished, Running, WATCHDOG};

const SENDER: &str = env!("CARGO_BIN_EXE_fifo-sender");
const RECEIVER: &str = env!("CARGO_BIN_EXE_fifo-receiver");

fn command(as_nobody: bool, program: &str, path: &Path, extra: &[&str]) -> Command {
    let mut cmd = if as_nobody {
        let mut cmd = Command::new("setpriv");
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups", program]);
        cmd
    } else {
        Command::new(program)
    };
    cmd.arg("--path").arg(path).args(extra).stdin(Stdio::null());
    cmd
}

fn finish(cmd: Command) -> Finished {
    let finished = Running::start(cmd, None).finish(WATCHDOG);
    finished.assert_no_panic();
    finished
}

#[test]
fn another_users_sender_with_mode_0666_writes_into_our_0666_fifo_and_without_it_is_refused() {
    let path = unique_path("fifo-share");
    let mut receiver = Running::start(command(false, RECEIVER, &path, &["--mode", "0666"]), None);
    receiver.wait_for_stderr("waiting for a sender", WATCHDOG);

    let refused = finish(command(true, SENDER, &path, &["--message", "no"]));
    refused.assert_code(1);
    assert!(
        refused.stderr.contains("the FIFO is owned by uid 0")
            && refused.stderr.contains("--mode 0666"),
        "{}",
        refused.stderr
    );

    let sent = finish(command(
        true,
        SENDER,
        &path,
        &["--mode", "0666", "--message", "shared"],
    ));
    sent.assert_code(0);
    let done = receiver.finish(WATCHDOG);
    done.assert_code(0).assert_no_panic();
    assert_eq!(
        done.lines(),
        [
            "Data From Named Pipe Is: shared",
            "summary: received=1 lost=0 duplicated=0 reordered=0 corrupt=0"
        ]
    );
    assert!(done.stderr.contains("removed the FIFO"), "{}", done.stderr);
    assert_gone(&path);
}

#[test]
fn our_receiver_with_mode_0666_reads_another_users_0666_fifo_which_its_creator_removes() {
    let path = unique_path("fifo-share");
    let mut sender = Running::start(
        command(
            true,
            SENDER,
            &path,
            &["--mode", "0666", "--message", "from nobody"],
        ),
        None,
    );
    sender.wait_for_stderr("waiting for a receiver", WATCHDOG);

    // --mode 0644 is not the FIFO's mode: refused, and the FIFO is left as it is.
    let refused = finish(command(false, RECEIVER, &path, &["--mode", "0644"]));
    refused.assert_code(1);
    assert!(
        refused
            .stderr
            .contains("its mode 0666 is not the --mode 0644"),
        "{}",
        refused.stderr
    );

    let done = finish(command(false, RECEIVER, &path, &["--mode", "0666"]));
    done.assert_code(0);
    assert_eq!(
        done.lines(),
        [
            "Data From Named Pipe Is: from nobody",
            "summary: received=1 lost=0 duplicated=0 reordered=0 corrupt=0"
        ]
    );
    let sent = sender.finish(WATCHDOG);
    sent.assert_code(0).assert_no_panic();
    assert!(sent.stderr.contains("removed the FIFO"), "{}", sent.stderr);
    assert_gone(&path);
}
