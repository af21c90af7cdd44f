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

mod opcode;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{self, BufRead, BufReader, Read};

use serde::{Deserialize, Serialize};

use opcode::{HIGHEST_PROTOCOL, Opcode};

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

/// `policy/pickle.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PickleTable {
    pub limits: PickleLimits,
    #[serde(default)]
    pub module_renames: BTreeMap<String, String>,
    pub allow: Vec<AllowRule>,
    pub dangerous: Vec<DangerRule>,
    #[serde(default)]
    pub dangerous_attributes: BTreeMap<String, String>,
    pub joblib: JoblibRules,
}

/// How joblib's raw array data is found in its pickle stream.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct JoblibRules {
    /// Globals whose objects, once their state is set (BUILD), are followed by array bytes.
    pub array_wrappers: Vec<String>,
    /// Globals that build a NumPy dtype from a type code such as `f8`.
    pub dtype_constructors: Vec<String>,
}

/// Bounds on what the analysis keeps in memory.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PickleLimits {
    pub max_string_bytes: usize,
    pub max_stack_items: usize,
    pub max_memo_entries: usize,
    pub max_memo_string_bytes: usize,
    pub max_globals: usize,
    pub max_reasons: usize,
}

/// Globals a data-only pickle may import: exact `(module, name)` pairs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AllowRule {
    pub module: String,
    pub names: Vec<String>,
    /// When not empty, a call passing a second argument must pass one of these literal strings
    /// (the encoding of `_codecs.encode(text, "latin1")`).
    #[serde(default)]
    pub encoding_argument: Vec<String>,
}

/// Globals known to be dangerous, and what they do.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DangerRule {
    pub module: String,
    /// Attribute names, possibly dotted; `*` covers the whole module and its sub-modules.
    pub names: Vec<String>,
    pub effect: String,
}

impl PickleTable {
    /// Index of the allow-list entry naming exactly `module.name`.
    fn allow_rule(&self, module: &str, name: &str) -> Option<usize> {
        self.allow
            .iter()
            .position(|rule| rule.module == module && rule.names.iter().any(|n| n == name))
    }

    /// What a global does, if it is known to be dangerous. `path` is the normalised module's
    /// components followed by the name's.
    fn danger(&self, path: &[&str], module_parts: usize) -> Option<&str> {
        if let Some(effect) = self.danger_at(path) {
            return Some(effect);
        }
        if let Some(effect) = path
            .iter()
            .find_map(|part| self.dangerous_attributes.get(*part))
        {
            return Some(effect);
        }
        // A dangerous module reached as an attribute of another one (`numpy.core._internal`
        // + `sys.modules`). Only the attribute chain is tried, so a package that merely has a
        // sub-module called `code` is not mistaken for the `code` module.
        (module_parts.max(1)..path.len()).find_map(|start| self.danger_at(&path[start..]))
    }

    fn danger_at(&self, path: &[&str]) -> Option<&str> {
        self.dangerous.iter().find_map(|rule| {
            let module: Vec<&str> = rule.module.split('.').collect();
            if path.len() < module.len() || path[..module.len()] != module[..] {
                return None;
            }
            let rest = path[module.len()..].join(".");
            let hit = rule.names.iter().any(|name| {
                name == "*"
                    || rest == *name
                    || rest
                        .strip_prefix(name.as_str())
                        .is_some_and(|tail| tail.starts_with('.'))
            });
            hit.then_some(rule.effect.as_str())
        })
    }
}

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

/// How the opcode walk over the first bytes of a stream went: the one test of "is this a
/// pickle" for both format identification and the search for pickles inside files.
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
    },
    /// Not a valid pickle. `imports` (here and in `Cut`) when the walk imported a global
    /// spelled as Python names first (a payload followed by garbage).
    Invalid { imports: bool },
}

impl Sniff {
    /// Whether a stream whose first bytes walked this way holds a pickle to analyse (`complete`:
    /// the bytes are the whole stream). Raw data (tensor storages, text) fails early or names
    /// no importable module, and could not run anything if unpickled.
    pub fn is_pickle(self, complete: bool) -> bool {
        match self {
            Sniff::Stop => true,
            Sniff::Cut { long, imports, .. } => (long && !complete) || imports,
            Sniff::Invalid { imports } => imports,
        }
    }
}

/// Walks the opcodes of `head`, the first bytes of a stream, as the analysis would.
pub fn sniff(table: &PickleTable, head: &[u8]) -> Sniff {
    let announced = matches!(head, [0x80, 0..=HIGHEST_PROTOCOL, ..]);
    let mut findings = Findings::new(table);
    let walked = walk_one(&mut findings, &mut Input::new(head));
    // Whether it imported a global spelled as Python names (a payload followed by garbage).
    let imports = findings
        .globals
        .iter()
        .any(|global| python_dotted_name(&global.display));
    match walked {
        Ok(()) => Sniff::Stop,
        Err(Stop::Eof { .. }) => Sniff::Cut {
            announced,
            long: announced || findings.opcodes >= SNIFF_OPCODES,
            imports,
        },
        Err(_) => Sniff::Invalid { imports },
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

/// Why the walk of a pickle ended early.
#[derive(Debug)]
enum Stop {
    /// The bytes are not a valid pickle.
    Parse { offset: u64, message: String },
    /// A bound from `[limits]` was reached, or the stream holds data the analysis cannot
    /// measure (a joblib array of a dtype it cannot size).
    Halt { offset: u64, message: String },
    /// The input ended before `STOP`.
    Eof { offset: u64 },
}

impl Stop {
    fn parse(offset: u64, message: impl Into<String>) -> Self {
        Stop::Parse {
            offset,
            message: message.into(),
        }
    }

    fn io(offset: u64, err: &io::Error) -> Self {
        if err.kind() == io::ErrorKind::UnexpectedEof {
            Stop::Eof { offset }
        } else {
            Stop::parse(offset, format!("read error: {err}"))
        }
    }
}

/// A simulated stack or memo value: only what the analysis needs to know.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    /// A text string; `None` when it was too long to keep, or escaped beyond our decoding.
    Text(Option<Box<str>>),
    /// An imported global: index into `Findings::globals`.
    Global(usize),
    /// An import the analysis could not name (already reported).
    Unresolved,
    /// A small tuple of flat values (call arguments), kept to check argument constraints.
    Tuple(Box<[Value]>),
    /// A small integer (array shapes, alignment).
    Int(i64),
    /// A tuple of non-negative integers: an array shape.
    Shape(Box<[u64]>),
    /// A NumPy dtype built from its type code.
    Dtype(Dtype),
    /// A dict, with the entries a joblib array wrapper's state needs.
    Dict(Box<WrapperState>),
    /// A joblib array wrapper whose state is not set yet.
    Wrapper,
    /// Anything else: numbers, bytes, containers, objects built by calls.
    Other,
}

/// Most dimensions a NumPy array has (`NPY_MAXDIMS` is 64 in NumPy 2).
const MAX_DIMS: usize = 64;

/// The layout of a NumPy dtype, from the type code its pickle passes to `numpy.dtype`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Dtype {
    /// NumPy's kind character: `f`, `i`, `u`, `b`, `c`, `m`, `M`, `S`, `U`, `V`, `O`.
    kind: u8,
    itemsize: u64,
}

