//! A SplitMix64 generator, written here so that a population never changes with a library
//! upgrade: only integer and basic IEEE float operations, which are the same everywhere.

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// The SplitMix64 finaliser: a bijection on u64 that scatters nearby inputs.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

pub(crate) struct Rng(u64);

impl Rng {
    /// An independent stream per (seed, household, purpose): a household never depends on
    /// how many draws another one made, and the dirt stream never shifts the clean data.
    pub(crate) fn new(seed: u64, index: u64, salt: u64) -> Rng {
        Rng(mix(
            mix(seed ^ salt).wrapping_add(index.wrapping_mul(GOLDEN))
        ))
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GOLDEN);
        mix(self.0)
    }

    /// Uniform in `0..n` (Lemire's multiply-shift; the bias is below 2^-40 for our n).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    pub(crate) fn between(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }

    /// Uniform in [0, 1).
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// A standard normal, approximately (Irwin–Hall, 12 uniforms): no `ln`/`cos`, whose last
    /// bit may differ between C libraries.
    pub(crate) fn normal(&mut self) -> f64 {
        (0..12).map(|_| self.unit()).sum::<f64>() - 6.0
    }

    pub(crate) fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }

    /// An index drawn with the given integer weights.
    pub(crate) fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u32 = weights.iter().sum();
        let mut x = self.below(u64::from(total)) as u32;
        for (i, &w) in weights.iter().enumerate() {
            if x < w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    }
}

/// What an id derived from the household index is for: each gets its own multiplier, so
/// that a household's phone, CNIE and references do not share digits.
#[derive(Clone, Copy)]
pub(crate) enum Key {
    Cnie = 0,
    Phone = 1,
    Reference = 2,
    Account = 3,
}

/// A bijection of `0..modulus` (affine map with a multiplier prime to the modulus), so that
/// ids derived from the household index are unique but do not look sequential.
pub(crate) fn scramble(x: u64, modulus: u64, key: Key) -> u64 {
    // Prime to 2, 5 and 13, hence to every modulus used, with irregular low digits.
    const A: [u128; 4] = [
        1_663_012_956_656_965_319,
        1_104_218_398_237_397_673,
        207_757_026_291_106_651,
        1_266_834_398_482_705_207,
    ];
    const B: u128 = 2_685_821_657_736_338_717;
    ((u128::from(x % modulus) * A[key as usize] + B) % u128::from(modulus)) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = (0..4).map(|_| Rng::new(1, 2, 3).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(Rng::new(1, 2, 3).next_u64(), Rng::new(1, 3, 3).next_u64());
        assert_ne!(Rng::new(1, 2, 3).next_u64(), Rng::new(2, 2, 3).next_u64());
    }

    #[test]
    fn draws_stay_in_range() {
        let mut r = Rng::new(7, 0, 0);
        for _ in 0..10_000 {
            assert!(r.below(10) < 10);
            assert!((3..=5).contains(&r.between(3, 5)));
            assert!((0.0..1.0).contains(&r.unit()));
            assert!(r.normal().abs() <= 6.0);
        }
        assert_eq!(r.weighted(&[0, 5, 0]), 1);
    }

    #[test]
    fn scramble_is_a_bijection() {
        // 2^5 × 5^5 × 13: the prime factors of every modulus used.
        let n = 100_000 * 13;
        for key in [Key::Cnie, Key::Phone, Key::Reference, Key::Account] {
            let mut seen = vec![false; n as usize];
            for x in 0..n {
                let y = scramble(x, n, key);
                assert!(!seen[y as usize]);
                seen[y as usize] = true;
            }
        }
    }
}
