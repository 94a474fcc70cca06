//! `struct`
use mlua::{Lua, Table};
/// Builds the `struct` table.
pub fn module(lua: &Lua) -> mlua::Result<Table> {
    lua.create_table()
}
