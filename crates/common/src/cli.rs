//! Command-line options shared by every program, defined once and flattened into each binary
//! with clap's `#[command(flatten)]`; the rendezvous defaults of the tutorial live here too.

use std::fmt;
use std::str::FromStr;

use clap::Args;

use crate::wire::MAX_PAYLOAD;

/// The tutorial's System V key (`msgget((key_t)1234, ...)`).
pub const DEFAULT_KEY: Key = Key(1234);
/// The tutorial's FIFO path.
pub const DEFAULT_FIFO_PATH: &str = "/tmp/my_fifo";
/// The tutorial's TCP port (`server.c`: `htons(9734)`).
pub const DEFAULT_PORT: u16 = 9734;
/// The default name of POSIX objects (message queue, shared memory).
pub const DEFAULT_POSIX_NAME: &str = "/ipc-pairs";
/// The default mode of every object we create: only the owner may read or write.
pub const DEFAULT_MODE: Mode = Mode(0o600);

/// A System V IPC key (C: `key_t`). Parsed from decimal or `0x` hex; shown as `ipcs` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key(pub i32);

impl FromStr for Key {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let parsed = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
            // Hex as ipcs prints it: 0x000004d2, up to 0xffffffff (the bits of a key_t).
            Some(hex) => u32::from_str_radix(hex, 16).map(|bits| bits as i32),
            None => text.parse::<i32>(),
        };
        match parsed {
            Ok(0) => {
                Err("key 0 is IPC_PRIVATE, which no other program can find; choose another".into())
            }
            Ok(key) => Ok(Key(key)),
            Err(_) => Err(format!(
                "'{text}' is not a key: use decimal (1234) or hex (0x4d2)"
            )),
        }
    }
}

impl fmt::Display for Key {
    /// `1234 (0x000004d2)`: decimal as in the tutorial, hex as in `ipcs`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (0x{:08x})", self.0, self.0 as u32)
    }
}

/// Permission bits of an object we create (C: the `0666` in `msgget(key, 0666 | IPC_CREAT)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mode(pub u32);

impl Mode {
    /// True when users other than the owner get any access.
    pub fn is_open_to_others(self) -> bool {
        self.0 & 0o077 != 0
    }

    /// Prints, once, what a mode wider than 0600 allows (the contract's `--mode 0666` warning).
    pub fn warn_if_open(self) {
        if self.is_open_to_others() {
            eprintln!(
                "{}: warning: mode {self} lets other users on this machine read and \
                 inject messages (the tutorial's world-open mode); the default is 0600",
                crate::program::name()
            );
        }
    }
}

/// Sharing an object with another user: the tutorial's two-user mode.
///
/// The kernel lets another user open an object whose mode grants them access (0666), but an
/// end of ours uses an object of another uid only when it was given `--mode` explicitly with
/// exactly the object's mode: the default 0600 never joins a stranger's object, so nobody can
/// slip a world-open object under a student who did not ask to share.
impl Mode {
    /// True when an existing object of another user, with permission bits `found`, may be
    /// used: this `--mode` opens to others (so it was given explicitly; the default is 0600)
    /// and equals the object's mode.
    pub fn admits_foreign(self, found: u32) -> bool {
        self.is_open_to_others() && found & 0o777 == self.0
    }

    /// The line an end prints (stderr) when it joins `object` of uid `uid` under
    /// [`Mode::admits_foreign`]; [`Mode::warn_if_open`] has already said what the mode allows.
    pub fn note_foreign(self, object: &str, uid: u32) {
        eprintln!(
            "{}: {object} belongs to {}: joining it because its mode {self} is the --mode asked for",
            crate::program::name(),
            owner_name(uid)
        );
    }
}

/// `uid N (user NAME)`, the owner as `ls -l` and `ipcs` name them (C: `getpwuid(uid)`).
pub fn owner_name(uid: u32) -> String {
    match nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid)) {
        Ok(Some(user)) => format!("uid {uid} (user {})", user.name),
        _ => format!("uid {uid}"),
    }
}

