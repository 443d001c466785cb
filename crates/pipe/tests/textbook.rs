//! The classroom path: the tutorial's pipe.c (c/textbook/pipe.c, compiled as printed, bugs
//! included) and its line-by-line Rust port (examples/pipe.rs), given the same input, print
//! the same lines.
//!
//! Two processes print to one stdout, the parent and the child, in an order the scheduler
//! picks; and the C prints its first two lines twice when stdout is a pipe (they are still in
//! stdio's buffer at the fork, so both processes flush them). So the tests compare the lines
//! each program printed as a set, against the set pipe.c's printf calls make.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use ipc_testkit::{example, run, textbook_program, Finished};

/// The distinct stdout lines of `program` run with `input`; it must exit 0 without a panic.
fn lines_of(program: &Path, input: &[u8]) -> (BTreeSet<String>, Finished) {
    let done = run(Command::new(program), input);
    done.assert_code(0).assert_no_panic();
    let lines = done.lines().into_iter().map(str::to_owned).collect();
    (lines, done)
}

/// What pipe.c prints when the child reads `word`, with the descriptors pipe() returned
/// (3 and 4: the lowest free, after stdin, stdout and stderr).
fn expected(word: &str) -> BTreeSet<String> {
    [
        "Pipe Created Successfully...",
        "Descriptors are: 3 4",
        "Parent Process....",
        "Enter Data To Be Written To Pipe",
        "Pipe Written Successfully..",
        "Child Process",
        "Pipe Read Successfully",
        word,
    ]
    .into_iter()
    .map(str::to_owned)
    .collect()
}

#[test]
fn the_example_prints_what_the_tutorials_pipe_c_prints() {
    let Some(c_pipe) = textbook_program("pipe") else {
        return;
    };
    for (input, word) in [
        (&b"Hello\n"[..], "Hello"),
        // scanf("%s") reads one word: the rest of the line never reaches the pipe.
        (b"two words\n", "two"),
    ] {
        let (c_lines, c_done) = lines_of(&c_pipe, input);
        let (rust_lines, rust_done) = lines_of(&example("pipe"), input);
        assert_eq!(c_lines, expected(word), "pipe.c:\n{}", c_done.stdout);
        assert_eq!(
            rust_lines, c_lines,
            "examples/pipe.rs:\n{}",
            rust_done.stdout
        );
        // The child's printout is its own: the word comes after "Pipe Read Successfully".
        for done in [&c_done, &rust_done] {
            let lines = done.lines();
            let read = lines.iter().position(|l| *l == "Pipe Read Successfully");
            let printed = lines.iter().position(|l| *l == word);
            assert!(read < printed, "{}", done.stdout);
        }
    }
}

#[test]
fn the_example_prints_each_line_once_where_the_c_repeats_the_lines_before_its_fork() {
    let Some(c_pipe) = textbook_program("pipe") else {
        return;
    };
    let count = |done: &Finished, line: &str| done.lines().iter().filter(|l| **l == line).count();
    let (_, c_done) = lines_of(&c_pipe, b"Hello\n");
    let (_, rust_done) = lines_of(&example("pipe"), b"Hello\n");
    // stdout is a pipe here: the C's stdio still held these lines at the fork.
    assert_eq!(count(&c_done, "Pipe Created Successfully..."), 2);
    assert_eq!(count(&rust_done, "Pipe Created Successfully..."), 1);
    assert_eq!(rust_done.lines().len(), 8, "{}", rust_done.stdout);
}
