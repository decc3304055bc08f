//! Input keys: a 128-bit hash of everything that decides an output's bytes.
//!
//! A rebuild compares the key of each output with the one the last build
//! recorded; when they match, the output is not rendered again. A key must
//! therefore take in *every* input of what it stands for: the safest inputs
//! are the finished ones (the whole template context, not the fields picked
//! out of it), plus [`build_id`] so that a new Herald renders everything.

use serde::Serialize;
use std::sync::OnceLock;
use xxhash_rust::xxh3::Xxh3;

/// A hash of the inputs of one output, built up piece by piece.
#[derive(Clone)]
pub struct InputKey {
    hash: Xxh3,
    /// Small writes gather here: JSON comes in pieces of a few bytes, and
    /// hashing each alone would cost more than rendering.
    buf: Vec<u8>,
}

const BUF: usize = 8 * 1024;

impl InputKey {
    /// A key for one kind of output (`kind` keeps kinds apart).
    pub fn new(kind: &str) -> Self {
        let mut k = InputKey {
            hash: Xxh3::new(),
            // Most keys are a few hundred bytes: tens of thousands of
            // buffers of `BUF` bytes each were megabytes of fresh memory.
            buf: Vec::with_capacity(512),
        };
        k.u128(build_id()).str(kind);
        k
    }

    /// Adds a string (length first, so `"ab", "c"` differs from `"a", "bc"`).
    pub fn str(&mut self, s: &str) -> &mut Self {
        self.bytes(s.as_bytes())
    }

    /// Adds bytes, length first.
    pub fn bytes(&mut self, b: &[u8]) -> &mut Self {
        self.take(&(b.len() as u64).to_le_bytes());
        self.take(b);
        self
    }

    fn take(&mut self, b: &[u8]) {
        if self.buf.len() + b.len() > BUF {
            self.hash.update(&self.buf);
            self.buf.clear();
        }
        if b.len() >= BUF {
            self.hash.update(b);
        } else {
            self.buf.extend_from_slice(b);
        }
    }

    /// Adds a number (or an earlier key).
    pub fn u128(&mut self, n: u128) -> &mut Self {
        self.take(&n.to_le_bytes());
        self
    }

    /// Adds a value as its JSON text: what a template sees of it.
    pub fn json(&mut self, value: &(impl Serialize + ?Sized)) -> &mut Self {
        serde_json::to_writer(&mut *self, value).expect("views serialize");
        // A separator, so two values never run into each other.
        self.take(&[0xff]);
        self
    }

    /// The key.
    pub fn finish(&self) -> u128 {
        let mut h = self.hash.clone();
        h.update(&self.buf);
        h.digest128()
    }
}

impl std::io::Write for InputKey {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.take(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Which Herald this is: its version and, for builds made between versions,
/// the size and modification time of its executable. A different Herald may
/// render the same inputs differently, so nothing it rendered is reused.
pub fn build_id() -> u128 {
    static ID: OnceLock<u128> = OnceLock::new();
    *ID.get_or_init(|| {
        let mut h = Xxh3::new();
        h.update(env!("CARGO_PKG_VERSION").as_bytes());
        if let Some(m) = std::env::current_exe()
            .ok()
            .and_then(|p| std::fs::metadata(p).ok())
        {
            h.update(&m.len().to_le_bytes());
            let mtime = m
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            h.update(&mtime.to_le_bytes());
        }
        h.digest128()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_tell_inputs_apart() {
        let k = |parts: &[&str]| {
            let mut k = InputKey::new("t");
            for p in parts {
                k.str(p);
            }
            k.finish()
        };
        assert_eq!(k(&["a", "b"]), k(&["a", "b"]));
        assert_ne!(k(&["ab", "c"]), k(&["a", "bc"]));
        assert_ne!(k(&["a"]), k(&["a", ""]));
        let mut a = InputKey::new("page");
        let mut b = InputKey::new("list");
        assert_ne!(a.str("x").finish(), b.str("x").finish());
    }

    #[test]
    fn json_keys_follow_the_value() {
        let key = |v: serde_json::Value| InputKey::new("t").json(&v).finish();
        let v = serde_json::json!({"title": "Launch", "tags": ["a"]});
        assert_eq!(key(v.clone()), key(v));
        assert_ne!(
            key(serde_json::json!({"title": "Launch"})),
            key(serde_json::json!({"title": "Launch!"}))
        );
    }
}