impl Dtype {
    /// Parses a type code such as `f8`, `<i4`, `U5` (five characters, 20 bytes) or `O8`.
    fn parse(code: &str) -> Option<Dtype> {
        let code = code.trim_start_matches(['<', '>', '|', '=']);
        let (&kind, size) = code.as_bytes().split_first()?;
        let size: u64 = std::str::from_utf8(size).ok()?.parse().ok()?;
        let itemsize = if kind == b'U' {
            size.checked_mul(4)?
        } else {
            size
        };
        Some(Dtype { kind, itemsize })
    }
}

/// The entries of a dict that say how a joblib wrapper's array is laid out.
#[derive(Debug, Clone, Default, PartialEq)]
struct WrapperState {
    shape: Option<Box<[u64]>>,
    dtype: Option<Dtype>,
    /// `numpy_array_alignment_bytes` is set (joblib 1.2 and later): a padding-length byte and
    /// that much padding come before the array bytes.
    aligned: bool,
}

impl WrapperState {
    fn set(&mut self, key: &Value, value: &Value) {
        let Value::Text(Some(key)) = key else {
            return;
        };
        match &**key {
            "shape" => {
                self.shape = match value {
                    Value::Shape(dims) => Some(dims.clone()),
                    Value::Tuple(items) if items.is_empty() => Some(Box::new([])),
                    _ => None,
                }
            }
            "dtype" => {
                self.dtype = match value {
                    Value::Dtype(dtype) => Some(*dtype),
                    _ => None,
                }
            }
            "numpy_array_alignment_bytes" => self.aligned = matches!(value, Value::Int(_)),
            _ => {}
        }
    }
}

/// Tuples at most this long are kept as `Value::Tuple` (enough for call arguments checked by
/// `encoding-argument`); longer ones, or nested ones, become `Value::Other`.
const KEPT_TUPLE_LEN: usize = 4;

impl Value {
    fn tuple(items: Vec<Value>) -> Value {
        if !items.is_empty() && items.len() <= MAX_DIMS {
            let dims: Option<Box<[u64]>> = items
                .iter()
                .map(|item| match item {
                    Value::Int(n) => u64::try_from(*n).ok(),
                    _ => None,
                })
                .collect();
            if let Some(dims) = dims {
                return Value::Shape(dims);
            }
        }
        if items.len() > KEPT_TUPLE_LEN {
            return Value::Other;
        }
        Value::Tuple(
            items
                .into_iter()
                .map(|item| match item {
                    Value::Tuple(_) => Value::Other,
                    flat => flat,
                })
                .collect(),
        )
    }

    /// Bytes of strings and shapes this value keeps, for the memo budget.
    fn kept_bytes(&self) -> usize {
        match self {
            Value::Text(Some(text)) => text.len(),
            Value::Tuple(items) => items.iter().map(Value::kept_bytes).sum(),
            Value::Shape(dims) => dims.len() * 8,
            Value::Dict(state) => state.shape.as_ref().map_or(0, |dims| dims.len() * 8),
            _ => 0,
        }
    }
}

/// One distinct global seen in the file.
#[derive(Debug)]
struct Global {
    /// `module.name` as written in the pickle.
    display: String,
    /// Index into `PickleTable::allow`, when allowed.
    allowed: Option<usize>,
}

/// Globals and reasons collected over all pickles of one stream.
struct Findings<'t> {
    table: &'t PickleTable,
    globals: Vec<Global>,
    by_name: HashMap<String, usize>,
    reasons: Vec<String>,
    reason_set: HashSet<String>,
    dropped_reasons: usize,
    /// Opcodes executed so far.
    opcodes: u64,
}

impl<'t> Findings<'t> {
    fn new(table: &'t PickleTable) -> Self {
        Self {
            table,
            globals: Vec::new(),
            by_name: HashMap::new(),
            reasons: Vec::new(),
            reason_set: HashSet::new(),
            dropped_reasons: 0,
            opcodes: 0,
        }
    }

    fn reason(&mut self, reason: String) {
        if self.reason_set.contains(&reason) {
            return;
        }
        if self.reasons.len() >= self.table.limits.max_reasons {
            self.dropped_reasons += 1;
            return;
        }
        self.reason_set.insert(reason.clone());
        self.reasons.push(reason);
    }

    fn stopped(&mut self, stop: Stop) {
        self.reason(match stop {
            Stop::Parse { offset, message } => format!("parse error at byte {offset}: {message}"),
            Stop::Halt { offset, message } => {
                format!("analysis stopped at byte {offset}: {message}")
            }
            Stop::Eof { offset } => {
                format!("parse error at byte {offset}: input ends in the middle of the pickle")
            }
        });
    }

    /// Records an import of `module.name`, classifying it on first sight.
    fn import(&mut self, module: &str, name: &str, offset: u64) -> Result<usize, Stop> {
        let display = format!("{module}.{name}");
        if let Some(&index) = self.by_name.get(&display) {
            return Ok(index);
        }
        if self.globals.len() >= self.table.limits.max_globals {
            return Err(Stop::Halt {
                offset,
                message: format!(
                    "more than {} distinct globals (max-globals in pickle.toml)",
                    self.table.limits.max_globals
                ),
            });
        }
        let module_normal = self
            .table
            .module_renames
            .get(module)
            .map_or(module, String::as_str);
        let allowed = self.table.allow_rule(module_normal, name);
        if allowed.is_none() {
            let path: Vec<&str> = module_normal.split('.').chain(name.split('.')).collect();
            let module_parts = module_normal.split('.').count();
            let reason = match self.table.danger(&path, module_parts) {
                Some(effect) => format!("dangerous global {display} ({effect})"),
                None => format!("global {display} is not on the allow-list"),
            };
            self.reason(reason);
        }
        let index = self.globals.len();
        self.by_name.insert(display.clone(), index);
        self.globals.push(Global { display, allowed });
        Ok(index)
    }

