//! The opcodes of pickle protocols 0–5, as CPython's `Lib/pickletools.py` lists them.
//!
//! One table row per opcode gives its byte, the name messages use, and how its argument is laid
//! out in the stream, so the walker matches on names and reads every argument the same way.

/// Highest pickle protocol CPython knows.
pub(super) const HIGHEST_PROTOCOL: u8 = 5;

/// What follows an opcode in the stream, as the walk reads it. This follows `pickletools`'
/// argument descriptors, merged where the walk reads them alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ArgumentKind {
    /// Nothing: the opcode works on the stack alone.
    Empty,
    /// Little-endian unsigned integers of 1, 2, 4 and 8 bytes.
    UInt1,
    UInt2,
    UInt4,
    UInt8,
    /// A little-endian signed four-byte integer.
    Int4,
    /// An eight-byte float, not followed.
    Float8,
    /// A memo key in decimal, on its own line.
    KeyLine,
    /// A number as Python's `repr` writes it, on its own line.
    NumberLine,
    /// A quoted Python string literal, on its own line.
    QuotedLine,
    /// Raw-unicode-escape text, on its own line.
    UnicodeLine,
    /// A persistent id, on its own line, not followed.
    PersIdLine,
    /// A module and a name, each on its own line.
    ModuleAndName,
    /// A length, then that many bytes.
    Counted(Length, Payload),
}

/// How the length of a counted argument is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Length {
    UInt1,
    /// Signed: a negative length is an error.
    Int4,
    UInt4,
    UInt8,
}

/// What the walk keeps of a counted argument's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Payload {
    /// Text, kept up to `max-string-bytes`: module and attribute names, dict keys, dtype codes.
    Text,
    /// An integer in two's complement, kept when it fits 64 bits.
    SmallInt,
    /// Data, skipped whatever its size.
    Skipped,
}

/// Declares [`Opcode`] from the table below, with its name and argument lookups.
macro_rules! opcodes {
    ($(
        $(#[doc = $doc:literal])*
        $variant:ident = $byte:literal, $name:literal, $argument:expr;
    )*) => {
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

            /// How its argument is laid out.
            pub(super) fn argument(self) -> ArgumentKind {
                use ArgumentKind::*;
                match self {
                    $(Opcode::$variant => $argument,)*
                }
            }
        }
    };
}

