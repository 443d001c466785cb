//! The machine the numbers come from (CPU model, cores, kernel), and pinning to a CPU.

use ipc_common::{Context, Error, Result};
use nix::sched::{sched_getaffinity, sched_setaffinity, CpuSet};
use nix::unistd::Pid;

/// What the table's header says about the machine.
#[derive(Debug, Clone)]
pub struct Machine {
    pub cpu: String,
    pub cores: usize,
    pub kernel: String,
}

impl Machine {
    /// Reads /proc/cpuinfo ("model name"), the CPUs we may run on, and the kernel release
    /// (/proc/sys/kernel/osrelease, what `uname -r` prints).
    pub fn read() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find_map(|line| line.strip_prefix("model name"))
            .and_then(|rest| rest.split_once(':'))
            .map(|(_, name)| name.trim().to_string())
            .unwrap_or_else(|| "unknown CPU".into());
        // Every CPU of the machine (not only those we may run on after --pin).
        let cores = cpuinfo
            .lines()
            .filter(|l| l.starts_with("processor"))
            .count()
            .max(1);
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| format!("Linux {}", s.trim()))
            .unwrap_or_else(|_| "unknown kernel".into());
        Machine { cpu, cores, kernel }
    }

    /// `Intel(R) Xeon(R) Processor, 2 cores, Linux 6.18.44`: the machine line of the table
    /// and of the CSV's `# machine:` comment (which `--compare` reads back).
    pub fn describe(&self) -> String {
        format!("{}, {} cores, {}", self.cpu, self.cores, self.kernel)
    }
}

/// C: `CPU_ZERO(&set); CPU_SET(cpu, &set); sched_setaffinity(0, sizeof set, &set)`: this
/// process runs on `cpu` only from now on (children started later inherit it).
pub fn pin_to(cpu: usize) -> Result<()> {
    let mut set = CpuSet::new();
    set.set(cpu)
        .map_err(|_| Error::usage("pinning to a CPU", format!("CPU {cpu} is out of range")))?;
    sched_setaffinity(Pid::from_raw(0), &set)
        .context(format!("pinning to CPU {cpu} (sched_setaffinity)"))
        .map_err(|err| err.with_hint("list the CPUs with nproc; --pin takes two of 0..N-1"))
}

/// Fails (usage error) unless this process may run on `cpu` (C: `sched_getaffinity`).
pub fn check_cpu(cpu: usize) -> Result<()> {
    let allowed =
        sched_getaffinity(Pid::from_raw(0)).context("reading our CPUs (sched_getaffinity)")?;
    if allowed.is_set(cpu).unwrap_or(false) {
        Ok(())
    } else {
        Err(Error::usage(
            "--pin",
            format!("CPU {cpu} is not one this process may run on"),
        )
        .with_hint("list the CPUs with nproc; --pin takes two of 0..N-1, e.g. --pin 0,1"))
    }
}

/// `--pin A,B`: the bench runs on A, its peer (and the C programs' child) on B.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pin {
    pub bench: usize,
    pub peer: usize,
}

impl std::str::FromStr for Pin {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let parsed = text
            .split_once(',')
            .and_then(|(a, b)| Some((a.trim().parse().ok()?, b.trim().parse().ok()?)));
        match parsed {
            Some((bench, peer)) => Ok(Pin { bench, peer }),
            None => Err(format!("'{text}' is not two CPU numbers such as 0,1")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_parse_as_two_cpus() {
        assert_eq!("0,1".parse::<Pin>(), Ok(Pin { bench: 0, peer: 1 }));
        assert!("0".parse::<Pin>().is_err());
        assert!("a,b".parse::<Pin>().is_err());
    }

    #[test]
    fn the_machine_has_a_kernel_and_cores() {
        let m = Machine::read();
        assert!(m.cores >= 1);
        assert!(m.kernel.starts_with("Linux"), "{}", m.kernel);
    }
}
