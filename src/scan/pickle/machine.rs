//! The opcode walk: a simulated unpickler stack and memo, driven one opcode at a time.

use std::collections::HashMap;
use std::io::{self, Read};

use super::findings::Findings;
use super::input::Input;
use super::joblib::{self, WrapperState};
use super::opcode::{HIGHEST_PROTOCOL, Opcode};
use super::table::PickleLimits;
use super::value::Value;

/// Why the walk of a pickle ended early.
#[derive(Debug)]
pub(super) enum Stop {
    /// The bytes are not a valid pickle.
    Parse { offset: u64, message: String },
    /// A bound from `[limits]` was reached, or the stream holds data the analysis cannot
    /// measure (a joblib array of a dtype it cannot size).
    Halt { offset: u64, message: String },
    /// The input ended before `STOP`.
    Eof { offset: u64 },
}

impl Stop {
    pub(super) fn parse(offset: u64, message: impl Into<String>) -> Self {
        Stop::Parse {
            offset,
            message: message.into(),
        }
    }

    pub(super) fn io(offset: u64, err: &io::Error) -> Self {
        if err.kind() == io::ErrorKind::UnexpectedEof {
            Stop::Eof { offset }
        } else {
            Stop::parse(offset, format!("read error: {err}"))
        }
    }
}

/// The simulated unpickler state of one pickle.
pub(super) struct Machine<'f, 't> {
    pub(super) findings: &'f mut Findings<'t>,
    stack: Vec<Value>,
    /// Stack lengths at each `MARK`: items below the top mark belong to an outer level.
    marks: Vec<usize>,
    memo: HashMap<u64, Value>,
    memo_bytes: usize,
    /// Start of the opcode being executed.
    at: u64,
}

/// Walks one pickle, from its first opcode to `STOP`.
pub(super) fn walk_one<R: Read>(
    findings: &mut Findings<'_>,
    input: &mut Input<R>,
) -> Result<(), Stop> {
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
pub(super) enum Step {
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

    pub(super) fn error(&self, message: impl Into<String>) -> Step {
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

    pub(super) fn halt(&self, message: impl Into<String>) -> Step {
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
                self.stack
                    .push(joblib::built(self.findings, &callee, &args));
            }
            Opcode::NewObj => {
                let args = self.pop()?;
                let class = self.pop()?;
                self.findings.call("NEWOBJ", self.at, &class, &args);
                self.stack.push(joblib::built(self.findings, &class, &args));
            }
            Opcode::NewObjEx => {
                self.pop()?;
                let args = self.pop()?;
                let class = self.pop()?;
                self.findings.call("NEWOBJ_EX", self.at, &class, &args);
                self.stack.push(joblib::built(self.findings, &class, &args));
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
                self.stack.push(joblib::built(self.findings, &class, &args));
            }
            // Imports the class named in its arguments, calls it with the MARK items.
            Opcode::Inst => {
                let class = self.import_lines("INST", input)?;
                let args = Value::tuple(self.pop_mark()?);
                self.findings.call("INST", self.at, &class, &args);
                self.stack.push(joblib::built(self.findings, &class, &args));
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
