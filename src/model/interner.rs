//! Values stored once each and known by their number: the run's words and its IDs. A chunk
//! normalized on another thread interns into its own table, which the run's absorbs by the
//! hashes the chunk computed, so the merging thread never hashes a value again.

use std::borrow::Borrow;
use std::hash::{BuildHasher, BuildHasherDefault, Hash};

use super::FastHasher;

#[derive(Debug)]
pub struct Interner<T> {
    items: Vec<T>,
    hashes: Vec<u64>,
    index: hashbrown::HashTable<u32>,
}

impl<T> Default for Interner<T> {
    fn default() -> Interner<T> {
        Interner {
            items: Vec::new(),
            hashes: Vec::new(),
            index: hashbrown::HashTable::new(),
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
        let Interner {
            items,
            hashes,
            index,
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
                items.push(make(key));
                hashes.push(hash);
                vacant.insert(n);
                n
            }
        }
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn get(&self, n: u32) -> &T {
        &self.items[n as usize]
    }

    pub fn find<Q>(&self, key: &Q) -> Option<u32>
    where
        T: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
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
