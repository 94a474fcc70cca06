//! LOLWUT: Redis answers with computer art and its version. soquete answers
//! with its own version line and which Redis it speaks: the art belongs to
//! Redis's releases (LOLWUT VERSION 5 and 6 draw random pictures), and a
//! line claiming "Redis ver." would say this server is something it is not.

use crate::cmd::args::is;
use crate::cmd::Ctx;
use crate::error::{CmdError, CmdResult};
use crate::util::num::parse_i64;

/// LOLWUT [VERSION version] [...]
pub fn lolwut(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    if a.len() >= 3 && is(a[1], "version") {
        // Redis reads it as a long before choosing what to draw.
        parse_i64(a[2]).ok_or(CmdError::NotInteger)?;
    }
    let text = format!(
        "soquete ver. {} (speaks Redis {})\n",
        env!("CARGO_PKG_VERSION"),
        crate::REDIS_VERSION
    );
    c.out.verbatim(text.as_bytes());
    Ok(())
}
