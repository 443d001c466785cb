//! sem1.c (Beginning Linux Programming, ch. 14) line by line: copies take turns in a critical
//! section guarded by one semaphore. `cargo run -p ipc-sem --example sem1 -- x` initialises it
//! (X, removes it at the end); without an argument (O), or c/textbook/build/sem1, it joins.

use std::io::Write;
use std::process::exit;
use std::thread::sleep;
use std::time::Duration;

use ipc_sem::calls::{semctl, semget, semop, Cmd, SemBuf, SemId, IPC_CREAT, SEM_UNDO};

fn main() {
    let argc = std::env::args().count();
    let mut op_char = 'O';
    let mut seed = std::process::id(); // srand((unsigned int)getpid());

    // Rust: sem_id is passed to each function, not kept in a global; a failed semget stops
    // here (the C carries on with -1 and fails at the first semctl or semop).
    let sem_id = semget(1234, 1, 0o666 | IPC_CREAT).unwrap_or_else(|err| {
        eprintln!("semget failed: {err}");
        exit(1)
    });
    if argc > 1 {
        if !set_semvalue(sem_id) {
            eprintln!("Failed to initialize semaphore");
            exit(1);
        }
        op_char = 'X';
        sleep(Duration::from_secs(2));
    }
    for _ in 0..10 {
        if !semaphore_p(sem_id) {
            exit(1);
        }
        print!("{op_char}");
        std::io::stdout().flush().ok();
        sleep(Duration::from_secs(u64::from(rand(&mut seed) % 3)));
        print!("{op_char}");
        std::io::stdout().flush().ok();
        if !semaphore_v(sem_id) {
            exit(1);
        }
        sleep(Duration::from_secs(u64::from(rand(&mut seed) % 2)));
    }
    println!("\n{} - finished", std::process::id());
    if argc > 1 {
        sleep(Duration::from_secs(10));
        del_semvalue(sem_id);
    }
}

/// Rust: std has no rand(); this is a tiny xorshift (Marsaglia's), seeded by the pid as
/// srand(getpid()) seeds C's.
fn rand(seed: &mut u32) -> u32 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 17;
    *seed ^= *seed << 5;
    *seed
}

/// semctl(SETVAL): the semaphore starts at 1, the critical section free.
fn set_semvalue(sem_id: SemId) -> bool {
    semctl(sem_id, 0, Cmd::SetVal(1)).is_ok()
}

/// semctl(IPC_RMID): removes the semaphore set.
fn del_semvalue(sem_id: SemId) {
    if semctl(sem_id, 0, Cmd::IpcRmid).is_err() {
        eprintln!("Failed to delete semaphore");
    }
}

/// P(): waits until the semaphore is 1 and takes it; SEM_UNDO gives it back if we die.
fn semaphore_p(sem_id: SemId) -> bool {
    let sem_b = SemBuf {
        sem_num: 0,
        sem_op: -1, // P()
        sem_flg: SEM_UNDO as i16,
    };
    semop(sem_id, &mut [sem_b])
        .map_err(|_| eprintln!("semaphore_p failed"))
        .is_ok()
}

/// V(): gives the semaphore back.
fn semaphore_v(sem_id: SemId) -> bool {
    let sem_b = SemBuf {
        sem_num: 0,
        sem_op: 1, // V()
        sem_flg: SEM_UNDO as i16,
    };
    semop(sem_id, &mut [sem_b])
        .map_err(|_| eprintln!("semaphore_v failed"))
        .is_ok()
}
