//! Pickle analysis without unpickling: walks the opcodes with a simulated stack and memo.
//!
//! Every opcode of protocols 0–5 (CPython's `pickletools`) is decoded from a stream; large
//! payloads are skipped, never kept, and only short strings are held on the simulated stack, so
//! memory stays bounded by `policy/pickle.toml` `[limits]` whatever the input size. The stack
//! and memo are simulated so that `STACK_GLOBAL` operands fetched from the memo are resolved.
//!
//! The verdict is default deny: a file is `safe` only if every global it imports is an exact
//! allow-list entry, every call is on such a global, and the stream parsed to the end. Anything
//! the analysis cannot follow (extension-registry opcodes, unresolvable `STACK_GLOBAL`s, parse
//! errors, limits reached, a second pickle hidden after the first) is `unsafe`.
//!
//! `opcode` is the opcode table and `argument` reads what follows each opcode; `machine` runs the
//! simulated stack and memo (`value`) over them, `findings` collects the globals and reasons, and
//! `joblib` follows joblib's arrays through the stream. `table` is `policy/pickle.toml`;
//! `sources` finds the pickle streams of a file (compressed, in zip members, after `.npy`
//! headers).

mod argument;
mod findings;
mod input;
mod joblib;
mod machine;
mod number;
mod opcode;
mod sources;
mod table;
mod torch;
mod value;

use std::collections::HashSet;
use std::io::Read;

use serde::{Deserialize, Serialize};

use findings::Findings;
use input::Input;
use machine::{Stop, walk_one};
use opcode::{HIGHEST_PROTOCOL, Opcode};

pub use sources::analyze_file;
pub use table::{AllowRule, DangerRule, GlobalStatus, JoblibRules, PickleLimits, PickleTable};
pub use torch::TorchTensor;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Safe,
    Unsafe,
}

/// What the opcode walk found in one file (all its pickles together).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PickleReport {
    pub verdict: Verdict,
    /// Every global imported, as `module.name`, in order of first appearance.
    pub globals: Vec<String>,
    /// Why the verdict is `unsafe`; empty when `safe`.
    pub reasons: Vec<String>,
}

impl PickleReport {
    /// Combines the reports of several streams of one file (archive members), naming the
    /// member in each reason. Globals are listed once, in order of first appearance.
    pub fn merge<I, S>(parts: I) -> PickleReport
    where
        I: IntoIterator<Item = (S, PickleReport)>,
        S: AsRef<str>,
    {
        let mut globals = Vec::new();
        let mut seen = HashSet::new();
        let mut reasons = Vec::new();
        for (member, report) in parts {
            for global in report.globals {
                if seen.insert(global.clone()) {
                    globals.push(global);
                }
            }
            let member = member.as_ref();
            reasons.extend(
                report
                    .reasons
                    .into_iter()
                    .map(|reason| format!("{member}: {reason}")),
            );
        }
        PickleReport {
            verdict: if reasons.is_empty() {
                Verdict::Safe
            } else {
                Verdict::Unsafe
            },
            globals,
            reasons,
        }
    }
}

/// How many pickles a stream holds, and what may follow them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// One pickle (plain pickle, joblib, `data.pkl`, object `.npy`). Data after its `STOP` is
    /// checked: if it parses as a pickle, it is a hidden second one.
    One,
    /// PyTorch's legacy (pre-1.6) format: magic number, protocol version, system info, the
    /// object, storage keys — five pickles — then raw storage bytes that are not pickles.
    Legacy,
}

/// Pickles in a legacy PyTorch file (`torch/serialization.py` `_legacy_save`).
const LEGACY_PICKLES: usize = 5;

/// Analyses the pickle stream in `reader`. Offsets in reasons count bytes from the start of
/// the stream.
pub fn analyze(table: &PickleTable, reader: impl Read, expect: Expect) -> PickleReport {
    let mut input = Input::new(reader);
    let mut findings = Findings::new(table);
    match expect {
        Expect::One => {
            if let Err(stop) = walk_one(&mut findings, &mut input) {
                findings.stopped(stop);
                return findings.finish();
            }
            inspect_trailing(table, &mut findings, &mut input);
        }
        Expect::Legacy => {
            for _ in 0..LEGACY_PICKLES {
                if let Err(stop) = walk_one(&mut findings, &mut input) {
                    findings.stopped(stop);
                    break;
                }
            }
        }
    }
    findings.finish()
}

/// The tensor layouts of a `torch.save` `data.pkl` stream, at most `max_tensors` (more is a
/// reason), with the walk's report: the layouts are only trusted by callers when the report
/// is `safe` (a stream the analysis could not follow to its end may describe anything).
pub fn torch_tensors(
    table: &PickleTable,
    reader: impl Read,
    max_tensors: usize,
) -> (Vec<TorchTensor>, PickleReport) {
    let mut input = Input::new(reader);
    let mut findings = Findings::new(table);
    findings.tensor_cap = Some(max_tensors);
    match walk_one(&mut findings, &mut input) {
        Ok(()) => inspect_trailing(table, &mut findings, &mut input),
        Err(stop) => findings.stopped(stop),
    }
    let tensors = std::mem::take(&mut findings.tensors);
    (tensors, findings.finish())
}

