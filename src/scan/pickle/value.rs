//! The values of the simulated stack and memo.
//!
//! The objects a later opcode can change in place (dicts by SETITEM, dtypes by BUILD, joblib
//! wrappers by BUILD) are shared between their stack and memo copies, as the unpickler shares
//! one object between its stack and memo: a change made through a memo alias is seen by every
//! copy, so the joblib rules read the state the loader would read.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use super::joblib::{Dtype, WrapperState};

/// A simulated stack or memo value: only what the analysis needs to know.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Value {
    /// A text string; `None` when it was too long to keep, or escaped beyond our decoding.
    Text(Option<Box<str>>),
    /// An imported global: index into `Findings::globals`.
    Global(usize),
    /// An import the analysis could not name (already reported).
    Unresolved,
    /// A small tuple of flat values (call arguments, a dtype's state), kept to check them.
    Tuple(Box<[Value]>),
    /// A small integer (array shapes, alignment).
    Int(i64),
    /// Python's `None`.
    None,
    /// A tuple of non-negative integers: an array shape.
    Shape(Box<[u64]>),
    /// A NumPy dtype built from its type code, shared with its aliases (BUILD changes it).
    Dtype(Rc<Cell<Dtype>>),
    /// A dict, with the entries a joblib array wrapper's state needs, shared with its aliases.
    Dict(Rc<RefCell<WrapperState>>),
    /// A joblib array wrapper; the flag is set once a BUILD has read its array.
    Wrapper(Rc<Cell<bool>>),
    /// A PyTorch storage named by a persistent id (`torch`).
    Storage(Rc<super::torch::StorageRef>),
    /// A tensor rebuilt by `torch._utils._rebuild_tensor_v2`: index into `Findings::tensors`.
    Tensor(usize),
    /// Anything else: numbers, bytes, containers, objects built by calls.
    Other,
}

/// Most dimensions a NumPy array has (`NPY_MAXDIMS` is 64 in NumPy 2).
const MAX_DIMS: usize = 64;

/// Tuples at most this long are kept as `Value::Tuple`: enough for call arguments checked by
/// `encoding-argument` and for a NumPy dtype's BUILD state (`dtype.__reduce__`: nine items at
/// version 4). Longer ones, or nested ones, become `Value::Other`.
const KEPT_TUPLE_LEN: usize = 9;

impl Value {
    /// A tuple of `items`: a shape when they are all non-negative integers, else kept when short
    /// and flat.
    pub(super) fn tuple(items: Vec<Value>) -> Value {
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
                    // `()`, a scalar tensor's size and stride, is an empty shape.
                    Value::Tuple(inner) if inner.is_empty() => Value::Shape(Box::new([])),
                    Value::Tuple(_) => Value::Other,
                    flat => flat,
                })
                .collect(),
        )
    }

    /// An empty dict, as EMPTY_DICT pushes it.
    pub(super) fn empty_dict() -> Value {
        Value::Dict(Rc::default())
    }

    /// Heap bytes this value holds (strings, shapes, tuples' items, dicts), for the memo
    /// budget: a memoized tuple fetched back millions of times is counted every time it is
    /// stored again, so the budget bounds what the memo really holds.
    pub(super) fn kept_bytes(&self) -> usize {
        match self {
            Value::Text(Some(text)) => text.len(),
            Value::Tuple(items) => {
                items.len() * std::mem::size_of::<Value>()
                    + items.iter().map(Value::kept_bytes).sum::<usize>()
            }
            Value::Shape(dims) => dims.len() * 8,
            Value::Dict(state) => {
                std::mem::size_of::<WrapperState>()
                    + state
                        .borrow()
                        .shape
                        .as_ref()
                        .map_or(0, |dims| dims.len() * 8)
            }
            _ => 0,
        }
    }
}