/// The note of an end that finished with an object of another user it may not remove: the
/// kernel lets only the owner, the creator or root remove it (`IPC_RMID`, `unlink` in a sticky
/// /tmp, `mq_unlink`, `shm_unlink` fail with EPERM or EACCES). `object` is e.g. "the queue",
/// `remove` the command that removes it.
pub fn not_ours_to_remove(object: &str, uid: u32, remove: &str) -> String {
    format!(
        "{object} belongs to {}: only they or root can remove it: {remove}",
        owner_name(uid)
    )
}

/// A System V object of another user, as `IPC_STAT` shows it: what [`foreign_refusal`] needs.
#[derive(Debug, Clone, Copy)]
pub struct ForeignObject<'a> {
    /// What it is, in the hint: "queue", "set", "segment".
    pub noun: &'a str,
    /// Its id as ipcs names it ("msqid", "semid", "shmid"), and the id.
    pub id_name: &'a str,
    pub id: i32,
    /// The ipcrm option that removes it by id: "-q", "-s", "-m".
    pub ipcrm: &'a str,
    /// Its owner and mode.
    pub uid: u32,
    pub mode: u32,
}

/// The refusal of another user's object that `mode` does not admit ([`Mode::admits_foreign`]):
/// whose it is, and a hint naming the `--mode` that would join it where its owner opened it to
/// others, or else who can remove it. `what` is what we were doing ("opening ...").
pub fn foreign_refusal(what: String, found: ForeignObject<'_>, mode: Mode) -> crate::Error {
    let me = nix::unistd::geteuid().as_raw();
    let error = crate::Error::new(
        what,
        format!(
            "it belongs to uid {} (mode {:04o}, {} {}), not to us (uid {me})",
            found.uid, found.mode, found.id_name, found.id
        ),
    );
    if found.mode & 0o077 != 0 && found.mode != mode.0 {
        error.with_hint(format!(
            "to share it as its owner meant, pass --mode {:04o} (its mode); or choose another --key",
            found.mode
        ))
    } else {
        error.with_hint(format!(
            "choose another --key, or ask uid {} to remove it (ipcrm {} {}); a {} is shared \
             only when its owner made it with --mode 0666 and you pass --mode 0666 too",
            found.uid, found.ipcrm, found.id, found.noun
        ))
    }
}

/// Checks the owner of a System V object we found: ours, or another user's shared with exactly
/// the `--mode` given (0666, see [`Mode::admits_foreign`]), which is said on stderr naming
/// `object` ("semaphore set key 5"); otherwise [`foreign_refusal`] of `what`. The kernel would
/// let any user use a 0666 object; we join a stranger's only when asked to share.
pub fn join_if_shared(
    what: String,
    object: &str,
    found: ForeignObject<'_>,
    mode: Mode,
) -> crate::Result<()> {
    if found.uid == nix::unistd::geteuid().as_raw() {
        return Ok(());
    }
    if !mode.admits_foreign(found.mode) {
        return Err(foreign_refusal(what, found, mode));
    }
    mode.note_foreign(object, found.uid);
    Ok(())
}

impl FromStr for Mode {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match u32::from_str_radix(text, 8) {
            Ok(bits) if bits <= 0o777 => Ok(Mode(bits)),
            _ => Err(format!(
                "'{text}' is not a mode: use octal permission bits such as 0600"
            )),
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04o}", self.0)
    }
}

/// `--key K` for the System V programs.
#[derive(Debug, Clone, Args)]
pub struct KeyArg {
    /// System V key, decimal or 0x-hex (the tutorial uses 1234)
    #[arg(long, value_name = "K", default_value = "1234")]
    pub key: Key,
}

/// `--mode MODE` for programs that create an object.
#[derive(Debug, Clone, Args)]
pub struct ModeArg {
    /// Permission bits of the object we create; 0666 is the tutorial's world-open mode
    #[arg(long, value_name = "MODE", default_value = "0600")]
    pub mode: Mode,
}

/// Where a sender's messages come from: stdin lines, `--message`, or `--count`/`--size`.
#[derive(Debug, Clone, Args)]
pub struct MessageSource {
    /// Send TEXT instead of reading standard input (repeatable); End follows
    #[arg(long = "message", value_name = "TEXT", conflicts_with = "count")]
    pub messages: Vec<String>,
    /// Send N generated messages the receiver can verify, then End
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,
    /// Payload bytes of each generated message (with --count; K and M suffixes allowed)
    #[arg(long, value_name = "BYTES", default_value = "64", requires = "count", value_parser = parse_size)]
    pub size: usize,
}

