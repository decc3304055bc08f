//! Freeing what a build no longer needs, off its path.
//!
//! A large site is millions of small allocations, and freeing them takes
//! tens of milliseconds that nothing waits for. A long-lived process (`herald
//! serve`, the tests) frees them on a thread of its own; a process that ends
//! after its build (`herald build`, `herald check`) does not free them at
//! all: its exit hands all its memory back at once, which is what freeing it
//! would end in.

use std::sync::atomic::{AtomicBool, Ordering};

static ENDS_AFTER_BUILD: AtomicBool = AtomicBool::new(false);

/// Declares that this process ends once its build is done: from now on
/// [`free_later`] keeps what it is given until the exit.
pub fn process_ends_after_build() {
    ENDS_AFTER_BUILD.store(true, Ordering::Relaxed);
}

/// Frees `value` off the caller's path: on a thread of its own, or, in a
/// process that ends after its build, with the process. Only for plain data:
/// nothing whose `Drop` must run (a file to flush, a folder to remove).
pub fn free_later<T: Send + 'static>(value: T) {
    if ENDS_AFTER_BUILD.load(Ordering::Relaxed) {
        std::mem::forget(value);
    } else {
        std::thread::spawn(move || drop(value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    struct Tells(mpsc::Sender<()>);

    impl Drop for Tells {
        fn drop(&mut self) {
            let _ = self.0.send(());
        }
    }

    #[test]
    fn a_long_lived_process_frees_what_it_is_given() {
        // The tests never declare that the process ends after a build.
        let (tx, rx) = mpsc::channel();
        free_later(Tells(tx));
        assert!(rx.recv_timeout(Duration::from_secs(10)).is_ok());
    }
}
