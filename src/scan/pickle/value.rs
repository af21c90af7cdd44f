//! The values of the simulated stack and memo.

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

/// Tuples at most this long are kept as `Value::Tuple` (enough for call arguments checked by
/// `encoding-argument`); longer ones, or nested ones, become `Value::Other`.
const KEPT_TUPLE_LEN: usize = 4;

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
                    Value::Tuple(_) => Value::Other,
                    flat => flat,
                })
                .collect(),
        )
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
                    + state.shape.as_ref().map_or(0, |dims| dims.len() * 8)
            }
            _ => 0,
        }
    }
}
