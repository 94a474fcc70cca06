//! Human-readable renderings of replies for failure messages.

use soquete_resp::Frame;

/// `bytes` as a double-quoted string with `\r`, `\n`, `\t`, `\"`, `\\` and
/// `\xHH` escapes, cut after `max` bytes (with a note of the full length).
///
/// ```
/// assert_eq!(soquete_testkit::render::escape(b"+OK\r\n", 100), r#""+OK\r\n""#);
/// assert_eq!(soquete_testkit::render::escape(b"abcdef", 3), r#""abc"... (6 bytes)"#);
/// ```
pub fn escape(bytes: &[u8], max: usize) -> String {
    let mut s = String::with_capacity(bytes.len().min(max) + 2);
    s.push('"');
    for &c in bytes.iter().take(max) {
        match c {
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n"),
            b'\t' => s.push_str("\\t"),
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(c as char),
            _ => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s.push('"');
    if bytes.len() > max {
        s.push_str(&format!("... ({} bytes)", bytes.len()));
    }
    s
}

/// `bytes` [escaped](escape) for an assertion message, up to 400 bytes:
/// compare `show(&got)` with `show(want)` and a failure prints both readably.
///
/// ```
/// assert_eq!(soquete_testkit::render::show(b"$1\r\nv\r\n"), r#""$1\r\nv\r\n""#);
/// ```
pub fn show(bytes: &[u8]) -> String {
    escape(bytes, 400)
}

/// A frame the way `redis-cli` shows it, one element per line, nested
/// aggregates indented:
///
/// ```
/// use soquete_resp::Frame;
/// let f = Frame::Array(vec![Frame::Bulk("a".into()), Frame::Integer(2), Frame::NullBulk]);
/// assert_eq!(soquete_testkit::render::render(&f), "1) \"a\"\n2) (integer) 2\n3) (nil)");
/// ```
pub fn render(frame: &Frame) -> String {
    let mut out = String::new();
    render_into(&mut out, frame, 0);
    out
}

fn render_into(out: &mut String, frame: &Frame, indent: usize) {
    match frame {
        Frame::Simple(b) => out.push_str(&escape(b, 500)),
        Frame::Error(b) => {
            out.push_str("(error) ");
            let quoted = escape(b, 500);
            // Plain text when nothing needed escaping, else the escaped form.
            if quoted.len() == b.len() + 2 {
                out.push_str(&String::from_utf8_lossy(b));
            } else {
                out.push_str(&quoted);
            }
        }
        Frame::BlobError(b) => {
            out.push_str("(blob error) ");
            out.push_str(&escape(b, 500));
        }
        Frame::Integer(n) => out.push_str(&format!("(integer) {n}")),
        Frame::Bulk(b) => out.push_str(&escape(b, 500)),
        Frame::Null => out.push_str("(null)"),
        Frame::NullBulk => out.push_str("(nil)"),
        Frame::NullArray => out.push_str("(nil array)"),
        Frame::Double(d) => out.push_str(&format!("(double) {d}")),
        Frame::BigNumber(b) => {
            out.push_str("(big number) ");
            out.push_str(&String::from_utf8_lossy(b));
        }
        Frame::Boolean(b) => out.push_str(if *b { "(true)" } else { "(false)" }),
        Frame::Verbatim { format, text } => {
            out.push_str(&format!("(verbatim {}) ", String::from_utf8_lossy(format)));
            out.push_str(&escape(text, 500));
        }
        Frame::Array(items) => list(out, "array", ")", items.iter(), indent),
        Frame::Set(items) => list(out, "set", "~", items.iter(), indent),
        Frame::Push(items) => list(out, "push", ">", items.iter(), indent),
        Frame::Map(pairs) => pairs_into(out, "map", "#", pairs, indent),
        Frame::Attribute { attrs, value } => {
            pairs_into(out, "attribute", "|", attrs, indent);
            out.push('\n');
            out.push_str(&" ".repeat(indent));
            render_into(out, value, indent);
        }
    }
}

fn list<'a>(
    out: &mut String,
    name: &str,
    mark: &str,
    items: impl ExactSizeIterator<Item = &'a Frame>,
    indent: usize,
) {
    if items.len() == 0 {
        out.push_str(&format!("(empty {name})"));
        return;
    }
    let width = items.len().to_string().len();
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push('\n');
            out.push_str(&" ".repeat(indent));
        }
        let label = format!("{:>width$}{mark} ", i + 1);
        out.push_str(&label);
        render_into(out, item, indent + label.len());
    }
}

fn pairs_into(out: &mut String, name: &str, mark: &str, pairs: &[(Frame, Frame)], indent: usize) {
    if pairs.is_empty() {
        out.push_str(&format!("(empty {name})"));
        return;
    }
    let width = pairs.len().to_string().len();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('\n');
            out.push_str(&" ".repeat(indent));
        }
        let label = format!("{:>width$}{mark} ", i + 1);
        out.push_str(&label);
        let mut key = String::new();
        render_into(&mut key, k, 0);
        out.push_str(&key);
        out.push_str(" => ");
        render_into(out, v, indent + label.len() + key.len() + 4);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_control_and_high_bytes() {
        assert_eq!(escape(b"a\"\\\x00\xff\t", 100), r#""a\"\\\x00\xff\t""#);
    }

    #[test]
    fn renders_nested_and_resp3_values() {
        let f = Frame::Map(vec![
            (Frame::Bulk("id".into()), Frame::Integer(4)),
            (
                Frame::Bulk("list".into()),
                Frame::Array(vec![Frame::Double(1.5), Frame::Boolean(true)]),
            ),
        ]);
        assert_eq!(
            render(&f),
            "1# \"id\" => (integer) 4\n2# \"list\" => 1) (double) 1.5\n             2) (true)"
        );
        assert_eq!(render(&Frame::Array(vec![])), "(empty array)");
        assert_eq!(render(&Frame::Error("ERR x".into())), "(error) ERR x");
        assert_eq!(
            render(&Frame::Error("ERR '\x00'".into())),
            r#"(error) "ERR '\x00'""#
        );
        assert_eq!(render(&Frame::Null), "(null)");
    }
}