    /// Checks a call (`REDUCE`, `NEWOBJ`, `OBJ`, `INST`…) of `callee` with `args`.
    fn call(&mut self, opcode: &str, offset: u64, callee: &Value, args: &Value) {
        match callee {
            Value::Global(index) => {
                let global = &self.globals[*index];
                let Some(rule) = global.allowed.map(|i| &self.table.allow[i]) else {
                    return; // already reported when imported
                };
                if rule.encoding_argument.is_empty() {
                    return;
                }
                let fine = match args {
                    Value::Tuple(items) => match &items[..] {
                        [] | [_] => true,
                        [_, Value::Text(Some(encoding))] => rule
                            .encoding_argument
                            .iter()
                            .any(|e| e.as_str() == &**encoding),
                        _ => false,
                    },
                    _ => false,
                };
                if !fine {
                    let reason = format!(
                        "{opcode} at byte {offset} calls {} with arguments other than \
                         (text, one of {:?})",
                        global.display, rule.encoding_argument
                    );
                    self.reason(reason);
                }
            }
            Value::Unresolved => {}
            _ => self.reason(format!(
                "{opcode} at byte {offset} calls a value that is not an imported global"
            )),
        }
    }

    /// What a call of `callee` with `args` builds, as far as the analysis follows it: joblib's
    /// array wrappers and NumPy dtypes, which say how many array bytes follow a wrapper.
    fn built(&self, callee: &Value, args: &Value) -> Value {
        let Value::Global(index) = callee else {
            return Value::Other;
        };
        let name = &self.globals[*index].display;
        let rules = &self.table.joblib;
        if rules.array_wrappers.contains(name) {
            return Value::Wrapper;
        }
        if rules.dtype_constructors.contains(name)
            && let Value::Tuple(items) = args
            && let Some(Value::Text(Some(code))) = items.first()
            && let Some(dtype) = Dtype::parse(code)
        {
            return Value::Dtype(dtype);
        }
        Value::Other
    }

    /// Adds the findings of a trailing stream, each reason prefixed with `note` if given.
    fn absorb(&mut self, other: Findings<'_>, note: Option<&str>) {
        for global in other.globals {
            if !self.by_name.contains_key(&global.display) {
                self.by_name
                    .insert(global.display.clone(), self.globals.len());
                self.globals.push(global);
            }
        }
        for reason in other.reasons {
            self.reason(match note {
                Some(note) => format!("{note}: {reason}"),
                None => reason,
            });
        }
        self.dropped_reasons += other.dropped_reasons;
    }

    fn finish(mut self) -> PickleReport {
        if self.dropped_reasons > 0 {
            let more = format!("… and {} more reasons", self.dropped_reasons);
            self.reasons.push(more);
        }
        PickleReport {
            verdict: if self.reasons.is_empty() {
                Verdict::Safe
            } else {
                Verdict::Unsafe
            },
            globals: self.globals.into_iter().map(|g| g.display).collect(),
            reasons: self.reasons,
        }
    }
}

/// The input stream with a byte position, for offsets in messages.
struct Input<R> {
    inner: BufReader<R>,
    pos: u64,
}

impl<R: Read> Input<R> {
    fn new(reader: R) -> Self {
        Self {
            inner: BufReader::new(reader),
            pos: 0,
        }
    }

    fn at_eof(&mut self) -> io::Result<bool> {
        Ok(self.inner.fill_buf()?.is_empty())
    }

    fn array<const N: usize>(&mut self) -> io::Result<[u8; N]> {
        let mut buf = [0; N];
        self.inner.read_exact(&mut buf)?;
        self.pos += N as u64;
        Ok(buf)
    }

    fn byte(&mut self) -> io::Result<u8> {
        Ok(self.array::<1>()?[0])
    }

