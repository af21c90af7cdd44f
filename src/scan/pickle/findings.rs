//! What the walk of one stream found: the globals it imports, and the reasons it is unsafe.

use std::collections::{HashMap, HashSet};

use super::machine::Stop;
use super::table::PickleTable;
use super::value::Value;
use super::{PickleReport, Verdict};

/// One distinct global seen in the file.
#[derive(Debug)]
pub(super) struct Global {
    /// `module.name` as written in the pickle.
    pub(super) display: String,
    /// Index into `PickleTable::allow`, when allowed.
    allowed: Option<usize>,
}

/// Globals and reasons collected over all pickles of one stream.
pub(super) struct Findings<'t> {
    pub(super) table: &'t PickleTable,
    pub(super) globals: Vec<Global>,
    by_name: HashMap<String, usize>,
    reasons: Vec<String>,
    reason_set: HashSet<String>,
    dropped_reasons: usize,
    /// Opcodes executed so far.
    pub(super) opcodes: u64,
    /// PERSID opcodes executed: only a loader with `persistent_load` (PyTorch's) accepts them,
    /// and every line of a text starting with `P` reads as one.
    pub(super) persistent_ids: u64,
    /// A dangerous global was imported, or a global not on the allow-list was called.
    pub(super) executes: bool,
    /// Tensors rebuilt by PyTorch's `_rebuild_tensor_v2`, in order (`torch`), kept only for
    /// `verify` (`tensor_cap` set): the scan keeps nothing per tensor.
    pub(super) tensors: Vec<super::torch::TorchTensor>,
    /// How many tensors to keep; `None`: none.
    pub(super) tensor_cap: Option<usize>,
}

impl<'t> Findings<'t> {
    pub(super) fn new(table: &'t PickleTable) -> Self {
        Self {
            table,
            globals: Vec::new(),
            by_name: HashMap::new(),
            reasons: Vec::new(),
            reason_set: HashSet::new(),
            dropped_reasons: 0,
            opcodes: 0,
            persistent_ids: 0,
            executes: false,
            tensors: Vec::new(),
            tensor_cap: None,
        }
    }

    pub(super) fn reason(&mut self, reason: String) {
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

    pub(super) fn stopped(&mut self, stop: Stop) {
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
    pub(super) fn import(&mut self, module: &str, name: &str, offset: u64) -> Result<usize, Stop> {
        // CPython's `find_class` imports the module first (`__import__`), which fails for a
        // name that is not dotted Python identifiers: the load stops here, before anything this
        // import names can run. Lines of text walk as GLOBAL or INST (`case 0x1f: …`,
        // `import sys`), and this is where the real loader rejects them.
        if !super::python_dotted_name(module) {
            return Err(Stop::parse(
                offset,
                format!(
                    "module name {:?} cannot be imported (CPython's find_class fails here)",
                    crate::terminal::escape_controls(&module.chars().take(60).collect::<String>())
                ),
            ));
        }
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
                Some(effect) => {
                    self.executes = true;
                    format!("dangerous global {display} ({effect})")
                }
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
    pub(super) fn call(&mut self, opcode: &str, offset: u64, callee: &Value, args: &Value) {
        match callee {
            Value::Global(index) => {
                let global = &self.globals[*index];
                let Some(rule) = global.allowed.map(|i| &self.table.allow[i]) else {
                    self.executes = true;
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

    /// Adds the findings of a trailing stream, each reason prefixed with `note` if given.
    pub(super) fn absorb(&mut self, other: Findings<'_>, note: Option<&str>) {
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

    pub(super) fn finish(mut self) -> PickleReport {
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
