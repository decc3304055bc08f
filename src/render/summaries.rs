//! Each page's summary as JSON, made once and lent to the outputs that show
//! it rather than copied into each of them.
//!
//! A page's summary is in its own page's context and in every list that
//! shows the page: at ten thousand pages, copying JSON trees into those
//! contexts (with the shared context, see `context.rs`) was about a quarter
//! of a full build's CPU. An output borrows the
//! summary, renders, and gives it back. When another output holds it at
//! that moment (two lists rendered at once on two cores), the borrower
//! gets a fresh copy instead, so a summary is never waited for.

use serde_json::Value;
use std::sync::{Mutex, MutexGuard};

/// The summaries of a site's pages, by page index.
pub(super) struct Summaries {
    slots: Vec<Mutex<Slot>>,
}

enum Slot {
    /// Not made yet.
    Unmade,
    Here(Value),
    /// Lent to an output that has not given it back yet.
    Lent,
}

impl Summaries {
    /// Room for `n` pages' summaries, none made yet.
    pub fn new(n: usize) -> Summaries {
        Summaries {
            slots: (0..n).map(|_| Mutex::new(Slot::Unmade)).collect(),
        }
    }

    /// The summary of page `i`, made by `make` if it is not here. It should
    /// be given back with [`Summaries::give_back`] once rendered; one that
    /// is not is made again when next needed.
    pub fn lend(&self, i: usize, make: impl FnOnce() -> Value) -> Value {
        let mut slot = self.slot(i);
        match std::mem::replace(&mut *slot, Slot::Lent) {
            Slot::Here(v) => v,
            Slot::Unmade | Slot::Lent => {
                drop(slot);
                make()
            }
        }
    }

    /// Gives back page `i`'s summary (or a copy of it) once rendered.
    pub fn give_back(&self, i: usize, v: Value) {
        let mut slot = self.slot(i);
        if let Slot::Lent | Slot::Unmade = *slot {
            *slot = Slot::Here(v);
        }
    }

    fn slot(&self, i: usize) -> MutexGuard<'_, Slot> {
        // A panic elsewhere cannot leave a slot half-written: it is replaced whole.
        self.slots[i].lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::cell::Cell;

    #[test]
    fn a_summary_is_made_once_and_lent_again_once_given_back() {
        let s = Summaries::new(2);
        let made = Cell::new(0);
        let make = || {
            made.set(made.get() + 1);
            json!({"title": "A"})
        };
        let v = s.lend(0, make);
        s.give_back(0, v);
        let v = s.lend(0, make);
        assert_eq!(v, json!({"title": "A"}));
        assert_eq!(
            made.get(),
            1,
            "given back, it is lent again, not made again"
        );
    }

    #[test]
    fn a_summary_out_on_loan_is_made_afresh_for_a_second_borrower() {
        let s = Summaries::new(1);
        let first = s.lend(0, || json!(1));
        let second = s.lend(0, || json!(2));
        assert_eq!((first.clone(), second.clone()), (json!(1), json!(2)));
        s.give_back(0, second);
        s.give_back(0, first);
        // The first given back stays; the second is dropped.
        assert_eq!(s.lend(0, || json!(3)), json!(2));
    }
}
