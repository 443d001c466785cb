//! The SemSet guard through the library: the initialisation race is closed, a key holding a
//! set of another size is named, and only the owner removes the set.

use std::time::Duration;

use ipc_common::cli::{Key, DEFAULT_MODE};
use ipc_sem::{Op, SemSet};
use ipc_testkit::{assert_no_sysv_objects, sysv_key_exists, unique_key};

#[test]
fn open_waits_until_the_creator_has_set_the_values() {
    let key = Key(unique_key());
    let creator = SemSet::create(key, 2, DEFAULT_MODE)
        .expect("semget")
        .expect("a new set");
    let opener = std::thread::spawn(move || {
        let set = SemSet::open(key, 2).expect("opens once initialised");
        (set.value(0).expect("GETVAL"), set.value(1).expect("GETVAL"))
    });
    // Give the opener time to find the set before it is initialised: without the sem_otime
    // wait it would read the kernel's zeros.
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(creator.stat().expect("IPC_STAT").otime, 0, "no semop yet");
    creator.initialise(&[7, 3]).expect("SETVAL");
    assert_eq!(opener.join().expect("opener thread"), (7, 3));
    assert_ne!(creator.stat().expect("IPC_STAT").otime, 0);
    drop(creator);
    assert_no_sysv_objects(key.0);
}

#[test]
fn a_set_that_is_never_initialised_is_an_error_not_a_hang() {
    let key = Key(unique_key());
    let creator = SemSet::create(key, 1, DEFAULT_MODE)
        .expect("semget")
        .expect("a new set");
    let err = SemSet::open(key, 1).expect_err("never initialised");
    assert!(err.to_string().contains("not initialised"), "{err}");
    assert!(
        err.hint().is_some_and(|h| h.contains("ipcrm -S")),
        "{err:?}"
    );
    drop(creator);
    assert_no_sysv_objects(key.0);
}

#[test]
fn a_key_holding_a_set_of_another_size_names_both_sizes() {
    let key = Key(unique_key());
    let opened = SemSet::open_or_create(key, &[1, 0], DEFAULT_MODE).expect("creates");
    assert!(opened.created());
    let set = opened.into_inner();
    let err = SemSet::open(key, 3).expect_err("another size");
    assert!(
        err.to_string()
            .contains("it has 2 semaphore(s), and this program needs a set of 3"),
        "{err}"
    );
    drop(set);
    assert_no_sysv_objects(key.0);
}

#[test]
fn only_the_owner_removes_the_set() {
    let key = Key(unique_key());
    let owner = SemSet::open_or_create(key, &[1], DEFAULT_MODE).expect("creates");
    assert!(owner.created());
    let owner = owner.into_inner();
    assert!(owner.is_owner());
    let other = SemSet::open_or_create(key, &[1], DEFAULT_MODE).expect("opens");
    assert!(!other.created());
    let other = other.into_inner();
    assert!(!other.is_owner());
    other
        .op([Op::wait(0), Op::post(0)], "P then V")
        .expect("semop");
    drop(other);
    assert!(
        sysv_key_exists("sem", key.0),
        "a non-owner does not remove the set"
    );
    assert!(!owner
        .op_timeout([Op::zero(0)], Duration::from_millis(10), "wait for zero")
        .expect("semtimedop times out"));
    drop(owner);
    assert_no_sysv_objects(key.0);
}
