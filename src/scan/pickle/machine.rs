//! The opcode walk: a simulated unpickler stack and memo, driven one opcode at a time.
//!
//! Each opcode's argument is read first, the same way for every opcode ([`Argument::read`]);
//! then [`Machine::step`] dispatches on the opcode's name to a small function per group: the
//! stack and its marks, constants, the memo, containers, imports, calls and object state.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::{self, Read};
use std::rc::Rc;

use super::argument::Argument;
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
    pub(super) at: u64,
    /// Where the current FRAME's bytes end, until an opcode reaches it.
    frame_end: Option<u64>,
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
        frame_end: None,
    };
    loop {
        machine.at = input.pos;
        let byte = input.byte().map_err(|e| Stop::io(machine.at, &e))?;
        machine.findings.opcodes += 1;
        let stepped = machine.step(byte, input);
        machine.check_frame(input.pos);
        match stepped {
            Ok(true) => {
                machine.finish_frame(input);
                return Ok(());
            }
            Ok(false) => {}
            Err(failed) => return Err(failed.at(machine.at)),
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

/// How one opcode failed. [`walk_one`] reports it at the opcode's offset.
#[derive(Debug)]
pub(super) enum Step {
    /// Reading the stream failed, or it ended.
    Io(io::Error),
    /// The bytes are not a valid pickle.
    Invalid(String),
    /// A bound was reached, or the stream holds data the analysis cannot measure.
    Halt(String),
    /// Already at its own offset: a nested pickle's walk, or an import past `max-globals`.
    Stop(Stop),
}

impl Step {
    fn at(self, offset: u64) -> Stop {
        match self {
            Step::Io(err) => Stop::io(offset, &err),
            Step::Invalid(message) => Stop::Parse { offset, message },
            Step::Halt(message) => Stop::Halt { offset, message },
            Step::Stop(stop) => stop,
        }
    }
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
    /// Executes one opcode. Returns `true` at `STOP`.
    fn step<R: Read>(&mut self, byte: u8, input: &mut Input<R>) -> Result<bool, Step> {
        let op = Opcode::try_from(byte)
            .map_err(|unknown| self.error(format!("unknown opcode 0x{unknown:02x}")))?;
        let mut argument = Argument::read(op, input, self.limits().max_string_bytes)?;
        if let Argument::Disputed(why) = argument {
            self.findings.reason(format!(
                "{} at byte {}: {why}, so the two loaders build different objects",
                op.name(),
                self.at
            ));
            argument = Argument::Int(None);
        }
        match op {
            // Framing and the end of the pickle. A frame's opcodes are read as usual.
            Opcode::Proto => self.check_protocol(argument.unsigned())?,
            Opcode::Frame => self.frame(argument.unsigned(), input.pos),
            Opcode::Stop => {
                self.pop()?;
                return Ok(true);
            }

            // The stack and its marks.
            Opcode::Mark => self.marks.push(self.stack.len()),
            Opcode::Pop => self.pop_item_or_mark()?,
            Opcode::PopMark => {
                self.pop_mark()?;
            }
            Opcode::Dup => {
                let top = self.top()?.clone();
                self.stack.push(top);
            }

            // Constants.
            Opcode::Int
            | Opcode::BinInt
            | Opcode::BinInt1
            | Opcode::BinInt2
            | Opcode::Long
            | Opcode::Long1
            | Opcode::Long4
            | Opcode::Float
            | Opcode::BinFloat
            | Opcode::None
            | Opcode::NewTrue
            | Opcode::NewFalse
            | Opcode::String
            | Opcode::BinString
            | Opcode::ShortBinString
            | Opcode::Unicode
            | Opcode::BinUnicode
            | Opcode::ShortBinUnicode
            | Opcode::BinUnicode8
            | Opcode::BinBytes
            | Opcode::ShortBinBytes
            | Opcode::BinBytes8
            | Opcode::ByteArray8
            | Opcode::NextBuffer
            | Opcode::EmptyList
            | Opcode::EmptyTuple
            | Opcode::EmptyDict
            | Opcode::EmptySet => self.stack.push(constant(op, argument)),
            Opcode::ReadonlyBuffer => {
                self.top()?;
            }

            // The memo.
            Opcode::Put | Opcode::BinPut | Opcode::LongBinPut => {
                self.memo_put(argument.unsigned())?;
            }
            Opcode::Memoize => self.memo_put(self.memo.len() as u64)?,
            Opcode::Get | Opcode::BinGet | Opcode::LongBinGet => {
                self.memo_get(argument.unsigned())?;
            }

            // Containers: filled in place, or built from the items on top.
            Opcode::Append => {
                self.pop()?;
                self.top()?;
            }
            Opcode::Appends | Opcode::AddItems => {
                self.pop_mark()?;
                self.top()?;
            }
            Opcode::SetItem => self.set_item()?,
            Opcode::SetItems => self.set_items()?,
            Opcode::Dict => self.dict()?,
            Opcode::List | Opcode::FrozenSet => {
                self.pop_mark()?;
                self.stack.push(Value::Other);
            }
            Opcode::Tuple => {
                let items = self.pop_mark()?;
                self.stack.push(Value::tuple(items));
            }
            Opcode::Tuple1 => self.tuple_of(1)?,
            Opcode::Tuple2 => self.tuple_of(2)?,
            Opcode::Tuple3 => self.tuple_of(3)?,

            // Imports.
            Opcode::Global => {
                let global = self.import_named(op, argument)?;
                self.stack.push(global);
            }
            Opcode::StackGlobal => self.stack_global()?,
            Opcode::Ext1 | Opcode::Ext2 | Opcode::Ext4 => self.extension(op, argument.unsigned()),

            // Calls and object state.
            Opcode::Reduce | Opcode::NewObj => {
                let args = self.pop()?;
                let callee = self.pop()?;
                self.call(op, callee, args);
            }
            Opcode::NewObjEx => {
                let _kwargs = self.pop()?;
                let args = self.pop()?;
                let class = self.pop()?;
                self.call(op, class, args);
            }
            Opcode::Obj => self.obj()?,
            Opcode::Inst => {
                let class = self.import_named(op, argument)?;
                let args = Value::tuple(self.pop_mark()?);
                self.call(op, class, args);
            }
            Opcode::Build => self.build(input)?,

            // References the loader resolves (PyTorch's storages).
            Opcode::PersId => {
                self.findings.persistent_ids += 1;
                self.stack.push(Value::Other);
            }
            Opcode::BinPersId => {
                let pid = self.pop()?;
                let storage = super::torch::persistent(self.findings, &pid);
                self.stack.push(storage);
            }
        }
        Ok(false)
    }

    fn limits(&self) -> &PickleLimits {
        &self.findings.table.limits
    }

    pub(super) fn error(&self, message: impl Into<String>) -> Step {
        Step::Invalid(message.into())
    }

    pub(super) fn halt(&self, message: impl Into<String>) -> Step {
        Step::Halt(message.into())
    }

    fn check_protocol(&self, protocol: u64) -> Result<(), Step> {
        if protocol > u64::from(HIGHEST_PROTOCOL) {
            return Err(self.error(format!("unsupported protocol {protocol}")));
        }
        Ok(())
    }

    /// FRAME: its opcodes are read as usual, but `pickle.py` fails on an opcode that crosses
    /// the frame's end or a frame that starts before the previous one ends, where `_pickle.c`
    /// reads on: the two loaders disagree on such a stream.
    fn frame(&mut self, len: u64, start: u64) {
        if let Some(end) = self.frame_end {
            let reason = format!(
                "FRAME at byte {} starts before the previous frame's end at byte {end}",
                self.at
            );
            self.findings.reason(reason);
        }
        self.frame_end = Some(start.saturating_add(len));
    }

    /// After each opcode: whether it ended the current frame, or crossed its end.
    fn check_frame(&mut self, pos: u64) {
        let Some(end) = self.frame_end else {
            return;
        };
        if pos > end && self.at < end {
            let reason = format!(
                "the opcode at byte {} crosses the end of its FRAME at byte {end}",
                self.at
            );
            self.findings.reason(reason);
        }
        if pos >= end {
            self.frame_end = None;
        }
    }

    /// At STOP inside a FRAME that declares more bytes: both loaders read the whole frame
    /// before its opcodes, so the next pickle starts at the frame's end, but when the stream
    /// ends before it `_pickle.c` fails (it reads the frame at once) and `pickle.py` loads the
    /// object (`_Unframer` takes the short read): the loaders disagree.
    fn finish_frame<R: Read>(&mut self, input: &mut Input<R>) {
        let Some(end) = self.frame_end.take() else {
            return;
        };
        let rest = end.saturating_sub(input.pos);
        if input.payload(rest, 0).is_err() {
            let reason = format!(
                "the FRAME holding STOP at byte {} runs past the end of the stream at byte {} \
                 (to byte {end}): _pickle.c fails to load it, pickle.py loads it",
                self.at, input.pos
            );
            self.findings.reason(reason);
        }
    }

    // The stack and its marks.

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

    /// POP: on an empty level it discards the mark instead, as CPython does.
    fn pop_item_or_mark(&mut self) -> Result<(), Step> {
        if self.stack.len() > self.floor() {
            self.stack.pop();
        } else {
            self.pop_mark()?;
        }
        Ok(())
    }

    // The memo.

    fn memo_put(&mut self, key: u64) -> Result<(), Step> {
        let value = self.top()?.clone();
        let added = value.kept_bytes();
        match self.memo.insert(key, value) {
            Some(old) => self.memo_bytes -= old.kept_bytes(),
            None if self.memo.len() > self.limits().max_memo_entries => {
                return Err(self.halt(format!(
                    "the memo holds more than {} entries (max-memo-entries in pickle.toml)",
                    self.limits().max_memo_entries
                )));
            }
            None => {}
        }
        self.memo_bytes += added;
        if self.memo_bytes > self.limits().max_memo_bytes {
            return Err(self.halt(format!(
                "the memo holds more than {} bytes of values (max-memo-bytes in \
                 pickle.toml)",
                self.limits().max_memo_bytes
            )));
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

    // Containers. Only dicts are followed, for the entries of a joblib wrapper's state.

    fn set_item(&mut self) -> Result<(), Step> {
        let value = self.pop()?;
        let key = self.pop()?;
        super::torch::named(self.findings, &key, &value);
        if let Value::Dict(state) = self.top()? {
            state.borrow_mut().set(&key, &value);
        }
        Ok(())
    }

    fn set_items(&mut self) -> Result<(), Step> {
        let items = self.pop_mark()?;
        for pair in items.chunks_exact(2) {
            super::torch::named(self.findings, &pair[0], &pair[1]);
        }
        if let Value::Dict(state) = self.top()? {
            state.borrow_mut().set_pairs(&items);
        }
        Ok(())
    }

    fn dict(&mut self) -> Result<(), Step> {
        let items = self.pop_mark()?;
        let mut state = WrapperState::default();
        state.set_pairs(&items);
        self.stack.push(Value::Dict(Rc::new(RefCell::new(state))));
        Ok(())
    }

    /// TUPLE1, TUPLE2, TUPLE3: a tuple of the top `len` items.
    fn tuple_of(&mut self, len: usize) -> Result<(), Step> {
        let mut items = Vec::with_capacity(len);
        for _ in 0..len {
            items.push(self.pop()?);
        }
        items.reverse();
        self.stack.push(Value::tuple(items));
        Ok(())
    }

    // Imports.

    fn import(&mut self, module: &str, name: &str) -> Result<Value, Step> {
        Ok(Value::Global(self.findings.import(module, name, self.at)?))
    }

    /// GLOBAL and INST: imports the module and name their argument gives.
    fn import_named(&mut self, op: Opcode, argument: Argument) -> Result<Value, Step> {
        if let Argument::Import(Some((module, name))) = argument {
            return self.import(&module, &name);
        }
        self.findings.reason(format!(
            "{} at byte {} names a module or attribute that is not UTF-8 or is longer than {} \
             bytes",
            op.name(),
            self.at,
            self.limits().max_string_bytes
        ));
        Ok(Value::Unresolved)
    }

    /// STACK_GLOBAL: imports the module and name strings on top of the stack, which the memo
    /// may have supplied.
    fn stack_global(&mut self) -> Result<(), Step> {
        let name = self.pop()?;
        let module = self.pop()?;
        let global = match (module, name) {
            (Value::Text(Some(module)), Value::Text(Some(name))) => self.import(&module, &name)?,
            _ => {
                self.findings.reason(format!(
                    "STACK_GLOBAL at byte {} imports a module or name that is not a string the \
                     analysis can resolve",
                    self.at
                ));
                Value::Unresolved
            }
        };
        self.stack.push(global);
        Ok(())
    }

    /// EXT1, EXT2, EXT4: imports what the copyreg extension registry holds under `code`.
    fn extension(&mut self, op: Opcode, code: u64) {
        self.findings.reason(format!(
            "{} at byte {} imports extension code {code} from the copyreg registry, which the \
             analysis cannot see",
            op.name(),
            self.at
        ));
        self.stack.push(Value::Unresolved);
    }

    // Calls and object state.

    /// Checks a call of `callee` and pushes what it builds.
    fn call(&mut self, op: Opcode, callee: Value, args: Value) {
        self.findings.call(op.name(), self.at, &callee, &args);
        let built = super::torch::rebuilt(self.findings, &callee, &args)
            .unwrap_or_else(|| joblib::built(self.findings, &callee, &args));
        self.stack.push(built);
    }

    /// OBJ: calls the class above the top MARK with the items after it.
    fn obj(&mut self) -> Result<(), Step> {
        let mut items = self.pop_mark()?;
        if items.is_empty() {
            return Err(self.error("OBJ without a class"));
        }
        let class = items.remove(0);
        self.call(Opcode::Obj, class, Value::tuple(items));
        Ok(())
    }

    /// BUILD: sets the state of the object below the top. On a global itself it changes a
    /// module-level object for everything loaded after; on a NumPy dtype it may change its
    /// layout; on a joblib array wrapper, the array's bytes follow in the stream.
    fn build<R: Read>(&mut self, input: &mut Input<R>) -> Result<(), Step> {
        let state = self.pop()?;
        match self.top()? {
            Value::Global(index) => {
                let reason = format!(
                    "BUILD at byte {} changes the state of the global {} itself",
                    self.at, self.findings.globals[*index].display
                );
                self.findings.reason(reason);
            }
            Value::Dtype(dtype) => self.build_dtype(dtype, &state),
            Value::Wrapper(built) => {
                let built = Rc::clone(built);
                // joblib ends the frame at the wrapper and reads the array from the file: after
                // the frame's end, where the walk would not look.
                self.check_frame(input.pos);
                if let Some(end) = self.frame_end.take() {
                    let reason = format!(
                        "joblib array data at byte {} is inside a FRAME ending at byte {end}, \
                         where joblib does not read it",
                        input.pos
                    );
                    self.findings.reason(reason);
                }
                self.joblib_array(&built, &state, input)?;
                self.stack.pop();
                self.stack.push(Value::Other);
            }
            _ => {}
        }
        Ok(())
    }
}

/// The value an opcode of the constants group pushes.
fn constant(op: Opcode, argument: Argument) -> Value {
    match op {
        Opcode::EmptyTuple => Value::Tuple(Box::new([])),
        Opcode::EmptyDict => Value::empty_dict(),
        Opcode::None => Value::None,
        // FLOAT's text is checked like INT's, but floats are not followed.
        Opcode::Float => Value::Other,
        _ => match argument {
            Argument::Int(Some(n)) => Value::Int(n),
            // BININT1, BININT2
            Argument::Unsigned(n) => i64::try_from(n).map_or(Value::Other, Value::Int),
            Argument::Text(text) => Value::Text(text),
            // None, booleans, bytes, floats, empty lists and sets, integers past 64 bits.
            _ => Value::Other,
        },
    }
}
