#!/usr/bin/env python3
"""Time from saving a one-line edit to `herald serve` answering with the new
HTML, without a browser (bench/serve-latency.sh measures the browser reload).

usage: bench/serve-served-latency.py SITE_DIR ENTRY_MD PAGE_PATH [EDITS]
   e.g. bench/serve-served-latency.py ~/.cache/herald-bench/work/herald-10000 \\
            content/posts/post-05000.md /posts/post-05000/ 15

Starts target/release/herald serve on a free port, then EDITS times: waits
for the server to be idle, appends a unique marker line to ENTRY_MD (one
write, as an editor's save), and polls PAGE_PATH every 2 ms until the marker
is in the answer. Prints each time and the median. Restores the file.
"""
import os, re, statistics, subprocess, sys, time, urllib.request

site, entry, page = sys.argv[1], sys.argv[2], sys.argv[3]
edits = int(sys.argv[4]) if len(sys.argv) > 4 else 15
here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
binary = os.environ.get("HERALD_BIN", os.path.join(here, "target/release/herald"))
path = os.path.join(site, entry)
original = open(path, encoding="utf-8").read()
proc = subprocess.Popen([binary, "serve", "--root", site, "--port", "0"],
                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
try:
    url = None
    for line in proc.stdout:
        m = re.search(r"http://127\.0\.0\.1:\d+", line)
        if m and "Serving at" in line:
            url = m.group(0) + page
            break
    if not url:
        sys.exit("herald serve did not start")
    urllib.request.urlopen(url).read()
    times = []
    for i in range(edits):
        time.sleep(1.5)  # let any full rebuild of the previous edit finish
        marker = f"latency-marker-{os.getpid()}-{i}"
        t0 = time.perf_counter()
        with open(path, "w", encoding="utf-8") as f:
            f.write(original.rstrip("\n") + f"\n\n{marker}\n")
        while True:
            body = urllib.request.urlopen(url).read().decode("utf-8", "replace")
            if marker in body:
                break
            if time.perf_counter() - t0 > 30:
                sys.exit(f"edit {i}: not served within 30 s")
            time.sleep(0.002)
        ms = (time.perf_counter() - t0) * 1000
        times.append(ms)
        print(f"edit {i + 1:2}: {ms:6.1f} ms", flush=True)
    print(f"median of {edits}: {statistics.median(times):.1f} ms "
          f"(min {min(times):.1f}, max {max(times):.1f})")
finally:
    with open(path, "w", encoding="utf-8") as f:
        f.write(original)
    proc.terminate()
    proc.wait()
