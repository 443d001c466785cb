//! Foreign input on a pipe: text where pipe-sender's frames are expected (`echo hello |
//! pipe-receiver`) is named as C text, counted as corrupt, and the receiver stops with its
//! summary (nothing after it can be read as frames). Its advice fits pipe-receiver, which has
//! no `--wire c`. A real process.

use std::process::Command;

use ipc_testkit::run;

#[test]
fn text_on_stdin_is_named_counted_and_ends_with_the_summary() {
    let done = run(
        Command::new(env!("CARGO_BIN_EXE_pipe-receiver")),
        b"hello\nworld\n",
    );
    done.assert_code(1).assert_no_panic();
    assert_eq!(
        done.lines(),
        ["summary: received=0 lost=0 duplicated=0 reordered=0 corrupt=1"]
    );
    assert!(
        done.stderr.contains(
            "pipe-receiver: warning: a C-layout text (\"hello\"), not one of our Messages"
        ) && done
            .stderr
            .contains("pipe-receiver reads only pipe-sender's frames"),
        "{}",
        done.stderr
    );
    assert!(
        !done.stderr.contains("--wire c") && !done.stderr.contains("OtherString"),
        "no option pipe-receiver lacks, no decoder internals: {}",
        done.stderr
    );
}
