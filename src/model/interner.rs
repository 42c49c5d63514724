//! Values stored once each and known by their number: the run's words and its IDs. A chunk
//! normalized on another thread interns into its own table, which the run's absorbs by the
//! hashes the chunk computed, so the merging thread never hashes a value again.

use std::borrow::Borrow;
use std::hash::{BuildHasher, BuildHasherDefault, Hash};
use std::sync::Arc;

use super::FastHasher;

#[derive(Debug)]
pub struct Interner<T> {
    /// Shared once sealed (`Interner::shared`): the linker reads the run's IDs in place.
    items: Arc<Vec<T>>,
    /// Each value's hash, so that the index grows without hashing the values again.
    hashes: Vec<u64>,
    index: hashbrown::HashTable<u32>,
    state: State,
}

/// What an interner still does: once the records are made, no value is added.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Open,
    /// Values are read and found by their text, not added.
    Findable,
    /// Values are read by their number only.
    ReadOnly,
}

impl<T> Default for Interner<T> {
    fn default() -> Interner<T> {
        Interner {
            items: Arc::new(Vec::new()),
            hashes: Vec::new(),
            index: hashbrown::HashTable::new(),
            state: State::Open,
        }
    }
}

fn hash_of<Q: Hash + ?Sized>(key: &Q) -> u64 {
    BuildHasherDefault::<FastHasher>::default().hash_one(key)
}

impl<T> Interner<T> {
    /// The number of `key`, stored as `make(key)` when new.
    pub fn intern<Q>(&mut self, key: &Q, make: impl FnOnce(&Q) -> T) -> u32
    where
        T: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.intern_hashed(key, hash_of(key), make)
    }

    fn intern_hashed<Q>(&mut self, key: &Q, hash: u64, make: impl FnOnce(&Q) -> T) -> u32
    where
        T: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        assert_eq!(self.state, State::Open, "values are added before sealing");
        let Interner {
            items,
            hashes,
            index,
            ..
        } = self;
        let entry = index.entry(
            hash,
            |&n| items[n as usize].borrow() == key,
            |&n| hashes[n as usize],
        );
        match entry {
            hashbrown::hash_table::Entry::Occupied(found) => *found.get(),
            hashbrown::hash_table::Entry::Vacant(vacant) => {
                let n = items.len() as u32;
                Arc::get_mut(items)
                    .expect("an open interner's values are not shared")
                    .push(make(key));
                hashes.push(hash);
                vacant.insert(n);
                n
            }
        }
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Lets go of what adding values needs (the hashes; with `State::ReadOnly` the index
    /// too): a province's IDs and words are tens of millions.
    pub fn seal(&mut self, state: State) {
        self.state = state;
        self.hashes = Vec::new();
        if state == State::ReadOnly {
            self.index = hashbrown::HashTable::new();
        }
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The values, by their numbers, to read without copying them.
    pub fn shared(&self) -> Arc<Vec<T>> {
        Arc::clone(&self.items)
    }

    pub fn get(&self, n: u32) -> &T {
        &self.items[n as usize]
    }

    pub fn find<Q>(&self, key: &Q) -> Option<u32>
    where
        T: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        assert_ne!(
            self.state,
            State::ReadOnly,
            "values are found before sealing them away"
        );
        let items = &self.items;
        (self.index)
            .find(hash_of(key), |&n| items[n as usize].borrow() == key)
            .copied()
    }

    /// Takes in another table's values: what each of its numbers is here.
    pub fn absorb<Q>(&mut self, other: &Interner<T>, make: impl Fn(&Q) -> T) -> Vec<u32>
    where
        T: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        (other.items.iter().zip(&other.hashes))
            .map(|(item, &hash)| self.intern_hashed(item.borrow(), hash, &make))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interned(texts: &[&str]) -> Interner<Box<str>> {
        let mut interner = Interner::default();
        for text in texts {
            interner.intern(*text, |t: &str| t.into());
        }
        interner
    }

    #[test]
    fn a_findable_interner_reads_and_finds_what_it_held() {
        let mut words = interned(&["甲", "乙", "甲"]);
        words.seal(State::Findable);
        assert_eq!(words.len(), 2);
        assert_eq!(&**words.get(1), "乙");
        assert_eq!(words.find("甲"), Some(0));
        assert_eq!(words.find("丙"), None);
    }

    #[test]
    #[should_panic(expected = "values are added before sealing")]
    fn a_sealed_interner_takes_no_new_value() {
        let mut words = interned(&["甲"]);
        words.seal(State::Findable);
        words.intern("乙", |t: &str| t.into());
    }

    #[test]
    #[should_panic(expected = "values are found before sealing them away")]
    fn a_read_only_interner_is_not_searched() {
        let mut ids = interned(&["甲"]);
        ids.seal(State::ReadOnly);
        assert_eq!(&**ids.get(0), "甲");
        ids.find("甲");
    }
}
