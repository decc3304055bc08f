//! Phase timings for whoever tunes Herald: with `HERALD_TRACE=1` in the
//! environment, a build prints on stderr, at the end of each stage, the time
//! since the first mark, the CPU time of the whole process since then (all
//! threads: more than the wall time where both cores worked), the resident
//! memory and its peak so far (from `/proc/self/status`; zero where there is
//! none).

use std::sync::OnceLock;
use std::time::Instant;

/// Marks the end of the stage `name`.
pub fn mark(name: &str) {
    static ON: OnceLock<bool> = OnceLock::new();
    if !*ON.get_or_init(|| std::env::var_os("HERALD_TRACE").is_some()) {
        return;
    }
    static START: OnceLock<Instant> = OnceLock::new();
    let start = START.get_or_init(Instant::now);
    static CPU_START: OnceLock<f64> = OnceLock::new();
    // Read after the start, so that the first mark says 0, not -0.
    let cpu_start = *CPU_START.get_or_init(process_cpu_ms);
    let cpu = process_cpu_ms() - cpu_start;
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let mib = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<u64>().ok())
            .map_or(0, |kb| kb / 1024)
    };
    eprintln!(
        "{:>9.1} ms  cpu {:>7.1} ms  rss {:>5} MiB  peak {:>5} MiB  {name}",
        start.elapsed().as_secs_f64() * 1e3,
        cpu,
        mib("VmRSS:"),
        mib("VmHWM:"),
    );
}

/// The CPU time of every thread of the process, in milliseconds.
fn process_cpu_ms() -> f64 {
    #[cfg(unix)]
    {
        let t = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
        t.tv_sec as f64 * 1e3 + t.tv_nsec as f64 / 1e6
    }
    #[cfg(not(unix))]
    0.0
}
