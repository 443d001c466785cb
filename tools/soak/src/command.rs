//! The command lines of a round: which program each end is, the options that name the round's
//! object (the same for both ends), and the drain of a message queue the contract kept.

use std::path::Path;
use std::process::Command;

use crate::mechanism::Mech;
use crate::names::Names;

impl Mech {
    fn program(&self, end: &str) -> String {
        let (receiver, sender) = match self {
            Mech::Pipe => ("pipe-receiver", "pipe-sender"),
            Mech::Fifo => ("fifo-receiver", "fifo-sender"),
            Mech::MsgqSysv | Mech::MsgqPosix => ("msgq-receiver", "msgq-sender"),
            Mech::Sem => ("sem-receiver", "sem-sender"),
            Mech::Shm { .. } | Mech::ShmRing { .. } => ("shm-receiver", "shm-sender"),
            Mech::Tcp | Mech::Unix | Mech::Udp => ("socket-server", "socket-client"),
        };
        if end == "receiver" { receiver } else { sender }.to_string()
    }

    /// The options that name the object, common to both ends.
    fn object_args(&self, names: &Names) -> Vec<String> {
        match self {
            Mech::Pipe => vec![],
            Mech::Fifo => vec!["--path".into(), names.path.display().to_string()],
            Mech::MsgqSysv | Mech::Sem => vec!["--key".into(), names.key_arg()],
            Mech::MsgqPosix => vec!["--posix".into(), "--name".into(), names.posix.clone()],
            Mech::Shm { slots, slot_size } => vec![
                "--key".into(),
                names.key_arg(),
                "--slots".into(),
                slots.to_string(),
                "--slot-size".into(),
                slot_size.to_string(),
            ],
            Mech::ShmRing { slots, slot_size } => vec![
                "--ring".into(),
                "--name".into(),
                names.posix.clone(),
                "--slots".into(),
                slots.to_string(),
                "--slot-size".into(),
                slot_size.to_string(),
            ],
            Mech::Unix => vec!["--unix".into(), names.path.display().to_string()],
            Mech::Tcp | Mech::Udp => {
                let port = names.port.unwrap_or(0).to_string();
                let mut args = vec!["--port".into(), port];
                if *self == Mech::Udp {
                    args.push("--udp".into());
                }
                args
            }
        }
    }

    /// The receiver's name and command (`None` for the pipe: pipe-sender starts it).
    pub fn receiver(&self, bin: &Path, names: &Names, senders: u64) -> Option<(String, Command)> {
        if *self == Mech::Pipe {
            return None;
        }
        let program = self.program("receiver");
        let mut cmd = Command::new(bin.join(&program));
        cmd.args(self.object_args(names));
        if self.is_socket() {
            // The server runs until Ctrl-C unless told how many clients to serve.
            cmd.args(["--clients", &senders.to_string()]);
        } else {
            cmd.args(["--senders", &senders.to_string()]);
        }
        Some((program, cmd))
    }

    /// Sender number `index`'s name and command, sending `count` messages of `size` bytes.
    pub fn sender(
        &self,
        bin: &Path,
        names: &Names,
        index: usize,
        count: u64,
        size: usize,
    ) -> (String, Command) {
        let program = self.program("sender");
        let mut cmd = Command::new(bin.join(&program));
        if matches!(self, Mech::Tcp | Mech::Udp) {
            cmd.arg("127.0.0.1");
        }
        cmd.args(self.object_args(names)).args([
            "--count",
            &count.to_string(),
            "--size",
            &size.to_string(),
        ]);
        (format!("{program}#{index}"), cmd)
    }

    /// The command that drains a message queue the contract kept (`--nowait`), if this
    /// mechanism keeps one.
    pub fn drainer(&self, bin: &Path, names: &Names) -> Option<Command> {
        match self {
            Mech::MsgqSysv | Mech::MsgqPosix => {
                let mut cmd = Command::new(bin.join("msgq-receiver"));
                cmd.args(self.object_args(names)).arg("--nowait");
                Some(cmd)
            }
            _ => None,
        }
    }
}
