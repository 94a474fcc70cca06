//! Reading replies in assertions: accessors that panic, naming what they
//! expected, when a reply has another shape.

use soquete_resp::Frame;

/// An integer reply.
///
/// # Panics
///
/// When `frame` is not an integer.
pub fn int(frame: &Frame) -> i64 {
    match frame {
        Frame::Integer(n) => *n,
        other => panic!("expected an integer, got {other:?}"),
    }
}

/// A string reply (simple or bulk) as text, invalid UTF-8 replaced.
///
/// # Panics
///
/// When `frame` is not a string.
pub fn text(frame: &Frame) -> String {
    match frame.as_bytes() {
        Some(b) => String::from_utf8_lossy(b).into_owned(),
        None => panic!("expected a string, got {frame:?}"),
    }
}

/// A string reply that holds an integer (`GET` of a counter).
///
/// # Panics
///
/// When `frame` is not a string, or not a number.
pub fn bulk_int(frame: &Frame) -> i64 {
    text(frame)
        .parse()
        .unwrap_or_else(|_| panic!("expected a number, got {frame:?}"))
}

/// The elements of an array reply, or of a RESP3 push.
///
/// # Panics
///
/// When `frame` is neither.
pub fn items(frame: Frame) -> Vec<Frame> {
    match frame {
        Frame::Array(v) | Frame::Push(v) => v,
        other => panic!("expected an array, got {other:?}"),
    }
}

/// The value of `field` in the text of an `INFO` reply, if it is there.
///
/// ```
/// use soquete_testkit::frames::info_field;
/// let info = b"# Clients\r\nconnected_clients:3\r\nblocked_clients:0\r\n";
/// assert_eq!(info_field(info, "connected_clients").as_deref(), Some("3"));
/// assert_eq!(info_field(info, "clients"), None);
/// ```
pub fn info_field(info: &[u8], field: &str) -> Option<String> {
    let text = String::from_utf8_lossy(info);
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':').map(str::to_string))
}
