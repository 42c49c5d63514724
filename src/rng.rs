//! A small deterministic random stream (SplitMix64). The synthetic world draws one stream per
//! household and the linker one per sample, each seeded by a seed and an index, so results never
//! depend on the thread count.

pub struct Rng(u64);

impl Rng {
    pub fn for_item(seed: u64, stream: u64, index: u64) -> Rng {
        let mut rng = Rng(seed
            ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ index.wrapping_mul(0xD1B5_4A32_D192_ED03));
        rng.next_u64();
        rng
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        self.next_u64() % n
    }

    pub fn chance(&mut self, p: f64) -> bool {
        let unit = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        unit < p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let draw = |seed, index| {
            (0..4)
                .map(|_| Rng::for_item(seed, 1, index).next_u64())
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(7, 3), draw(7, 3));
        assert_ne!(
            Rng::for_item(7, 1, 3).next_u64(),
            Rng::for_item(7, 1, 4).next_u64()
        );
        let mut rng = Rng::for_item(1, 1, 1);
        let hits = (0..10_000).filter(|_| rng.chance(0.3)).count();
        assert!((2700..3300).contains(&hits), "{hits}");
    }
}
