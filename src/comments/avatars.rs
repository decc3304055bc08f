//! Avatars, when `[comments] avatars = true` (off by default): downloaded at
//! fetch time into the site's `static/comments/avatars/`, so that a reader's
//! browser never asks another host for them. Each file is named by a hash of
//! its URL, so nothing from the network reaches a path, and only raster
//! images a browser shows are kept (no SVG: it can carry scripts).

use super::http::{FetchError, Http};
use super::model::NetworkThread;
use crate::error::{Error, Result};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Where avatars are written, relative to the site root; `herald build`
/// copies `static/` into the site.
pub const AVATAR_DIR: &str = "static/comments/avatars";
/// The site path avatars are served under.
pub const AVATAR_PATH: &str = "/comments/avatars/";
/// Larger files are refused: an avatar is shown at 40 × 40 pixels.
pub const MAX_AVATAR_BYTES: usize = 512 * 1024;
/// Wider or taller images are refused.
const MAX_SIDE: usize = 4096;
const EXTENSIONS: [&str; 4] = ["png", "jpg", "gif", "webp"];

/// The file name of the avatar at `url`, without its extension.
pub fn stem(url: &str) -> String {
    Sha256::digest(url.as_bytes())[..10]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The extension for an image's bytes; `None` for anything that is not a
/// PNG, JPEG, GIF or WebP of a sane size.
pub fn extension(bytes: &[u8]) -> Option<&'static str> {
    use imagesize::ImageType;
    let ext = match imagesize::image_type(bytes).ok()? {
        ImageType::Png => "png",
        ImageType::Jpeg => "jpg",
        ImageType::Gif => "gif",
        ImageType::Webp => "webp",
        _ => return None,
    };
    let size = imagesize::blob_size(bytes).ok()?;
    let sane = |side: usize| (1..=MAX_SIDE).contains(&side);
    (sane(size.width) && sane(size.height)).then_some(ext)
}

/// Whether Herald may fetch the avatar at `url` for the network whose
/// server is `base_url`: `https` to a public host, or any URL on the
/// network's own server (which the site's owner configured). Refused: other
/// schemes, and `http` or IP literals pointing into private, loopback or
/// link-local networks, so a stranger's profile cannot make CI fetch from
/// the machine's own network.
pub fn allowed(url: &str, base_url: &str) -> bool {
    let Ok(u) = reqwest::Url::parse(url) else {
        return false;
    };
    let same_origin = reqwest::Url::parse(base_url)
        .map(|b| b.origin() == u.origin())
        .unwrap_or(false);
    if same_origin {
        return true;
    }
    if u.scheme() != "https" {
        return false;
    }
    let Some(host) = u.host_str() else {
        return false;
    };
    match host.trim_matches(['[', ']']).parse::<IpAddr>() {
        Ok(ip) => public_ip(ip),
        Err(_) => host != "localhost" && !host.ends_with(".localhost"),
    }
}

fn public_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation())
        }
        IpAddr::V6(v6) => {
            !(v6.is_loopback()
                || v6.is_unspecified()
                || (v6.segments()[0] & 0xfe00) == 0xfc00 // unique local
                || (v6.segments()[0] & 0xffc0) == 0xfe80) // link local
        }
    }
}

/// The avatar file already downloaded for `url`, if any (`<stem>.<ext>`).
fn on_disk(dir: &Path, url: &str) -> Option<String> {
    let stem = stem(url);
    EXTENSIONS
        .iter()
        .map(|ext| format!("{stem}.{ext}"))
        .find(|name| dir.join(name).is_file())
}

/// What [`download`] did.
#[derive(Debug, Default)]
pub struct Downloaded {
    /// Avatar URL → file name under [`AVATAR_DIR`], for every avatar on disk.
    pub files: BTreeMap<String, String>,
    /// Files written in this run.
    pub written: usize,
    /// Avatars that could not be fetched or were refused; their comments
    /// show without one.
    pub failed: Vec<FetchError>,
}

