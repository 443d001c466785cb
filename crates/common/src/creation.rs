//! "Create it exclusively, else open the one that is there": how each end of a pair gets its
//! kernel object, whichever starts first.
//!
//! The tutorial writes `msgget((key_t)1234, 0666 | IPC_CREAT)`, which quietly opens whatever
//! is there. We ask the two questions apart, so that each end knows whether it made the
//! object (and so owns it) or found it (and must check it is what it expects):
//!
//! ```c
//! id = msgget(key, IPC_CREAT | IPC_EXCL | 0600);   /* made by us?          */
//! if (id == -1 && errno == EEXIST)
//!     id = msgget(key, 0);                         /* no: open the one there */
//! /* ENOENT now means it was removed in between: ask again */
//! ```
//!
//! The same shape serves message queues, semaphore sets, segments and POSIX objects.

use crate::error::{Error, Result};

/// How an object was got.
#[derive(Debug)]
pub enum Opened<T> {
    /// We created it (and so own it).
    Created(T),
    /// It was there already.
    Found(T),
}

impl<T> Opened<T> {
    /// True when we created it.
    pub fn created(&self) -> bool {
        matches!(self, Opened::Created(_))
    }

    /// The object, however it was got.
    pub fn into_inner(self) -> T {
        match self {
            Opened::Created(object) | Opened::Found(object) => object,
        }
    }
}

/// How often an object may vanish between our two calls before we give up.
const ATTEMPTS: u32 = 8;

/// Creates exclusively, else opens. `create_exclusive` returns `Ok(None)` when the object
/// exists already (EEXIST); `open_existing` returns `Ok(None)` when there is none (ENOENT):
/// it was removed between the two calls, and we ask again.
pub fn create_or_open<T>(
    what: &str,
    mut create_exclusive: impl FnMut() -> Result<Option<T>>,
    mut open_existing: impl FnMut() -> Result<Option<T>>,
) -> Result<Opened<T>> {
    for _ in 0..ATTEMPTS {
        if let Some(object) = create_exclusive()? {
            return Ok(Opened::Created(object));
        }
        if let Some(object) = open_existing()? {
            return Ok(Opened::Found(object));
        }
    }
    Err(Error::new(
        format!("creating or opening {what}"),
        format!("it was created and removed again {ATTEMPTS} times while we tried"),
    )
    .with_hint(
        "another program is creating and removing objects with the same name: choose another",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_end_creates_the_second_finds_and_a_race_asks_again() {
        let made = create_or_open("q", || Ok(Some(1)), || Ok(Some(2))).expect("creates");
        assert!(made.created());
        let found = create_or_open("q", || Ok(None), || Ok(Some(2))).expect("finds");
        assert_eq!((found.created(), found.into_inner()), (false, 2));
        let mut tries = 0;
        let raced = create_or_open(
            "q",
            || {
                tries += 1;
                Ok((tries == 3).then_some(3))
            },
            || Ok(None),
        );
        assert_eq!(raced.expect("third time").into_inner(), 3);
        assert!(create_or_open::<u8>("q", || Ok(None), || Ok(None)).is_err());
    }
}