    /// Reads `len` bytes if there are at most `keep` of them; otherwise skips them without
    /// keeping them and returns `None`.
    fn payload(&mut self, len: u64, keep: usize) -> io::Result<Option<Vec<u8>>> {
        if len <= keep as u64 {
            let mut buf = vec![0; len as usize];
            self.inner.read_exact(&mut buf)?;
            self.pos += len;
            return Ok(Some(buf));
        }
        let skipped = io::copy(&mut (&mut self.inner).take(len), &mut io::sink())?;
        self.pos += skipped;
        if skipped < len {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        Ok(None)
    }

    /// Reads a newline-terminated argument. Returns its first `keep` bytes, or `None` when it
    /// is longer (the rest is skipped).
    fn line(&mut self, keep: usize) -> io::Result<Option<Vec<u8>>> {
        let mut kept = Vec::new();
        let mut too_long = false;
        loop {
            let buf = self.inner.fill_buf()?;
            if buf.is_empty() {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            let (chunk, done) = match buf.iter().position(|&b| b == b'\n') {
                Some(end) => (&buf[..end], Some(end + 1)),
                None => (buf, None),
            };
            if !too_long {
                if kept.len() + chunk.len() > keep {
                    too_long = true;
                    kept = Vec::new();
                } else {
                    kept.extend_from_slice(chunk);
                }
            }
            let used = done.unwrap_or(buf.len());
            self.inner.consume(used);
            self.pos += used as u64;
            if done.is_some() {
                return Ok((!too_long).then_some(kept));
            }
        }
    }
}

/// The simulated unpickler state of one pickle.
struct Machine<'f, 't> {
    findings: &'f mut Findings<'t>,
    stack: Vec<Value>,
    /// Stack lengths at each `MARK`: items below the top mark belong to an outer level.
    marks: Vec<usize>,
    memo: HashMap<u64, Value>,
    memo_bytes: usize,
    /// Start of the opcode being executed.
    at: u64,
}

/// Walks one pickle, from its first opcode to `STOP`.
fn walk_one<R: Read>(findings: &mut Findings<'_>, input: &mut Input<R>) -> Result<(), Stop> {
    let mut machine = Machine {
        findings,
        stack: Vec::new(),
        marks: Vec::new(),
        memo: HashMap::new(),
        memo_bytes: 0,
        at: input.pos,
    };
    loop {
        machine.at = input.pos;
        let opcode = input.byte().map_err(|e| Stop::io(machine.at, &e))?;
        machine.findings.opcodes += 1;
        match machine.step(opcode, input) {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            Err(Step::Io(err)) => return Err(Stop::io(machine.at, &err)),
            Err(Step::Stop(stop)) => return Err(stop),
        }
        if machine.stack.len() > machine.limits().max_stack_items {
            return Err(Stop::Halt {
                offset: machine.at,
                message: format!(
                    "the stack holds more than {} items (max-stack-items in pickle.toml)",
                    machine.limits().max_stack_items
                ),
            });
        }
    }
}

/// An opcode's failure: reading the stream, or the pickle itself.
enum Step {
    Io(io::Error),
    Stop(Stop),
}

impl From<io::Error> for Step {
    fn from(err: io::Error) -> Self {
        Step::Io(err)
    }
}

impl From<Stop> for Step {
    fn from(stop: Stop) -> Self {
        Step::Stop(stop)
    }
}

impl Machine<'_, '_> {
    fn limits(&self) -> &PickleLimits {
        &self.findings.table.limits
    }

    fn error(&self, message: impl Into<String>) -> Step {
        Step::Stop(Stop::parse(self.at, message))
    }

    /// Stack length below which the current `MARK` level may not pop.
    fn floor(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    fn pop(&mut self) -> Result<Value, Step> {
        if self.stack.len() <= self.floor() {
            return Err(self.error("stack underflow"));
        }
        Ok(self.stack.pop().unwrap_or(Value::Other))
    }

    fn top_mut(&mut self) -> Result<&mut Value, Step> {
        if self.stack.len() <= self.floor() {
            return Err(self.error("stack underflow"));
        }
        let underflow = self.error("stack underflow");
        self.stack.last_mut().ok_or(underflow)
    }

    /// Reads past the array joblib writes right after an array wrapper's BUILD
    /// (`joblib/numpy_pickle.py`, `NumpyArrayWrapper.write_array`): with alignment, a byte
    /// giving the padding length and the padding; then the elements' raw bytes (their order,
    /// C or Fortran, changes their layout, not their count), or for object dtypes a whole
    /// protocol-2 pickle, which is analysed like the rest.
    fn joblib_array<R: Read>(&mut self, state: &Value, input: &mut Input<R>) -> Result<(), Step> {
        let Value::Dict(state) = state else {
            return Err(self.halt("a joblib array wrapper's state is not a dict"));
        };
        let (Some(shape), Some(dtype)) = (&state.shape, state.dtype) else {
            return Err(self.halt(
                "a joblib array wrapper's state does not give a shape and a dtype the analysis \
                 can read, so where its array data ends is unknown",
            ));
        };
        if dtype.kind == b'O' {
            return walk_one(self.findings, input).map_err(Step::Stop);
        }
        if !b"biufcmMSU".contains(&dtype.kind) {
            return Err(self.halt(format!(
                "a joblib array of dtype kind '{}' may hold Python objects, so its size is \
                 unknown",
                char::from(dtype.kind)
            )));
        }
        if state.aligned {
            let padding = input.byte()?;
            input.payload(u64::from(padding), 0)?;
        }
        let bytes = shape
            .iter()
            .try_fold(dtype.itemsize, |acc, &dim| acc.checked_mul(dim))
            .ok_or_else(|| self.error("a joblib array's size overflows 64 bits"))?;
        input.payload(bytes, 0)?;
        Ok(())
    }

    fn halt(&self, message: impl Into<String>) -> Step {
        Step::Stop(Stop::Halt {
            offset: self.at,
            message: message.into(),
        })
    }

    fn top(&self) -> Result<&Value, Step> {
        if self.stack.len() <= self.floor() {
            return Err(self.error("stack underflow"));
        }
        self.stack
            .last()
            .ok_or_else(|| self.error("stack underflow"))
    }

    /// Pops everything above the top `MARK`, and the mark.
    fn pop_mark(&mut self) -> Result<Vec<Value>, Step> {
        let mark = self
            .marks
            .pop()
            .ok_or_else(|| self.error("no MARK to pop to"))?;
        Ok(self.stack.split_off(mark))
    }

    fn text(&self, bytes: Option<Vec<u8>>) -> Value {
        Value::Text(bytes.and_then(|b| String::from_utf8(b).ok().map(String::into_boxed_str)))
    }

    fn memo_put(&mut self, key: u64) -> Result<(), Step> {
        let value = self.top()?.clone();
        let added = value.kept_bytes();
        match self.memo.insert(key, value) {
            Some(old) => self.memo_bytes -= old.kept_bytes(),
            None if self.memo.len() > self.limits().max_memo_entries => {
                return Err(Step::Stop(Stop::Halt {
                    offset: self.at,
                    message: format!(
                        "the memo holds more than {} entries (max-memo-entries in pickle.toml)",
                        self.limits().max_memo_entries
                    ),
                }));
            }
            None => {}
        }
        self.memo_bytes += added;
        if self.memo_bytes > self.limits().max_memo_string_bytes {
            return Err(Step::Stop(Stop::Halt {
                offset: self.at,
                message: format!(
                    "the memo holds more than {} bytes of strings (max-memo-string-bytes in \
                     pickle.toml)",
                    self.limits().max_memo_string_bytes
                ),
            }));
        }
        Ok(())
    }

    fn memo_get(&mut self, key: u64) -> Result<(), Step> {
        let value = self
            .memo
            .get(&key)
            .cloned()
            .ok_or_else(|| self.error(format!("memo key {key} was never stored")))?;
        self.stack.push(value);
        Ok(())
    }

    fn import(&mut self, module: &str, name: &str) -> Result<Value, Step> {
        Ok(Value::Global(self.findings.import(module, name, self.at)?))
    }

    /// Reads the two text lines of `GLOBAL` and `INST` and imports them.
    fn import_lines<R: Read>(&mut self, op: &str, input: &mut Input<R>) -> Result<Value, Step> {
        let keep = self.limits().max_string_bytes;
        let module = input.line(keep)?;
        let name = input.line(keep)?;
        let as_text = |line: Option<Vec<u8>>| line.and_then(|l| String::from_utf8(l).ok());
        match (as_text(module), as_text(name)) {
            (Some(module), Some(name)) => self.import(&module, &name),
            _ => {
                self.findings.reason(format!(
                    "{op} at byte {} names a module or attribute that is not UTF-8 or is longer \
                     than {keep} bytes",
                    self.at
                ));
                Ok(Value::Unresolved)
            }
        }
    }

    fn decimal_line<R: Read>(&self, op: &str, input: &mut Input<R>) -> Result<u64, Step> {
        let line = input.line(32)?;
        line.and_then(|l| std::str::from_utf8(&l).ok()?.trim().parse().ok())
            .ok_or_else(|| self.error(format!("{op} argument is not a decimal number")))
    }

    /// Validates the text argument of `INT`, `LONG` and `FLOAT`; an integer that fits is
    /// kept as `Value::Int`.
    fn number_line<R: Read>(&self, op: &str, input: &mut Input<R>) -> Result<Value, Step> {
        let line = input.line(self.limits().max_string_bytes)?;
        let fine = |b: &u8| b.is_ascii_alphanumeric() || b"+-._ ".contains(b);
        match line {
            Some(line) if !line.iter().all(fine) => {
                Err(self.error(format!("{op} argument is not a number")))
            }
            Some(line) => Ok(std::str::from_utf8(&line)
                .ok()
                .and_then(|text| text.trim_end_matches('L').parse().ok())
                .map_or(Value::Other, Value::Int)),
            None => Ok(Value::Other),
        }
    }

    /// Executes one opcode. Returns `true` at `STOP`.
    fn step<R: Read>(&mut self, byte: u8, input: &mut Input<R>) -> Result<bool, Step> {
        let keep = self.limits().max_string_bytes;
        let opcode = Opcode::try_from(byte)
            .map_err(|unknown| self.error(format!("unknown opcode 0x{unknown:02x}")))?;
        match opcode {
            Opcode::Proto => {
                let protocol = input.byte()?;
                if protocol > HIGHEST_PROTOCOL {
                    return Err(self.error(format!("unsupported protocol {protocol}")));
                }
            }
            // FRAME: a length prefix for the opcodes that follow; they are read as usual.
            Opcode::Frame => {
                input.array::<8>()?;
            }
            Opcode::Stop => {
                self.pop()?;
                return Ok(true);
            }
            Opcode::Mark => self.marks.push(self.stack.len()),
            // POP: on an empty level it discards the mark instead, as CPython does.
            Opcode::Pop => {
                if self.stack.len() > self.floor() {
                    self.stack.pop();
                } else {
                    self.pop_mark()?;
                }
            }
            Opcode::PopMark => {
                self.pop_mark()?;
            }
            Opcode::Dup => {
                let top = self.top()?.clone();
                self.stack.push(top);
            }
            // Numbers and constants.
            Opcode::Int => {
                let value = self.number_line("INT", input)?;
                self.stack.push(value);
            }
            Opcode::Long => {
                let value = self.number_line("LONG", input)?;
                self.stack.push(value);
            }
            Opcode::Float => {
                self.number_line("FLOAT", input)?;
                self.stack.push(Value::Other);
            }
            Opcode::BinInt => {
                let n = i32::from_le_bytes(input.array()?);
                self.stack.push(Value::Int(n.into()));
            }
            Opcode::BinInt1 => {
                let n = input.byte()?;
                self.stack.push(Value::Int(n.into()));
            }
            Opcode::BinInt2 => {
                let n = u16::from_le_bytes(input.array()?);
                self.stack.push(Value::Int(n.into()));
            }
            Opcode::BinFloat => {
                input.array::<8>()?;
                self.stack.push(Value::Other);
            }
            // Little-endian two's complement.
            Opcode::Long1 => {
                let len = input.byte()?;
                let value = match input.payload(u64::from(len), 8)? {
                    Some(bytes) if !bytes.is_empty() => {
                        let fill = if bytes[bytes.len() - 1] & 0x80 != 0 {
                            0xff
                        } else {
                            0
                        };
                        let mut le = [fill; 8];
                        le[..bytes.len()].copy_from_slice(&bytes);
                        Value::Int(i64::from_le_bytes(le))
                    }
                    Some(_) => Value::Int(0),
                    None => Value::Other,
                };
                self.stack.push(value);
            }
            Opcode::Long4 => {
                let len = self.signed_len(input, "LONG4")?;
                input.payload(len, 0)?;
                self.stack.push(Value::Other);
            }
            Opcode::None
            | Opcode::NewTrue
            | Opcode::NewFalse
            | Opcode::EmptyList
            | Opcode::EmptySet => self.stack.push(Value::Other),
            Opcode::EmptyTuple => self.stack.push(Value::Tuple(Box::new([]))),
            Opcode::EmptyDict => self.stack.push(Value::Dict(Box::default())),
            // Strings. STRING is a quoted Python literal; one with escapes is not decoded
            // (a module name spelled with escapes stays unresolved, which is unsafe).
            Opcode::String => {
                let line = input.line(keep)?;
                let value = match line {
                    Some(line) => {
                        let quoted = line.len() >= 2
                            && (line[0] == b'\'' || line[0] == b'"')
                            && line[line.len() - 1] == line[0];
                        if !quoted {
                            return Err(self.error("STRING argument is not quoted"));
                        }
                        let inner = &line[1..line.len() - 1];
                        self.text((!inner.contains(&b'\\')).then(|| inner.to_vec()))
                    }
                    None => Value::Text(None),
                };
                self.stack.push(value);
            }
            // Raw-unicode-escape; escaped text is likewise kept unresolved.
            Opcode::Unicode => {
                let line = input.line(keep)?;
                let value = self.text(line.filter(|l| !l.contains(&b'\\')));
                self.stack.push(value);
            }
            Opcode::BinString | Opcode::BinUnicode => {
                let len = if opcode == Opcode::BinString {
                    self.signed_len(input, "BINSTRING")?
                } else {
                    u64::from(u32::from_le_bytes(input.array()?))
                };
                let bytes = input.payload(len, keep)?;
                let value = self.text(bytes);
                self.stack.push(value);
            }
            Opcode::ShortBinString | Opcode::ShortBinUnicode => {
                let len = input.byte()?;
                let bytes = input.payload(u64::from(len), keep)?;
                let value = self.text(bytes);
                self.stack.push(value);
            }
            Opcode::BinUnicode8 => {
                let len = u64::from_le_bytes(input.array()?);
                let bytes = input.payload(len, keep)?;
                let value = self.text(bytes);
                self.stack.push(value);
            }
            // Bytes are data only: skipped whatever their size.
            Opcode::BinBytes => {
                let len = u64::from(u32::from_le_bytes(input.array()?));
                input.payload(len, 0)?;
                self.stack.push(Value::Other);
            }
            Opcode::ShortBinBytes => {
                let len = input.byte()?;
                input.payload(u64::from(len), 0)?;
                self.stack.push(Value::Other);
            }
            Opcode::BinBytes8 | Opcode::ByteArray8 => {
                let len = u64::from_le_bytes(input.array()?);
                input.payload(len, 0)?;
                self.stack.push(Value::Other);
            }
            Opcode::NextBuffer => self.stack.push(Value::Other),
            Opcode::ReadonlyBuffer => {
                self.top()?;
            }
            // Containers.
            Opcode::Append => {
                self.pop()?;
                self.top()?;
            }
            Opcode::SetItem => {
                let value = self.pop()?;
                let key = self.pop()?;
                if let Value::Dict(state) = self.top_mut()? {
                    state.set(&key, &value);
                }
            }
            Opcode::SetItems => {
                let items = self.pop_mark()?;
                if let Value::Dict(state) = self.top_mut()? {
                    for pair in items.chunks(2) {
                        if let [key, value] = pair {
                            state.set(key, value);
                        }
                    }
                }
            }
            Opcode::Appends | Opcode::AddItems => {
                self.pop_mark()?;
                self.top()?;
            }
            Opcode::Dict => {
                let items = self.pop_mark()?;
                let mut state = WrapperState::default();
                for pair in items.chunks(2) {
                    if let [key, value] = pair {
                        state.set(key, value);
                    }
                }
                self.stack.push(Value::Dict(Box::new(state)));
            }
            Opcode::List | Opcode::FrozenSet => {
                self.pop_mark()?;
                self.stack.push(Value::Other);
            }
            Opcode::Tuple => {
                let items = self.pop_mark()?;
                self.stack.push(Value::tuple(items));
            }
            Opcode::Tuple1 | Opcode::Tuple2 | Opcode::Tuple3 => {
                let len = match opcode {
                    Opcode::Tuple1 => 1,
                    Opcode::Tuple2 => 2,
                    _ => 3,
                };
                let mut items = Vec::with_capacity(len);
                for _ in 0..len {
                    items.push(self.pop()?);
                }
                items.reverse();
                self.stack.push(Value::tuple(items));
            }
            // Memo.
            Opcode::Put => {
                let key = self.decimal_line("PUT", input)?;
                self.memo_put(key)?;
            }
            Opcode::BinPut => {
                let key = input.byte()?;
                self.memo_put(u64::from(key))?;
            }
            Opcode::LongBinPut => {
                let key = u32::from_le_bytes(input.array()?);
                self.memo_put(u64::from(key))?;
            }
            // The key is the memo's size.
            Opcode::Memoize => {
                let key = self.memo.len() as u64;
                self.memo_put(key)?;
            }
            Opcode::Get => {
                let key = self.decimal_line("GET", input)?;
                self.memo_get(key)?;
            }
            Opcode::BinGet => {
                let key = input.byte()?;
                self.memo_get(u64::from(key))?;
            }
            Opcode::LongBinGet => {
                let key = u32::from_le_bytes(input.array()?);
                self.memo_get(u64::from(key))?;
            }
            // Imports.
            Opcode::Global => {
                let global = self.import_lines("GLOBAL", input)?;
                self.stack.push(global);
            }
            Opcode::StackGlobal => {
                let name = self.pop()?;
                let module = self.pop()?;
                let global = match (module, name) {
                    (Value::Text(Some(module)), Value::Text(Some(name))) => {
                        self.import(&module, &name)?
                    }
                    _ => {
                        self.findings.reason(format!(
                            "STACK_GLOBAL at byte {} imports a module or name that is not a \
                             string the analysis can resolve",
                            self.at
                        ));
                        Value::Unresolved
                    }
                };
                self.stack.push(global);
            }
            Opcode::Ext1 | Opcode::Ext2 | Opcode::Ext4 => {
                let code = match opcode {
                    Opcode::Ext1 => u32::from(input.byte()?),
                    Opcode::Ext2 => u32::from(u16::from_le_bytes(input.array()?)),
                    _ => u32::from_le_bytes(input.array()?),
                };
                self.findings.reason(format!(
                    "{} at byte {} imports extension code {code} from the copyreg registry, \
                     which the analysis cannot see",
                    opcode.name(),
                    self.at
                ));
                self.stack.push(Value::Unresolved);
            }
            // Calls.
            Opcode::Reduce => {
                let args = self.pop()?;
                let callee = self.pop()?;
                self.findings.call("REDUCE", self.at, &callee, &args);
                self.stack.push(self.findings.built(&callee, &args));
            }
            Opcode::NewObj => {
                let args = self.pop()?;
                let class = self.pop()?;
                self.findings.call("NEWOBJ", self.at, &class, &args);
                self.stack.push(self.findings.built(&class, &args));
            }
            Opcode::NewObjEx => {
                self.pop()?;
                let args = self.pop()?;
                let class = self.pop()?;
                self.findings.call("NEWOBJ_EX", self.at, &class, &args);
                self.stack.push(self.findings.built(&class, &args));
            }
            // Class and arguments above a MARK.
            Opcode::Obj => {
                let mut items = self.pop_mark()?;
                if items.is_empty() {
                    return Err(self.error("OBJ without a class"));
                }
                let class = items.remove(0);
                let args = Value::tuple(items);
                self.findings.call("OBJ", self.at, &class, &args);
                self.stack.push(self.findings.built(&class, &args));
            }
            // Imports the class named in its arguments, calls it with the MARK items.
            Opcode::Inst => {
                let class = self.import_lines("INST", input)?;
                let args = Value::tuple(self.pop_mark()?);
                self.findings.call("INST", self.at, &class, &args);
                self.stack.push(self.findings.built(&class, &args));
            }
            // Sets the state of the object below; on a global itself it mutates a
            // module-level object for everything loaded after.
            Opcode::Build => {
                let state = self.pop()?;
                match self.top()? {
                    Value::Global(index) => {
                        let reason = format!(
                            "BUILD at byte {} changes the state of the global {} itself",
                            self.at, self.findings.globals[*index].display
                        );
                        self.findings.reason(reason);
                    }
                    Value::Wrapper => {
                        self.joblib_array(&state, input)?;
                        self.stack.pop();
                        self.stack.push(Value::Other);
                    }
                    _ => {}
                }
            }
            // References resolved by the loader (PyTorch's storages).
            Opcode::PersId => {
                input.line(keep)?;
                self.stack.push(Value::Other);
            }
            Opcode::BinPersId => {
                self.pop()?;
                self.stack.push(Value::Other);
            }
        }
        Ok(false)
    }

    /// A 4-byte signed length (BINSTRING, LONG4); negative ones are invalid.
    fn signed_len<R: Read>(&self, input: &mut Input<R>, op: &str) -> Result<u64, Step> {
        let len = i32::from_le_bytes(input.array()?);
        u64::try_from(len).map_err(|_| self.error(format!("{op} has a negative length")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::PolicySource;

    fn table() -> PickleTable {
        PolicySource::embedded().table("pickle.toml").unwrap()
    }

    fn check(bytes: &[u8], expect: Expect) -> PickleReport {
        analyze(&table(), bytes, expect)
    }

    fn one(bytes: &[u8]) -> PickleReport {
        check(bytes, Expect::One)
    }

    fn assert_unsafe_because(report: &PickleReport, needle: &str) {
        assert_eq!(report.verdict, Verdict::Unsafe, "{report:?}");
        assert!(
            report.reasons.iter().any(|r| r.contains(needle)),
            "no reason containing {needle:?} in {:?}",
            report.reasons
        );
    }

    /// `os.system("id")` as CPython pickles it on Linux at protocol 0.
    const POSIX_SYSTEM_P0: &[u8] = b"cposix\nsystem\np0\n(Vid\np1\ntp2\nRp3\n.";

    #[test]
    fn protocol_0_posix_system_is_dangerous() {
        let report = one(POSIX_SYSTEM_P0);
        assert_eq!(report.globals, ["posix.system"]);
        assert_unsafe_because(
            &report,
            "dangerous global posix.system (runs shell commands)",
        );
    }

    #[test]
    fn protocol_2_os_system_is_dangerous() {
        let report = one(b"\x80\x02cos\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85q\x02Rq\x03.");
        assert_unsafe_because(&report, "dangerous global os.system (runs shell commands)");
    }

    #[test]
    fn stack_global_resolved_through_the_memo() {
        // Protocol 4: "builtins" and "eval" memoized, fetched back with BINGET, then imported.
        let bytes = b"\x80\x04\x95\x30\x00\x00\x00\x00\x00\x00\x00\
            \x8c\x08builtins\x94\x8c\x04eval\x94\x85\x94\
            0h\x00h\x01\x93\x94\x8c\x051+1\x94\x85R.";
        let report = one(bytes);
        assert_eq!(report.globals, ["builtins.eval"]);
        assert_unsafe_because(
            &report,
            "dangerous global builtins.eval (evaluates Python code)",
        );
    }

    #[test]
    fn stack_global_on_a_non_string_is_unresolved() {
        let report = one(b"\x80\x04K\x01K\x02\x93)R.");
        assert_unsafe_because(&report, "STACK_GLOBAL at byte 6");
        assert!(report.globals.is_empty());
    }

    #[test]
    fn dunder_reach_through_numpy_is_dangerous() {
        let report = one(b"\x80\x02cnumpy\n__builtins__\n.");
        assert_unsafe_because(
            &report,
            "dangerous global numpy.__builtins__ (reaches the builtins",
        );
        let report = one(b"\x80\x04\x8c\x14numpy.core._internal\x8c\x0bsys.modules\x93.");
        assert_unsafe_because(&report, "dangerous global numpy.core._internal.sys.modules");
    }

    #[test]
    fn renamed_and_sub_modules_are_matched() {
        let report = one(b"c__builtin__\neval\n.");
        assert_unsafe_because(&report, "dangerous global __builtin__.eval (evaluates");
        let report = one(b"casyncio.unix_events\n_UnixSubprocessTransport._start\n.");
        assert_unsafe_because(&report, "dangerous global asyncio.unix_events.");
        // A torch sub-module named like a dangerous one is only "not allowed".
        let report = one(b"ctorch.nn.modules.linear\nLinear\n.");
        assert_unsafe_because(
            &report,
            "global torch.nn.modules.linear.Linear is not on the allow-list",
        );
    }

    #[test]
    fn unknown_global_is_not_allowed() {
        let report = one(b"\x80\x02cmypkg\nModel\n)\x81.");
        assert_unsafe_because(&report, "global mypkg.Model is not on the allow-list");
    }

    #[test]
    fn extension_registry_is_never_safe() {
        let report = one(b"\x80\x02\x82\x01)R.");
        assert_unsafe_because(&report, "EXT1 at byte 2");
    }

    #[test]
    fn truncated_pickle_names_the_offset() {
        let report = one(b"\x80\x02X\x10\x00\x00\x00abc");
        assert_unsafe_because(&report, "parse error at byte 2:");
        let report = one(b"\x80\x02N");
        assert_unsafe_because(&report, "parse error at byte 3: input ends");
    }

    #[test]
    fn unknown_opcode_is_a_parse_error() {
        let report = one(b"\x80\x02\xffN.");
        assert_unsafe_because(&report, "parse error at byte 2: unknown opcode 0xff");
    }

    #[test]
    fn second_pickle_after_stop_is_unsafe_but_junk_is_not() {
        let report = one(b"\x80\x02N.\x80\x02N.");
        assert_unsafe_because(&report, "a second pickle starts at byte 4");
        let mut stacked = b"\x80\x02N.".to_vec();
        stacked.extend_from_slice(POSIX_SYSTEM_P0);
        assert_unsafe_because(&one(&stacked), "dangerous global posix.system");
        let report = one(b"\x80\x02N.\x00\x01\x02\xfe\xff");
        assert_eq!(report.verdict, Verdict::Safe, "{report:?}");
    }

    #[test]
    fn codecs_encode_only_for_latin1_bytes() {
        let good = b"\x80\x02c_codecs\nencode\nX\x02\x00\x00\x00abX\x06\x00\x00\x00latin1\x86R.";
        assert_eq!(one(good).verdict, Verdict::Safe, "{:?}", one(good));
        let bad = b"\x80\x02c_codecs\nencode\nX\x02\x00\x00\x00abX\x03\x00\x00\x00rot\x86R.";
        assert_unsafe_because(&one(bad), "calls _codecs.encode with arguments other than");
    }

    #[test]
    fn build_on_a_global_itself_is_unsafe() {
        let report = one(b"\x80\x02cnumpy\nndarray\n}b.");
        assert_unsafe_because(
            &report,
            "BUILD at byte 18 changes the state of the global numpy.ndarray",
        );
    }

    #[test]
    fn call_on_a_call_result_is_unsafe() {
        let report = one(b"\x80\x02ccollections\nOrderedDict\n)R)R.");
        assert_unsafe_because(
            &report,
            "REDUCE at byte 30 calls a value that is not an imported global",
        );
    }

    #[test]
    fn large_payloads_are_skipped_not_kept() {
        // BINBYTES8 claiming 2^60 bytes must not allocate: it runs out of input instead.
        let report = one(b"\x80\x04\x8e\x00\x00\x00\x00\x00\x00\x00\x10.");
        assert_unsafe_because(&report, "parse error at byte 2: input ends");
        let mut big = b"\x80\x04\x8e".to_vec();
        big.extend_from_slice(&(1u64 << 20).to_le_bytes());
        big.resize(big.len() + (1 << 20), 0x63);
        big.push(b'.');
        assert_eq!(one(&big).verdict, Verdict::Safe);
    }

    #[test]
    fn torch_state_dict_is_safe() {
        // OrderedDict({"w": _rebuild_tensor_v2(<storage persistent id>, 0, (2,), (1,), False,
        // OrderedDict())}) as torch.save writes it at protocol 2.
        let bytes = b"\x80\x02ccollections\nOrderedDict\nq\x00)Rq\x01X\x01\x00\x00\x00wq\x02\
            ctorch._utils\n_rebuild_tensor_v2\nq\x03((X\x07\x00\x00\x00storageq\x04\
            ctorch\nFloatStorage\nq\x05X\x01\x00\x00\x000q\x06X\x03\x00\x00\x00cpuq\x07K\x02tq\x08\
            QK\x00K\x02\x85K\x01\x85\x89h\x00)Rq\x09tq\x0aRq\x0bs.";
        let report = one(bytes);
        assert_eq!(report.verdict, Verdict::Safe, "{report:?}");
        assert_eq!(
            report.globals,
            [
                "collections.OrderedDict",
                "torch._utils._rebuild_tensor_v2",
                "torch.FloatStorage"
            ]
        );
    }

    #[test]
    fn legacy_checks_all_five_pickles_and_ignores_storage_bytes() {
        let magic = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19\x2e";
        let mut file = magic.to_vec();
        file.extend_from_slice(b"\x80\x02M\xe9\x03.");
        file.extend_from_slice(b"\x80\x02}q\x00.");
        file.extend_from_slice(b"\x80\x02}q\x00.");
        file.extend_from_slice(b"\x80\x02]q\x00.");
        file.extend_from_slice(b"\x00\x01garbage storage bytes cposix\nsystem\n");
        assert_eq!(check(&file, Expect::Legacy).verdict, Verdict::Safe);

        let mut evil = magic.to_vec();
        evil.extend_from_slice(b"\x80\x02M\xe9\x03.\x80\x02}q\x00.");
        evil.extend_from_slice(POSIX_SYSTEM_P0);
        evil.extend_from_slice(b"\x80\x02]q\x00.");
        assert_unsafe_because(&check(&evil, Expect::Legacy), "posix.system");
        assert_unsafe_because(&check(&file[..28], Expect::Legacy), "parse error");
    }

    #[test]
    fn merge_names_members() {
        let a = one(POSIX_SYSTEM_P0);
        let b = one(b"\x80\x02N.");
        let merged = PickleReport::merge([("x/data.txt", a), ("x/other", b)]);
        assert_eq!(merged.verdict, Verdict::Unsafe);
        assert!(merged.reasons[0].starts_with("x/data.txt: dangerous global posix.system"));
        let clean = PickleReport::merge([("m", one(b"\x80\x02N."))]);
        assert_eq!(clean.verdict, Verdict::Safe);
    }

    #[test]
    fn sniff_tells_pickles_from_raw_data() {
        let table = table();
        assert!(sniff(&table, POSIX_SYSTEM_P0).is_pickle(true));
        assert!(!sniff(&table, &POSIX_SYSTEM_P0[..12]).is_pickle(false));
        let long_protocol_0 = b"(lp0\nI1\naI2\naI3\naI4\naVabc";
        assert!(sniff(&table, long_protocol_0).is_pickle(false));
        assert!(sniff(&table, b"\x80\x02X\xff\xff\xff\x00abc").is_pickle(false));
        // A payload followed by garbage still imports before failing.
        assert!(sniff(&table, b"cposix\nsystem\n\xff").is_pickle(true));
        let floats: Vec<u8> = [0.5f32, -1.25, 3.0, 1e-3]
            .iter()
            .flat_map(|f| f.to_le_bytes())
            .collect();
        assert!(!sniff(&table, &floats).is_pickle(true));
        assert!(!sniff(&table, b"\x80\x02\xff\x00").is_pickle(false));
        // Storage bytes that read as an extension code or a long BINBYTES are not pickles,
        // nor is source text whose first line reads as a GLOBAL.
        assert!(!sniff(&table, b"\x82\x01\x00\x3f\x00\x00\x80\x3f").is_pickle(true));
        assert!(!sniff(&table, b"B\xff\xff\xff\x7f\x00\x00\x80\x3f").is_pickle(false));
        assert!(!sniff(&table, b"import torch\nclass Net(nn.Module):\n").is_pickle(true));
        // The outcomes format identification reads: a truncated announced pickle, a failed
        // walk that imported something first.
        assert_eq!(
            sniff(&table, b"\x80\x02(K\x01"),
            Sniff::Cut {
                announced: true,
                long: true,
                imports: false
            }
        );
        assert_eq!(
            sniff(&table, b"cat\ndog\n\xff"),
            Sniff::Invalid { imports: true }
        );
    }

    #[test]
    fn limits_stop_the_analysis() {
        let mut deep = b"\x80\x02".to_vec();
        deep.extend(std::iter::repeat_n(b'N', 100_001));
        deep.push(b'.');
        assert_unsafe_because(&one(&deep), "max-stack-items");
    }
}