/// Makes sure every avatar of `threads` (network name, its server's URL,
/// the thread) is in [`AVATAR_DIR`], downloading the missing ones
/// `concurrency` at a time per run.
pub fn download(
    root: &Path,
    http: &Http,
    threads: &[(&str, &str, &NetworkThread)],
    concurrency: usize,
) -> Result<Downloaded> {
    let dir = root.join(AVATAR_DIR);
    let mut out = Downloaded::default();
    let mut missing: BTreeSet<(&str, &str)> = BTreeSet::new();
    for (network, base_url, thread) in threads {
        for c in &thread.comments {
            let Some(url) = c.author.avatar.as_deref() else {
                continue;
            };
            if out.files.contains_key(url) || !allowed(url, base_url) {
                continue;
            }
            match on_disk(&dir, url) {
                Some(name) => {
                    out.files.insert(url.to_string(), name);
                }
                None => {
                    missing.insert((url, network));
                }
            }
        }
    }
    if missing.is_empty() {
        return Ok(out);
    }
    std::fs::create_dir_all(&dir).map_err(|e| Error::io("create folder", &dir, e))?;
    let missing: Vec<_> = missing.into_iter().collect();
    let next = AtomicUsize::new(0);
    let results = Mutex::new(Vec::with_capacity(missing.len()));
    std::thread::scope(|s| {
        for _ in 0..concurrency.clamp(1, missing.len()) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(&(url, network)) = missing.get(i) else {
                    break;
                };
                let r = fetch_one(http, network, url);
                results.lock().expect("no worker panics").push((url, r));
            });
        }
    });
    for (url, r) in results.into_inner().expect("workers are done") {
        match r {
            Ok((bytes, ext)) => {
                let name = format!("{}.{ext}", stem(url));
                crate::atomic_file::replace(&dir.join(&name), &bytes)?;
                out.files.insert(url.to_string(), name);
                out.written += 1;
            }
            Err(e) => out.failed.push(e),
        }
    }
    out.failed.sort_by(|a, b| a.url.cmp(&b.url));
    Ok(out)
}

fn fetch_one(
    http: &Http,
    network: &str,
    url: &str,
) -> std::result::Result<(Vec<u8>, &'static str), FetchError> {
    let bytes = http.get_bytes(network, url, MAX_AVATAR_BYTES)?;
    let ext = extension(&bytes).ok_or_else(|| FetchError {
        network: network.to_string(),
        url: url.to_string(),
        message: "the avatar is not a PNG, JPEG, GIF or WebP image (left out)".into(),
    })?;
    Ok((bytes, ext))
}

/// Records in each comment of `thread` the file of its author's avatar
/// (`None` when there is none on disk).
pub fn attach(thread: &mut NetworkThread, files: &BTreeMap<String, String>) {
    for c in &mut thread.comments {
        c.author.avatar_file = c
            .author
            .avatar
            .as_deref()
            .and_then(|url| files.get(url))
            .cloned();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_https_or_the_networks_own_server() {
        let base = "http://127.0.0.1:8080";
        assert!(allowed("https://files.example/a.png", base));
        assert!(allowed("http://127.0.0.1:8080/avatars/1.png", base));
        assert!(
            !allowed("http://files.example/a.png", base),
            "plain http elsewhere"
        );
        assert!(!allowed("https://127.0.0.1:9999/a.png", base));
        assert!(!allowed("https://10.0.0.8/a.png", base));
        assert!(!allowed("https://169.254.169.254/latest/meta-data", base));
        assert!(!allowed("https://[::1]/a.png", base));
        assert!(!allowed("https://[fd00::1]/a.png", base));
        assert!(!allowed("https://localhost/a.png", base));
        assert!(!allowed("file:///etc/passwd", base));
        assert!(!allowed("javascript:alert(1)", base));
    }

    #[test]
    fn only_raster_images_of_a_sane_size_are_kept() {
        let gif = |w: u16, h: u16| {
            let mut b = b"GIF89a".to_vec();
            b.extend(w.to_le_bytes());
            b.extend(h.to_le_bytes());
            b.extend([0u8; 8]);
            b
        };
        assert_eq!(extension(&gif(40, 40)), Some("gif"));
        assert_eq!(extension(&gif(0, 40)), None);
        assert_eq!(extension(&gif(40_000, 40)), None);
        assert_eq!(extension(b"<svg onload=\"alert(1)\"></svg>"), None);
        assert_eq!(extension(b"<html>"), None);
    }

    #[test]
    fn names_are_stable_hashes() {
        assert_eq!(
            stem("https://a.example/x.png"),
            stem("https://a.example/x.png")
        );
        assert_ne!(
            stem("https://a.example/x.png"),
            stem("https://a.example/y.png")
        );
        assert_eq!(stem("https://a.example/../../etc").len(), 20);
        assert!(stem("x").chars().all(|c| c.is_ascii_hexdigit()));
    }
}
