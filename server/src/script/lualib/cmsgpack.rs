//! `cmsgpack`
use mlua::{Lua, Table};
/// Builds the `cmsgpack` table.
pub fn module(lua: &Lua) -> mlua::Result<Table> {
    lua.create_table()
}
