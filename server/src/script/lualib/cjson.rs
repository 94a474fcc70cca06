//! `cjson`
use mlua::{Lua, Table};
/// Builds the `cjson` table.
pub fn module(lua: &Lua) -> mlua::Result<Table> {
    lua.create_table()
}