/// How the opcode walk over the first bytes of a stream went: the one test of "is this a
/// pickle" for both format identification and the search for pickles inside files.
///
/// `walked` counts the opcodes executed without error. `executes` is set when the walk
/// imported a global the table knows as dangerous, or called a global not on the allow-list:
/// CPython has already run it when a later byte fails, so the stream is a pickle whatever
/// follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniff {
    /// A whole pickle, up to `STOP`.
    Stop,
    /// The bytes ran out before `STOP` with no error so far. `announced` when the stream
    /// starts with PROTO; `long` when it is announced or passed `SNIFF_OPCODES` valid opcodes.
    Cut {
        announced: bool,
        long: bool,
        imports: bool,
        walked: u64,
        executes: bool,
    },
    /// Not a valid pickle. `imports` (here and in `Cut`) when the walk imported a global
    /// spelled as Python names first (a payload followed by garbage).
    Invalid {
        imports: bool,
        walked: u64,
        executes: bool,
    },
}

impl Sniff {
    /// Whether a stream whose first bytes walked this way holds a pickle to analyse (`complete`:
    /// the bytes are the whole stream). Raw data (tensor storages, text) fails early or names
    /// no importable module, and could not run anything if unpickled.
    pub fn is_pickle(self, table: &PickleTable, complete: bool) -> bool {
        match self {
            Sniff::Stop => true,
            Sniff::Cut { long, imports, .. } if (long && !complete) || imports => true,
            Sniff::Invalid { imports: true, .. } => true,
            Sniff::Cut {
                walked, executes, ..
            }
            | Sniff::Invalid {
                walked, executes, ..
            } => executes || walked >= table.limits.identify_opcodes,
        }
    }

    /// Whether format identification, which looks at every file, reports the stream as a
    /// pickle: one walked to `STOP`, one PROTO announced, one that walked `identify-opcodes`
    /// (`policy/pickle.toml`) without error (whatever comes after: an error there makes the
    /// analysis `unsafe`), and one that ran something before failing. Text can walk a short way
    /// (every line of `Permission is…` is a PERSID) and read as an import (`cat\ndog\n` is a
    /// GLOBAL), but neither far nor into a dangerous one.
    pub fn identified(self, table: &PickleTable) -> bool {
        match self {
            Sniff::Stop
            | Sniff::Cut {
                announced: true, ..
            } => true,
            Sniff::Cut {
                walked, executes, ..
            }
            | Sniff::Invalid {
                walked, executes, ..
            } => executes || walked >= table.limits.identify_opcodes,
        }
    }
}

/// The protocol a stream announces with PROTO as its first opcode, when it is one CPython knows.
/// Protocols 0 and 1 announce nothing.
pub fn announced_protocol(head: &[u8]) -> Option<u8> {
    match *head {
        [first, protocol, ..] if first == Opcode::Proto as u8 && protocol <= HIGHEST_PROTOCOL => {
            Some(protocol)
        }
        _ => None,
    }
}

/// Walks the opcodes of `head`, the first bytes of a stream, as the analysis would.
pub fn sniff(table: &PickleTable, head: &[u8]) -> Sniff {
    let announced = announced_protocol(head).is_some();
    let mut findings = Findings::new(table);
    let result = walk_one(&mut findings, &mut Input::new(head));
    // Whether it imported a global spelled as Python names (a payload followed by garbage).
    let imports = findings
        .globals
        .iter()
        .any(|global| python_dotted_name(&global.display));
    let executes = findings.executes;
    // Lines of text starting with `P` walk as PERSIDs, which a plain `pickle.load` rejects:
    // they do not make a stream a pickle.
    let walked = findings.opcodes - findings.persistent_ids;
    match result {
        Ok(()) => Sniff::Stop,
        Err(Stop::Eof { .. }) => Sniff::Cut {
            announced,
            long: announced || findings.opcodes >= SNIFF_OPCODES,
            imports,
            // Counts an opcode whose argument ran out: one more at most.
            walked,
            executes,
        },
        // The failing opcode was counted.
        Err(_) => Sniff::Invalid {
            imports,
            walked: walked.saturating_sub(1),
            executes,
        },
    }
}

/// Valid opcodes that make an unannounced stream cut by the sniff window a pickle: raw data
/// hits an invalid opcode or a stack underflow long before.
const SNIFF_OPCODES: u64 = 8;

/// `a.b.c` where every part is a Python identifier: what `import` could find.
fn python_dotted_name(text: &str) -> bool {
    text.split('.').all(|part| {
        let mut chars = part.chars();
        chars
            .next()
            .is_some_and(|first| first.is_alphabetic() || first == '_')
            && chars.all(|c| c.is_alphanumeric() || c == '_')
    })
}

/// Looks at what follows a pickle's `STOP`. A loader that reads the stream again runs a second
/// pickle, so trailing data that parses as one is never safe; data that does not parse (array
/// bytes, padding) is left alone unless the part that did parse imports something not allowed.
fn inspect_trailing<R: Read>(table: &PickleTable, findings: &mut Findings, input: &mut Input<R>) {
    loop {
        match input.at_eof() {
            Ok(true) => return,
            Ok(false) => {}
            Err(err) => {
                findings.stopped(Stop::io(input.pos, &err));
                return;
            }
        }
        let start = input.pos;
        let mut trailing = Findings::new(table);
        let parsed = walk_one(&mut trailing, input);
        match parsed {
            Ok(()) => {
                findings.reason(format!(
                    "a second pickle starts at byte {start}, after the first one's STOP \
                     (a loader reading on runs it)"
                ));
                findings.absorb(trailing, None);
            }
            Err(_) => {
                let note = format!("in data after the pickle (from byte {start})");
                findings.absorb(trailing, Some(&note));
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests;
