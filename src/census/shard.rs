//! Deterministic splits of the candidates: `--shard K/N` takes the packages whose name hashes
//! to K−1 modulo N, so N independent jobs (GNU parallel, a Slurm array, debusine work
//! requests) cover every candidate once, on any machine, in any order, and their
//! `results.jsonl` files concatenate.
//!
//! The hash is 64-bit FNV-1a of the package name's bytes (offset basis 0xcbf29ce484222325,
//! prime 0x100000001b3; Fowler, Noll and Vo, draft-eastlake-fnv) passed through MurmurHash3's
//! 64-bit finaliser `fmix64` (Appleby): FNV-1a alone leaves the last bytes of a name in its low
//! bits only, so names with a long common prefix (`tesseract-ocr-*`) would sit together in
//! hash order and a `--limit` sample would be one family. Fixed forever, so a shard run today
//! and one run next month agree on who does what.

use std::fmt;
use std::str::FromStr;

/// The shard hash of a package name: `fmix64(fnv1a(name))`.
pub fn name_hash(name: &str) -> u64 {
    fmix64(fnv1a(name))
}

/// 64-bit FNV-1a.
fn fnv1a(name: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in name.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// MurmurHash3's 64-bit finaliser: every input bit reaches every output bit.
fn fmix64(mut hash: u64) -> u64 {
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xff51_afd7_ed55_8ccd);
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    hash ^= hash >> 33;
    hash
}

/// Shard `index` (1-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    /// The whole census: one shard.
    pub const WHOLE: Shard = Shard { index: 1, count: 1 };

    /// Whether package `name` belongs to this shard.
    pub fn contains(&self, name: &str) -> bool {
        name_hash(name) % self.count == self.index - 1
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let bad = || format!("--shard {text:?}: expected K/N with 1 ≤ K ≤ N, as in 2/4");
        let (index, count) = text.split_once('/').ok_or_else(bad)?;
        let index: u64 = index.trim().parse().map_err(|_| bad())?;
        let count: u64 = count.trim().parse().map_err(|_| bad())?;
        if count == 0 || index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_the_published_test_vectors() {
        // draft-eastlake-fnv, test vectors for FNV-1a 64.
        assert_eq!(fnv1a(""), 0xcbf29ce484222325);
        assert_eq!(fnv1a("a"), 0xaf63dc4c8601ec8c);
        assert_eq!(fnv1a("foobar"), 0x85944171f73967e8);
        // fmix64 is a bijection fixing 0; its value on 1 as the reference code computes it.
        assert_eq!(fmix64(0), 0);
        assert_eq!(fmix64(1), 0xb456bcfc34c2cb2c);
    }

    #[test]
    fn a_common_prefix_does_not_cluster_names_in_hash_order() {
        // 26 names of one family among 26 others: in hash order the family's names are
        // spread, not one run (FNV-1a alone put them together in its high bits).
        let mut names: Vec<String> = (b'a'..=b'z')
            .map(|c| format!("tesseract-ocr-{}", c as char))
            .chain((b'a'..=b'z').map(|c| format!("{}pkg", c as char)))
            .collect();
        names.sort_by_key(|n| name_hash(n));
        let family_in_first_half = names[..26]
            .iter()
            .filter(|n| n.starts_with("tesseract"))
            .count();
        assert!((6..=20).contains(&family_in_first_half), "{names:?}");
    }

    #[test]
    fn shards_partition_the_names() {
        let names: Vec<String> = (0..200).map(|i| format!("pkg{i}")).collect();
        for name in &names {
            let owners = (1..=4)
                .filter(|k| {
                    Shard {
                        index: *k,
                        count: 4,
                    }
                    .contains(name)
                })
                .count();
            assert_eq!(owners, 1, "{name}");
            assert!(Shard::WHOLE.contains(name));
        }
        assert_eq!("2/4".parse::<Shard>(), Ok(Shard { index: 2, count: 4 }));
        for bad in ["0/4", "5/4", "1/0", "x", "1/"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }
}
