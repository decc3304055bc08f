//! The pixel size of the images an entry shows, read from their headers, so
//! that pages say `width` and `height` and do not jump as images load.

use std::path::{Component, Path, PathBuf};

/// Where the file behind image URL `url`, written in the Markdown file `file`
/// (relative to `root`), is on disk: beside the page for a relative URL
/// (page bundles), under `static/`, `content/` or the theme's `static/` for a
/// URL starting with `/`. None for remote images and for URLs that climb out
/// with `..`.
pub fn image_file(root: &Path, theme: &str, file: &Path, url: &str) -> Option<PathBuf> {
    let url = url.split(['?', '#']).next().unwrap_or(url);
    if url.is_empty() || url.contains(':') || url.starts_with("//") {
        return None;
    }
    let rel = Path::new(url.trim_start_matches('/'));
    if rel
        .components()
        .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return None;
    }
    if url.starts_with('/') {
        let candidates = [
            root.join("static"),
            root.join(super::CONTENT_DIR),
            root.join("themes").join(theme).join("static"),
        ];
        candidates.iter().map(|d| d.join(rel)).find(|p| p.is_file())
    } else {
        Some(root.join(file).parent()?.join(rel)).filter(|p| p.is_file())
    }
}

/// The width and height of the image `url` of `file`, when it is a local
/// image whose header says.
pub fn image_size(root: &Path, theme: &str, file: &Path, url: &str) -> Option<(usize, usize)> {
    size_of(&image_file(root, theme, file, url)?)
}

/// The width and height the header of the image file `path` gives.
pub fn size_of(path: &Path) -> Option<(usize, usize)> {
    let size = imagesize::size(path).ok()?;
    Some((size.width, size.height))
}

#[cfg(test)]
mod tests {
    use super::*;

    // The smallest valid PNG header: signature, IHDR with 3 × 2 pixels.
    const PNG_3X2: &[u8] = &[
        0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0,
        0, 3, 0, 0, 0, 2, 8, 6, 0, 0, 0, 0, 0, 0, 0,
    ];

    #[test]
    fn bundle_static_and_remote_images() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("content/news/launch")).unwrap();
        std::fs::create_dir_all(root.join("static/img")).unwrap();
        std::fs::write(root.join("content/news/launch/board.png"), PNG_3X2).unwrap();
        std::fs::write(root.join("static/img/logo.png"), PNG_3X2).unwrap();
        let page = Path::new("content/news/launch/index.md");
        assert_eq!(image_size(root, "default", page, "board.png"), Some((3, 2)));
        assert_eq!(
            image_size(root, "default", page, "./board.png?v=2"),
            Some((3, 2))
        );
        assert_eq!(
            image_size(root, "default", page, "/img/logo.png"),
            Some((3, 2))
        );
        assert_eq!(image_size(root, "default", page, "missing.png"), None);
        assert_eq!(
            image_size(root, "default", page, "https://x.example/board.png"),
            None
        );
        assert_eq!(
            image_size(root, "default", page, "../launch/board.png"),
            None
        );
        std::fs::write(root.join("content/news/launch/not-an-image.png"), "text").unwrap();
        assert_eq!(image_size(root, "default", page, "not-an-image.png"), None);
    }
}