/// Options every receiver has.
#[derive(Debug, Clone, Args)]
pub struct ReceiverArgs {
    /// Wait for the End of N senders before finishing
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    pub senders: u64,
}

/// Parses a byte count such as `1000`, `4K`, `64KiB` or `1M` (powers of 1024), up to MAX_PAYLOAD.
pub fn parse_size(text: &str) -> Result<usize, String> {
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, suffix) = text.split_at(digits_end);
    let scale = match suffix {
        "" | "B" => 1,
        "K" | "k" | "KiB" => 1024,
        "M" | "MiB" => 1024 * 1024,
        _ => {
            return Err(format!(
                "'{text}' is not a size: use bytes, or a K or M suffix"
            ))
        }
    };
    let size = digits
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .ok_or_else(|| format!("'{text}' is not a size"))?;
    if size > MAX_PAYLOAD {
        return Err(format!(
            "{size} bytes is over the limit of {MAX_PAYLOAD} bytes (16 MiB)"
        ));
    }
    Ok(size)
}

/// The longest POSIX IPC name, slash included (mq_overview(7), shm_overview(7): NAME_MAX).
pub const POSIX_NAME_MAX: usize = 255;

/// Checks a POSIX IPC name (`mq_open`, `shm_open`): a slash, then 1 to 254 bytes with no
/// other slash and no NUL (255 bytes in all, as mq_overview(7) says).
pub fn check_posix_name(name: &str) -> Result<(), String> {
    let body = name.strip_prefix('/').unwrap_or_default();
    let well_formed = name.starts_with('/')
        && !body.is_empty()
        && !body.contains('/')
        && !body.contains('\0')
        && name.len() <= POSIX_NAME_MAX;
    if well_formed {
        Ok(())
    } else {
        Err(format!(
            "'{name}' is not a POSIX IPC name: use a slash and up to {} more characters, \
             with no other slash (for example /ipc-pairs)",
            POSIX_NAME_MAX - 1
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse_in_decimal_and_hex_and_show_like_ipcs() {
        assert_eq!("1234".parse::<Key>(), Ok(Key(1234)));
        assert_eq!("0x4d2".parse::<Key>(), Ok(Key(1234)));
        assert_eq!("0xffffffff".parse::<Key>(), Ok(Key(-1)));
        assert_eq!(Key(1234).to_string(), "1234 (0x000004d2)");
        assert!("0".parse::<Key>().is_err());
        assert!("twelve".parse::<Key>().is_err());
    }

    #[test]
    fn modes_are_octal() {
        assert_eq!("0600".parse::<Mode>(), Ok(Mode(0o600)));
        assert_eq!("666".parse::<Mode>(), Ok(Mode(0o666)));
        assert!("0800".parse::<Mode>().is_err());
        assert!(Mode(0o666).is_open_to_others() && !Mode(0o600).is_open_to_others());
    }

    #[test]
    fn only_an_explicit_matching_open_mode_admits_another_users_object() {
        assert!(Mode(0o666).admits_foreign(0o666));
        assert!(!Mode(0o666).admits_foreign(0o644), "a mode that differs");
        assert!(
            !Mode(0o600).admits_foreign(0o600),
            "the default never joins a stranger"
        );
        assert_eq!(owner_name(0), "uid 0 (user root)");
    }

    #[test]
    fn posix_names_are_a_slash_and_one_component() {
        assert!(check_posix_name("/ipc-pairs").is_ok());
        assert!(check_posix_name(&format!("/{}", "x".repeat(254))).is_ok());
        assert!(check_posix_name(&format!("/{}", "x".repeat(255))).is_err());
        for bad in ["", "/", "no-slash", "/a/b", "/a\0b"] {
            assert!(check_posix_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn sizes_take_suffixes_and_a_limit() {
        assert_eq!(parse_size("1000"), Ok(1000));
        assert_eq!(parse_size("4K"), Ok(4096));
        assert_eq!(parse_size("1M"), Ok(1 << 20));
        assert!(parse_size("17M").is_err());
        assert!(parse_size("x").is_err());
    }
}
