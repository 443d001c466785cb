//! The C references: one small C program per mechanism (tools/bench/c/), built by the bench
//! with `cc -O2` at run time and run with the same sizes, counts and CPUs as the Rust side.
//!
//! The sources are compiled into the bench (`include_str!`), written next to its executable
//! (`target/release/ipc-bench-c/`) and rebuilt only when their text changed. Each program
//! forks: parent and child are the two ends. It prints one line the bench parses:
//! `RESULT mean_ns=M p50_ns=P p99_ns=Q` (latency) or `RESULT nanos=N` (throughput).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use ipc_common::{Context, Error, Result};

use crate::measure::{throughput_of, Latency, Throughput};

/// The shared driver and each mechanism's file.
const HEADER: &str = include_str!("../c/bench.h");
const SOURCES: [(&str, &str); 9] = [
    ("pipe", include_str!("../c/pipe.c")),
    ("fifo", include_str!("../c/fifo.c")),
    ("unix", include_str!("../c/unix.c")),
    ("tcp", include_str!("../c/tcp.c")),
    ("udp", include_str!("../c/udp.c")),
    ("ring", include_str!("../c/ring.c")),
    ("sysvmsg", include_str!("../c/sysvmsg.c")),
    ("posixmq", include_str!("../c/posixmq.c")),
    ("shmsem", include_str!("../c/shmsem.c")),
];

/// The built C programs.
#[derive(Debug)]
pub struct CPrograms {
    dir: PathBuf,
}

impl CPrograms {
    /// Writes and compiles every program (only those whose source changed).
    pub fn build() -> Result<CPrograms> {
        let exe = std::env::current_exe().context("finding our own executable")?;
        let dir = exe
            .parent()
            .map(|p| p.join("ipc-bench-c"))
            .unwrap_or_else(|| std::env::temp_dir().join("ipc-bench-c"));
        std::fs::create_dir_all(&dir).context(format!("creating {}", dir.display()))?;
        let header_changed = write_if_changed(&dir.join("bench.h"), HEADER)?;
        for (name, text) in SOURCES {
            let source = dir.join(format!("{name}.c"));
            let binary = dir.join(name);
            let changed = write_if_changed(&source, text)?;
            if changed || header_changed || !binary.exists() {
                compile(&source, &binary)?;
            }
        }
        Ok(CPrograms { dir })
    }

    fn run(&self, name: &str, args: &[String]) -> Result<String> {
        let program = self.dir.join(name);
        let child = Command::new(&program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .context(format!("running {}", program.display()))?;
        crate::stop::set_c_program(child.id() as i32);
        let out = child.wait_with_output();
        crate::stop::set_c_program(0);
        let out = out.context(format!("running {}", program.display()))?;
        if !out.status.success() {
            return Err(Error::new(
                format!("running the C reference {name} {}", args.join(" ")),
                format!(
                    "it failed ({}): {}",
                    out.status,
                    String::from_utf8_lossy(&out.stderr).trim()
                ),
            ));
        }
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.lines()
            .find(|l| l.starts_with("RESULT "))
            .map(str::to_string)
            .ok_or_else(|| Error::new(format!("running {name}"), "it printed no RESULT line"))
    }

    /// Round trips of `size` bytes with the C program `name`.
    pub fn latency(
        &self,
        name: &str,
        size: usize,
        count: u64,
        warmup: u64,
        cpus: (i64, i64),
        slots: usize,
    ) -> Result<Latency> {
        let line = self.run(name, &args("lat", size, count, warmup, cpus, slots))?;
        Ok(Latency {
            mean_ns: field(&line, "mean_ns")?,
            p50_ns: field(&line, "p50_ns")?,
            p99_ns: field(&line, "p99_ns")?,
        })
    }

    /// A one-way stream of `count` messages of `size` bytes with the C program `name`.
    pub fn throughput(
        &self,
        name: &str,
        size: usize,
        count: u64,
        warmup: u64,
        cpus: (i64, i64),
        slots: usize,
    ) -> Result<Throughput> {
        let line = self.run(name, &args("thr", size, count, warmup, cpus, slots))?;
        let nanos = field(&line, "nanos")?;
        Ok(throughput_of(size, count, nanos as u128))
    }
}

fn args(
    mode: &str,
    size: usize,
    count: u64,
    warmup: u64,
    cpus: (i64, i64),
    slots: usize,
) -> Vec<String> {
    vec![
        mode.to_string(),
        size.to_string(),
        count.to_string(),
        warmup.to_string(),
        cpus.0.to_string(),
        cpus.1.to_string(),
        slots.to_string(),
    ]
}

/// The number after `key=` in a RESULT line.
fn field(line: &str, key: &str) -> Result<f64> {
    line.split_whitespace()
        .find_map(|part| part.strip_prefix(key)?.strip_prefix('='))
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| Error::new("reading a C result", format!("no {key}= in {line:?}")))
}

fn write_if_changed(path: &Path, text: &str) -> Result<bool> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(false);
    }
    std::fs::write(path, text).context(format!("writing {}", path.display()))?;
    Ok(true)
}

/// `cc -O2 -o BINARY SOURCE` (plus -lrt for POSIX queues on old glibc).
fn compile(source: &Path, binary: &Path) -> Result<()> {
    let out = Command::new("cc")
        .arg("-O2")
        .arg("-o")
        .arg(binary)
        .arg(source)
        .arg("-lrt")
        .stdin(Stdio::null())
        .output()
        .map_err(|err| {
            Error::io("running cc", &err)
                .with_hint("install a C compiler (apt-get install gcc), or run with --no-c")
        })?;
    if !out.status.success() {
        return Err(Error::new(
            format!("compiling {}", source.display()),
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_lines_parse() {
        let line = "RESULT mean_ns=750.5 p50_ns=700 p99_ns=1200";
        assert_eq!(field(line, "mean_ns").ok(), Some(750.5));
        assert_eq!(field(line, "p99_ns").ok(), Some(1200.0));
        assert!(field(line, "nanos").is_err());
    }
}