opcodes! {
    // Framing and the end of a pickle.
    /// Protocol 2+: the protocol version, as the first opcode.
    Proto = 0x80, "PROTO", UInt1;
    /// Protocol 4+: the length of the frame of opcodes that follows.
    Frame = 0x95, "FRAME", UInt8;
    /// The end of the pickle: its result is the top of the stack.
    Stop = b'.', "STOP", Empty;

    // The stack and its marks.
    Mark = b'(', "MARK", Empty;
    /// Pops the top item; on an empty level, the mark itself.
    Pop = b'0', "POP", Empty;
    /// Pops everything down to the top mark, and the mark.
    PopMark = b'1', "POP_MARK", Empty;
    Dup = b'2', "DUP", Empty;

    // Constants: numbers.
    /// A decimal integer on its own line (`01`/`00` are True/False).
    Int = b'I', "INT", NumberLine;
    /// A four-byte signed integer.
    BinInt = b'J', "BININT", Int4;
    BinInt1 = b'K', "BININT1", UInt1;
    BinInt2 = b'M', "BININT2", UInt2;
    /// A decimal integer on its own line, possibly ending in `L`.
    Long = b'L', "LONG", NumberLine;
    /// Two's complement, little-endian, with a one-byte length.
    Long1 = 0x8a, "LONG1", Counted(Length::UInt1, Payload::SmallInt);
    /// Two's complement, little-endian, with a four-byte length. CPython writes it only for
    /// integers of more than 255 bytes, so it is skipped like data.
    Long4 = 0x8b, "LONG4", Counted(Length::Int4, Payload::Skipped);
    /// A float's `repr` on its own line.
    Float = b'F', "FLOAT", NumberLine;
    /// An eight-byte big-endian double.
    BinFloat = b'G', "BINFLOAT", Float8;
    None = b'N', "NONE", Empty;
    NewTrue = 0x88, "NEWTRUE", Empty;
    NewFalse = 0x89, "NEWFALSE", Empty;

    // Constants: text.
    /// A quoted Python 2 `str` literal on its own line.
    String = b'S', "STRING", QuotedLine;
    BinString = b'T', "BINSTRING", Counted(Length::Int4, Payload::Text);
    ShortBinString = b'U', "SHORT_BINSTRING", Counted(Length::UInt1, Payload::Text);
    /// Raw-unicode-escape text on its own line.
    Unicode = b'V', "UNICODE", UnicodeLine;
    BinUnicode = b'X', "BINUNICODE", Counted(Length::UInt4, Payload::Text);
    ShortBinUnicode = 0x8c, "SHORT_BINUNICODE", Counted(Length::UInt1, Payload::Text);
    BinUnicode8 = 0x8d, "BINUNICODE8", Counted(Length::UInt8, Payload::Text);

    // Constants: bytes and buffers.
    BinBytes = b'B', "BINBYTES", Counted(Length::UInt4, Payload::Skipped);
    ShortBinBytes = b'C', "SHORT_BINBYTES", Counted(Length::UInt1, Payload::Skipped);
    BinBytes8 = 0x8e, "BINBYTES8", Counted(Length::UInt8, Payload::Skipped);
    ByteArray8 = 0x96, "BYTEARRAY8", Counted(Length::UInt8, Payload::Skipped);
    /// An out-of-band buffer the loader supplies.
    NextBuffer = 0x97, "NEXT_BUFFER", Empty;
    /// Makes the buffer on top of the stack read-only.
    ReadonlyBuffer = 0x98, "READONLY_BUFFER", Empty;

    // Containers.
    EmptyList = b']', "EMPTY_LIST", Empty;
    Append = b'a', "APPEND", Empty;
    Appends = b'e', "APPENDS", Empty;
    List = b'l', "LIST", Empty;
    EmptyTuple = b')', "EMPTY_TUPLE", Empty;
    Tuple = b't', "TUPLE", Empty;
    Tuple1 = 0x85, "TUPLE1", Empty;
    Tuple2 = 0x86, "TUPLE2", Empty;
    Tuple3 = 0x87, "TUPLE3", Empty;
    EmptyDict = b'}', "EMPTY_DICT", Empty;
    Dict = b'd', "DICT", Empty;
    SetItem = b's', "SETITEM", Empty;
    SetItems = b'u', "SETITEMS", Empty;
    EmptySet = 0x8f, "EMPTY_SET", Empty;
    AddItems = 0x90, "ADDITEMS", Empty;
    FrozenSet = 0x91, "FROZENSET", Empty;

    // The memo.
    /// Fetches the memo entry named by a decimal key on its own line.
    Get = b'g', "GET", KeyLine;
    BinGet = b'h', "BINGET", UInt1;
    LongBinGet = b'j', "LONG_BINGET", UInt4;
    /// Stores the top of the stack under a decimal key on its own line.
    Put = b'p', "PUT", KeyLine;
    BinPut = b'q', "BINPUT", UInt1;
    LongBinPut = b'r', "LONG_BINPUT", UInt4;
    /// Stores the top of the stack under the memo's size.
    Memoize = 0x94, "MEMOIZE", Empty;

    // Imports.
    /// Imports `module.name`, each on its own line.
    Global = b'c', "GLOBAL", ModuleAndName;
    /// Imports the module and name strings on top of the stack.
    StackGlobal = 0x93, "STACK_GLOBAL", Empty;
    /// Imports what the copyreg extension registry holds under a code.
    Ext1 = 0x82, "EXT1", UInt1;
    Ext2 = 0x83, "EXT2", UInt2;
    /// The code is signed in `pickletools`; read unsigned here, which only changes how an
    /// invalid (negative) code is printed in the reason.
    Ext4 = 0x84, "EXT4", UInt4;

    // Calls and object state.
    /// Calls a callable with an argument tuple.
    Reduce = b'R', "REDUCE", Empty;
    /// `cls.__new__(cls, *args)`.
    NewObj = 0x81, "NEWOBJ", Empty;
    /// `cls.__new__(cls, *args, **kwargs)`.
    NewObjEx = 0x92, "NEWOBJ_EX", Empty;
    /// Calls the class above a mark with the items after it.
    Obj = b'o', "OBJ", Empty;
    /// Imports a class named on two lines and calls it with the items above a mark.
    Inst = b'i', "INST", ModuleAndName;
    /// Sets the state of the object below the top item.
    Build = b'b', "BUILD", Empty;

    // References resolved by the loader.
    /// A persistent id on its own line.
    PersId = b'P', "PERSID", PersIdLine;
    /// A persistent id taken from the stack.
    BinPersId = b'Q', "BINPERSID", Empty;
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
