"""Compare two (or more) herald binaries on the one-post rebuild, side by side.

usage: bench/rebuild-ab.py SITE ROUNDS LABEL=[ENV,...:]BINARY ...
   e.g. bench/rebuild-ab.py ~/.cache/herald-bench/work/ab 20 \\
            old=/tmp/herald-old new=target/release/herald \\
            nopurge=MIMALLOC_PURGE_DELAY=-1:target/release/herald

Each variant builds its own copy of the site, SITE-A, SITE-B, ... (copies of
a bench site: `content/`, `site.toml`, `templates/`, `themes/`), because a
binary trusts only the caches it wrote itself: two binaries sharing one site
would each find the other's caches unusable and parse everything again.
After a first build of each copy, every round appends a line to
content/posts/post-05000.md (post-00500.md in a smaller site) of each copy in turn and times `herald build`
there (interleaved, the order reversed every other round: A B B A ...);
the first round is a warm-up. Prints the
median wall time and CPU time (user + sys, from the child's rusage) of each.
Never a timed test: the machine is shared, so compare only the variants of
one run.
"""
import os, resource, statistics, subprocess, sys, time


def variant(arg):
    label, rest = arg.split("=", 1)
    env_part, binary = rest.rsplit(":", 1) if ":" in rest else ("", rest)
    env = dict(os.environ)
    for kv in filter(None, env_part.split(",")):
        k, v = kv.split("=", 1)
        env[k] = v
    return label, env, os.path.abspath(binary)


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    site, rounds = sys.argv[1], int(sys.argv[2])
    variants = [variant(a) for a in sys.argv[3:]]
    sites = {label: f"{site}-{chr(65 + i)}" for i, (label, _, _) in enumerate(variants)}
    for label, env, binary in variants:
        if not os.path.isdir(os.path.join(sites[label], "content")):
            sys.exit(f"{sites[label]}: no site there (copy a bench site's content/, site.toml, templates/, themes/)")
        subprocess.run([binary, "build", "--root", sites[label]], env=env,
                       stdout=subprocess.DEVNULL, check=True)
    times = {label: [] for label, _, _ in variants}
    for r in range(rounds + 1):
        # A B, then B A, ...: whichever runs second in a round may find the
        # machine in another state (caches, clock), so each goes second
        # as often as first.
        for label, env, binary in (variants if r % 2 == 0 else variants[::-1]):
            post = next(p for p in (os.path.join(sites[label], "content/posts", n)
                                    for n in ("post-05000.md", "post-00500.md"))
                        if os.path.exists(p))
            with open(post, "a", encoding="utf-8") as f:
                f.write(f"\nEdited {time.time_ns()}.\n")
            time.sleep(0.05)
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            subprocess.run([binary, "build", "--root", sites[label]], env=env,
                           stdout=subprocess.DEVNULL, check=True)
            wall = time.perf_counter() - t0
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            if r:
                times[label].append((wall, cpu))
    for label, v in times.items():
        walls, cpus = [w for w, _ in v], [c for _, c in v]
        print(f"{label:12} wall {statistics.median(walls) * 1e3:7.1f} ms  "
              f"cpu {statistics.median(cpus) * 1e3:7.1f} ms  (min wall {min(walls) * 1e3:.1f}, {len(v)} rounds)")


if __name__ == "__main__":
    main()
