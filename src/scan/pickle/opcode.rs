//! The opcodes of pickle protocols 0–5, as CPython's `Lib/pickletools.py` lists them.
//!
//! One table row per opcode gives its byte and the name messages use, so the walker matches on
//! names and the bytes are written down once.

/// Highest pickle protocol CPython knows.
pub(super) const HIGHEST_PROTOCOL: u8 = 5;

/// Declares [`Opcode`] from the table below, with its name lookup.
macro_rules! opcodes {
    ($($(#[doc = $doc:literal])* $variant:ident = $byte:literal, $name:literal;)*) => {
        /// A pickle opcode; the discriminant is its byte in the stream.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[repr(u8)]
        pub(super) enum Opcode {
            $($(#[doc = $doc])* $variant = $byte,)*
        }

        impl Opcode {
            /// Every opcode, in table order.
            pub(super) const ALL: &[Opcode] = &[$(Opcode::$variant,)*];

            /// The name `pickletools` gives it, as messages spell it.
            pub(super) fn name(self) -> &'static str {
                match self {
                    $(Opcode::$variant => $name,)*
                }
            }
        }
    };
}

opcodes! {
    // Framing and the end of a pickle.
    /// Protocol 2+: the protocol version, as the first opcode.
    Proto = 0x80, "PROTO";
    /// Protocol 4+: the length of the frame of opcodes that follows.
    Frame = 0x95, "FRAME";
    /// The end of the pickle: its result is the top of the stack.
    Stop = b'.', "STOP";

    // The stack and its marks.
    Mark = b'(', "MARK";
    /// Pops the top item; on an empty level, the mark itself.
    Pop = b'0', "POP";
    /// Pops everything down to the top mark, and the mark.
    PopMark = b'1', "POP_MARK";
    Dup = b'2', "DUP";

    // Constants: numbers.
    /// A decimal integer on its own line (`01`/`00` are True/False).
    Int = b'I', "INT";
    /// A four-byte signed integer.
    BinInt = b'J', "BININT";
    BinInt1 = b'K', "BININT1";
    BinInt2 = b'M', "BININT2";
    /// A decimal integer on its own line, possibly ending in `L`.
    Long = b'L', "LONG";
    /// Two's complement, little-endian, with a one-byte length.
    Long1 = 0x8a, "LONG1";
    /// Two's complement, little-endian, with a four-byte length.
    Long4 = 0x8b, "LONG4";
    /// A float's `repr` on its own line.
    Float = b'F', "FLOAT";
    /// An eight-byte big-endian double.
    BinFloat = b'G', "BINFLOAT";
    None = b'N', "NONE";
    NewTrue = 0x88, "NEWTRUE";
    NewFalse = 0x89, "NEWFALSE";

    // Constants: text.
    /// A quoted Python 2 `str` literal on its own line.
    String = b'S', "STRING";
    BinString = b'T', "BINSTRING";
    ShortBinString = b'U', "SHORT_BINSTRING";
    /// Raw-unicode-escape text on its own line.
    Unicode = b'V', "UNICODE";
    BinUnicode = b'X', "BINUNICODE";
    ShortBinUnicode = 0x8c, "SHORT_BINUNICODE";
    BinUnicode8 = 0x8d, "BINUNICODE8";

    // Constants: bytes and buffers.
    BinBytes = b'B', "BINBYTES";
    ShortBinBytes = b'C', "SHORT_BINBYTES";
    BinBytes8 = 0x8e, "BINBYTES8";
    ByteArray8 = 0x96, "BYTEARRAY8";
    /// An out-of-band buffer the loader supplies.
    NextBuffer = 0x97, "NEXT_BUFFER";
    /// Makes the buffer on top of the stack read-only.
    ReadonlyBuffer = 0x98, "READONLY_BUFFER";

    // Containers.
    EmptyList = b']', "EMPTY_LIST";
    Append = b'a', "APPEND";
    Appends = b'e', "APPENDS";
    List = b'l', "LIST";
    EmptyTuple = b')', "EMPTY_TUPLE";
    Tuple = b't', "TUPLE";
    Tuple1 = 0x85, "TUPLE1";
    Tuple2 = 0x86, "TUPLE2";
    Tuple3 = 0x87, "TUPLE3";
    EmptyDict = b'}', "EMPTY_DICT";
    Dict = b'd', "DICT";
    SetItem = b's', "SETITEM";
    SetItems = b'u', "SETITEMS";
    EmptySet = 0x8f, "EMPTY_SET";
    AddItems = 0x90, "ADDITEMS";
    FrozenSet = 0x91, "FROZENSET";

    // The memo.
    /// Fetches the memo entry named by a decimal key on its own line.
    Get = b'g', "GET";
    BinGet = b'h', "BINGET";
    LongBinGet = b'j', "LONG_BINGET";
    /// Stores the top of the stack under a decimal key on its own line.
    Put = b'p', "PUT";
    BinPut = b'q', "BINPUT";
    LongBinPut = b'r', "LONG_BINPUT";
    /// Stores the top of the stack under the memo's size.
    Memoize = 0x94, "MEMOIZE";

    // Imports.
    /// Imports `module.name`, each on its own line.
    Global = b'c', "GLOBAL";
    /// Imports the module and name strings on top of the stack.
    StackGlobal = 0x93, "STACK_GLOBAL";
    /// Imports what the copyreg extension registry holds under a code.
    Ext1 = 0x82, "EXT1";
    Ext2 = 0x83, "EXT2";
    Ext4 = 0x84, "EXT4";

    // Calls and object state.
    /// Calls a callable with an argument tuple.
    Reduce = b'R', "REDUCE";
    /// `cls.__new__(cls, *args)`.
    NewObj = 0x81, "NEWOBJ";
    /// `cls.__new__(cls, *args, **kwargs)`.
    NewObjEx = 0x92, "NEWOBJ_EX";
    /// Calls the class above a mark with the items after it.
    Obj = b'o', "OBJ";
    /// Imports a class named on two lines and calls it with the items above a mark.
    Inst = b'i', "INST";
    /// Sets the state of the object below the top item.
    Build = b'b', "BUILD";

    // References resolved by the loader.
    /// A persistent id on its own line.
    PersId = b'P', "PERSID";
    /// A persistent id taken from the stack.
    BinPersId = b'Q', "BINPERSID";
}

/// Opcode by byte: a table built at compile time from [`Opcode::ALL`].
const BY_BYTE: [Option<Opcode>; 256] = {
    let mut table = [Option::None; 256];
    let mut i = 0;
    while i < Opcode::ALL.len() {
        table[Opcode::ALL[i] as usize] = Some(Opcode::ALL[i]);
        i += 1;
    }
    table
};

impl TryFrom<u8> for Opcode {
    /// The byte itself, which is no opcode.
    type Error = u8;

    fn try_from(byte: u8) -> Result<Self, u8> {
        BY_BYTE[usize::from(byte)].ok_or(byte)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_opcode_of_protocols_0_to_5_once() {
        // `len(pickletools.opcodes)` in CPython 3.8 and later.
        assert_eq!(Opcode::ALL.len(), 68);
        let bytes: HashSet<u8> = Opcode::ALL.iter().map(|&op| op as u8).collect();
        let names: HashSet<&str> = Opcode::ALL.iter().map(|op| op.name()).collect();
        assert_eq!(bytes.len(), Opcode::ALL.len());
        assert_eq!(names.len(), Opcode::ALL.len());
    }

    #[test]
    fn bytes_round_trip() {
        for byte in 0..=u8::MAX {
            match Opcode::try_from(byte) {
                Ok(op) => assert_eq!(op as u8, byte),
                Err(unknown) => {
                    assert_eq!(unknown, byte);
                    assert!(!Opcode::ALL.iter().any(|&op| op as u8 == byte));
                }
            }
        }
        assert_eq!(Opcode::try_from(0x93), Ok(Opcode::StackGlobal));
        assert_eq!(Opcode::try_from(b'R').map(Opcode::name), Ok("REDUCE"));
    }
}
