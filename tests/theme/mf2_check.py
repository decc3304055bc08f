#!/usr/bin/env python3
"""Microformats2 check of a built Herald site, run by tests/theme.rs with mf2py.

usage: mf2_check.py SITE_DIR BASE_URL

Entry pages are every page a feed lists (feed.json, atom.xml anywhere in the
site) plus every page with an `article:published_time` meta tag. Each must
hold exactly one top-level h-entry with name, published, content, url (the
page's own URL) and an author h-card with a name. List pages (an h-feed) must
hold one h-entry per listed entry, each with name, url and published.
Prints what it checked; exit 1 with the problems found.
"""
import json
import os
import re
import sys
import xml.etree.ElementTree as ET

import mf2py

site, base = os.path.abspath(sys.argv[1]), sys.argv[2].rstrip("/")
problems = []


def file_for(url):
    if not url.startswith(base + "/"):
        return None
    path = url[len(base):].split("#")[0]
    if path.endswith("/"):
        path += "index.html"
    return os.path.join(site, path.lstrip("/"))


entries = {}  # url -> where we learnt it is an entry
for dirpath, _, files in os.walk(site):
    for name in files:
        full = os.path.join(dirpath, name)
        if name == "feed.json":
            with open(full, encoding="utf-8") as f:
                for item in json.load(f).get("items", []):
                    entries.setdefault(item["url"], os.path.relpath(full, site))
        elif name == "atom.xml":
            ns = {"a": "http://www.w3.org/2005/Atom"}
            for e in ET.parse(full).getroot().findall("a:entry", ns):
                for link in e.findall("a:link", ns):
                    if link.get("rel", "alternate") == "alternate":
                        entries.setdefault(link.get("href"), os.path.relpath(full, site))
        elif name.endswith(".html"):
            with open(full, encoding="utf-8") as f:
                text = f.read()
            if 'property="article:published_time"' in text:
                rel = os.path.relpath(full, site).replace(os.sep, "/")
                url = base + "/" + (rel[: -len("index.html")] if rel.endswith("index.html") else rel)
                entries.setdefault(url, "article:published_time")

if len(entries) < 10:
    problems.append(f"only {len(entries)} entry pages found in feeds and pages; is the example site complete?")


def props_missing(item, names):
    return [n for n in names if not item.get("properties", {}).get(n)]


for url, source in sorted(entries.items()):
    path = file_for(url)
    if not path or not os.path.exists(path):
        problems.append(f"{url} (listed by {source}) has no built file")
        continue
    with open(path, encoding="utf-8") as f:
        doc = mf2py.parse(doc=f.read(), url=url)
    hentries = [i for i in doc["items"] if "h-entry" in i["type"]]
    if len(hentries) != 1:
        problems.append(f"{url}: {len(hentries)} top-level h-entry, expected exactly 1 (top-level types: {[i['type'] for i in doc['items']]})")
        continue
    e = hentries[0]
    missing = props_missing(e, ["name", "published", "content", "url", "author"])
    if missing:
        problems.append(f"{url}: h-entry without {', '.join(missing)}")
        continue
    p = e["properties"]
    if url not in p["url"]:
        problems.append(f"{url}: h-entry u-url is {p['url']}, not the page's URL")
    if not re.match(r"^\d{4}-\d{2}-\d{2}", p["published"][0]):
        problems.append(f"{url}: dt-published {p['published'][0]!r} is not a date")
    content = p["content"][0]
    if not (isinstance(content, dict) and content.get("html", "").strip()):
        problems.append(f"{url}: e-content is empty")
    for a in p["author"]:
        if not (isinstance(a, dict) and "h-card" in a.get("type", []) and a["properties"].get("name")):
            problems.append(f"{url}: p-author is not an h-card with a name: {a!r}")
    # The u-url/name pair must not come from nested list items: p-name is the title.
    title = re.search(r"<title>(.*?)</title>", open(path, encoding="utf-8").read(), re.S)
    if title and p["name"][0].strip() not in title.group(1).replace("&#39;", "'").replace("&amp;", "&").replace("&quot;", '"'):
        problems.append(f"{url}: p-name {p['name'][0]!r} is not the page title {title.group(1)!r}")

# List pages: an h-feed whose children are h-entries.
feeds_checked = 0
for rel in ("index.html", "news/index.html", "releases/index.html", "tags/api/index.html"):
    path = os.path.join(site, rel)
    if not os.path.exists(path):
        continue
    url = base + "/" + rel[: -len("index.html")]
    with open(path, encoding="utf-8") as f:
        doc = mf2py.parse(doc=f.read(), url=url)
    hfeeds = [i for i in doc["items"] if "h-feed" in i["type"]]
    if len(hfeeds) != 1:
        problems.append(f"{url}: {len(hfeeds)} h-feed, expected 1")
        continue
    children = [c for c in hfeeds[0].get("children", []) if "h-entry" in c["type"]]
    if not children:
        problems.append(f"{url}: the h-feed lists no h-entry")
    for c in children:
        missing = props_missing(c, ["name", "url", "published", "author"])
        if missing:
            problems.append(f"{url}: a listed h-entry has no {', '.join(missing)}: {c['properties'].get('name')}")
    feeds_checked += 1

print(f"mf2py {mf2py.__version__}: {len(entries)} entry pages, {feeds_checked} list pages checked")
for p in problems:
    print(f"  - {p}")
sys.exit(1 if problems else 0)
