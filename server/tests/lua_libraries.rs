//! Redis's Lua libraries (`cjson`, `cmsgpack`, `bit`, `struct`) against
//! ours: each snippet runs under `EVAL` on a real redis-server 7.0.15 and
//! in a local Lua 5.1 with `soquete_server::script::lualib::open`, and the
//! two descriptions of what it returned (or the error it raised) must be
//! the same bytes.
//!
//! A snippet is the body of a function; the harness calls it with `pcall`
//! and describes the results with a small Lua printer (strings with `%q`,
//! numbers with `%.17g`, tables with sorted keys, `cjson.null` by name), so
//! both sides produce one string. Both Lua states live through all the
//! snippets, in order, as Redis's does: a snippet that changes a `cjson`
//! setting puts it back. Errors are raised in non-tail position (see
//! `lualib`'s docs: a tail call loses the caller's place).

use mlua::Lua;
use soquete_resp::Frame;
use soquete_testkit::ServerProcess;

/// Describes `pcall(body)`'s results as one string.
const HARNESS: &str = r#"
local function show(v)
  local t = type(v)
  if t == 'string' then return string.format('%q', v)
  elseif t == 'number' then return string.format('%.17g', v)
  elseif t == 'table' then
    local items = {}
    for k, x in pairs(v) do items[#items + 1] = '[' .. show(k) .. ']=' .. show(x) end
    table.sort(items)
    return '{' .. table.concat(items, ',') .. '}'
  elseif t == 'userdata' and v == cjson.null then return 'cjson.null'
  else return t .. (v == nil and '' or ':' .. tostring(v == nil)) end
end
local function describe(...)
  local out = {}
  for i = 1, select('#', ...) do out[i] = show((select(i, ...))) end
  return table.concat(out, ' ')
end
return describe(pcall(function()
"#;

/// Snippets: `(what it checks, body)`.
const SNIPPETS: &[(&str, &str)] = &[
    // ---- bit ----
    ("bit.tobit wraps", "return bit.tobit(0xffffffff), bit.tobit(2^32 + 7), bit.tobit(-2^31 - 1)"),
    ("bit.tobit rounds", "return bit.tobit(1.5), bit.tobit(2.5), bit.tobit(-1.5), bit.tobit(0.49)"),
    ("bit.tobit of huge", "return bit.tobit(2^53), bit.tobit(2^60 + 12345), bit.tobit(1e300), bit.tobit(-1e20)"),
    ("bit.tobit of numeric strings", "return bit.tobit('42'), bit.tobit('0x10'), bit.tobit(' 7 ')"),
    ("bit.bnot", "return bit.bnot(0), bit.bnot(-1), bit.bnot(0x12345678)"),
    ("bit.band/bor/bxor", "return bit.band(0xff00, 0x0ff0), bit.bor(1, 2, 4, 8), bit.bxor(0xffffffff, 1), bit.band(-1, 2^40 + 3)"),
    ("bit ops of one argument", "return bit.band(5), bit.bor(-3), bit.bxor(9)"),
    ("bit shifts", "return bit.lshift(1, 31), bit.lshift(1, 32), bit.rshift(-1, 28), bit.arshift(-256, 4), bit.arshift(0x80000000, 31)"),
    ("bit shift counts masked", "return bit.lshift(3, 33), bit.rshift(0x100, -28), bit.lshift(1, 2^32 + 1)"),
    ("bit rotations", "return bit.rol(0x12345678, 12), bit.ror(0x12345678, 12), bit.rol(1, 0), bit.ror(-2, 33)"),
    ("bit.bswap", "return bit.bswap(0x12345678), bit.bswap(-1), bit.bswap(0xff)"),
    ("bit.tohex widths", "return bit.tohex(255), bit.tohex(255, 2), bit.tohex(-1, -3), bit.tohex(0xabcdef, 12), bit.tohex(1, 0), bit.tohex(-2, -8)"),
    ("bit.tohex of big and negative", "return bit.tohex(2^32 + 10), bit.tohex(-1), bit.tohex(0x7fffffff, -8)"),
    ("bit error: table", "local r = bit.band(1, {}) return r"),
    ("bit error order is last first", "local r = bit.bor('x', 1, true) return r"),
    ("bit error: no value", "local r = bit.tobit() return r"),
    ("bit error: nil width", "local r = bit.tohex(1, nil) return r"),
    ("bit error under pcall", "return pcall(bit.lshift, 1)"),
    ("bit error as a local", "local f = bit.bswap local r = f('z') return r"),
    // ---- struct ----
    ("struct ints little and big", "return struct.pack('<i4>i4', 1, 1), struct.pack('>h<h', -2, -2)"),
    ("struct all integer letters", "return struct.pack('bBhHlLTiI', -1, 255, -300, 65535, -5, 5, 7, -9, 9)"),
    ("struct sized ints", "return struct.pack('>i1i2i3i5i8', -1, 258, -70000, 2^33, -1)"),
    ("struct long ints", "return struct.pack('>i10<i12', -1, 3), struct.pack('>I16', 2^63)"),
    ("struct i0", "return struct.pack('i0', 5), struct.unpack('i0', '')"),
    ("struct out of range ints", "return struct.pack('>I8', 2^64), struct.pack('>i8', -2^64), struct.pack('>I4', 2^32 + 3), struct.pack('>i8', 1/0)"),
    ("struct floats", "return struct.pack('<f>f', 1.5, 1.5), struct.pack('>d', 0.1), struct.pack('<d', -0.0)"),
    ("struct float rounding", "return struct.unpack('f', struct.pack('f', 0.1)), struct.unpack('>f', struct.pack('>f', 1e40))"),
    ("struct strings", "return struct.pack('s', 'ab'), struct.pack('c3', 'abcdef'), struct.pack('c0', 'xyz'), struct.pack('c', 'q')"),
    ("struct numbers as strings", "return struct.pack('c2s', 12, 3.5), struct.pack('i', '77')"),
    ("struct padding x", "return struct.pack('bxxb', 1, 2)"),
    ("struct alignment", "return struct.pack('!4bi', 1, 2), struct.pack('!bd', 1, 2), struct.pack('!2bib', 1, 2, 3), struct.pack('!8bh', 1, 2)"),
    ("struct alignment with odd sizes", "return struct.pack('!8bi3', 1, 2), struct.size('!8bi3i5'), struct.size('!bi6')"),
    ("struct spaces", "return struct.pack(' > i2 ', 5)"),
    ("struct size", "return struct.size('i'), struct.size('bhld'), struct.size('!bhld'), struct.size('c10'), struct.size('>i3<I7'), struct.size('')"),
    ("struct size ignores unknown letters", "return struct.size('zq'), struct.size('i2 3')"),
    ("struct unpack ints", "return struct.unpack('<i2>i2', '\\1\\2\\1\\2')"),
    ("struct unpack signedness", "return struct.unpack('bBhH', '\\255\\255\\255\\255\\255\\255')"),
    ("struct unpack long sizes", "return struct.unpack('>i9', string.rep('\\255', 9)), struct.unpack('<i10', '\\1' .. string.rep('\\0', 9)), struct.unpack('>I12', string.rep('\\1', 12))"),
    ("struct unpack 64-bit", "return struct.unpack('>L', '\\255\\255\\255\\255\\255\\255\\255\\255'), struct.unpack('>l', '\\128\\0\\0\\0\\0\\0\\0\\0')"),
    ("struct unpack offset", "return struct.unpack('b', 'abc', 2), struct.unpack('c2', 'abcd', 3)"),
    ("struct unpack strings", "return struct.unpack('sc2', 'hi\\0xyz')"),
    ("struct unpack c0", "return struct.unpack('bc0', '\\3abcd'), struct.unpack('c1c0', '2xyz')"),
    ("struct unpack doubles", "return struct.unpack('>d<f', struct.pack('>d<f', 1/3, 0.25))"),
    ("struct unpack negative offset", "local ok, e = pcall(struct.unpack, 'b', 'ab', -1) return ok, e, struct.unpack('', 'ab', -5)"),
    ("struct unpack aligned", "return struct.unpack('!4bi', struct.pack('!4bi', 7, 9))"),
    ("struct error: =", "local r = struct.pack('=i', 1) return r"),
    ("struct error: unknown option", "local r = struct.pack('q', 1) return r"),
    ("struct error: digit after letter", "local r = struct.pack('b2', 1) return r"),
    ("struct error: int too big", "local r = struct.pack('i33', 1) return r"),
    ("struct error: size overflow", "local r = struct.size('c99999999999') return r"),
    ("struct error: alignment", "local r = struct.pack('!3i', 1) return r"),
    ("struct error: alignment 0", "local r = struct.size('!0') return r"),
    ("struct error: string too short", "local r = struct.pack('bc5', 1, 'ab') return r"),
    ("struct error: missing number", "local r = struct.pack('ii', 1) return r"),
    ("struct error: bad number", "local r = struct.pack('d', {}) return r"),
    ("struct error: missing string", "local r = struct.pack('s') return r"),
    ("struct error: data too short", "local r = struct.unpack('i', 'abc') return r"),
    ("struct error: c0 without size", "local r = struct.unpack('c0', 'abc') return r"),
    ("struct error: c0 after string", "local r = struct.unpack('c1c0', 'xabc') return r"),
    ("struct error: c0 too long", "local r = struct.unpack('bc0', '\\9ab') return r"),
    ("struct error: unfinished string", "local r = struct.unpack('s', 'abc') return r"),
    ("struct error: offset 0", "local r = struct.unpack('b', 'abc', 0) return r"),
    ("struct error: s has no size", "local r = struct.size('is') return r"),
    ("struct error: c0 has no size", "local r = struct.size('c0') return r"),
    ("struct error: no format", "local r = struct.pack() return r"),
    ("struct error: no data", "local r = struct.unpack('b') return r"),
    ("struct error: bad offset type", "local r = struct.unpack('b', 'a', {}) return r"),
    // ---- cmsgpack ----
    ("msgpack positive ints", "return cmsgpack.pack(0, 1, 127, 128, 255, 256, 65535, 65536, 2^32 - 1, 2^32, 2^53)"),
    ("msgpack negative ints", "return cmsgpack.pack(-1, -32, -33, -128, -129, -32768, -32769, -2^31, -2^31 - 1, -2^53)"),
    ("msgpack int64 edges", "return cmsgpack.pack(2^63, -2^63, 2^64, -2^63 - 2^11)"),
    ("msgpack floats", "return cmsgpack.pack(0.5, 0.1, -1.5, 1e300, 1e-300, 3.4028234663852886e38, 1/3)"),
    ("msgpack special numbers", "return cmsgpack.pack(1/0, -1/0, -0.0)"),
    ("msgpack nan", "local s = cmsgpack.pack(0/0) return #s, s:byte(1)"),
    ("msgpack strings by size", "return cmsgpack.pack('', 'a', string.rep('x', 31)), #cmsgpack.pack(string.rep('x', 32)), cmsgpack.pack(string.rep('y', 255)):sub(1, 3)"),
    ("msgpack long strings", "return cmsgpack.pack(string.rep('z', 256)):sub(1, 4), cmsgpack.pack(string.rep('z', 65535)):sub(1, 4), cmsgpack.pack(string.rep('z', 65536)):sub(1, 6)"),
    ("msgpack booleans and nil", "return cmsgpack.pack(true, false, nil)"),
    ("msgpack unsupported types", "return cmsgpack.pack(string.len, cjson.null, coroutine.create(function() end))"),
    ("msgpack arrays", "return cmsgpack.pack({}, {1}, {1, 2, 3}, {'a', {true}})"),
    ("msgpack array sizes", "local t = {} for i = 1, 16 do t[i] = i end local u = {} for i = 1, 65536 do u[i] = 0 end return cmsgpack.pack(t), cmsgpack.pack(u):sub(1, 6)"),
    ("msgpack maps", "return cmsgpack.pack({a = 1}), cmsgpack.pack({[2] = 'x'}), cmsgpack.pack({[0] = 1}), cmsgpack.pack({[1.5] = 1}), cmsgpack.pack({[true] = false})"),
    ("msgpack map sizes", "local t = {} for i = 1, 16 do t['k' .. i] = i end local s = cmsgpack.pack(t) return s:sub(1, 3), #s"),
    ("msgpack holes make maps", "return cmsgpack.pack({1, nil, 3})"),
    ("msgpack big int keys make maps", "return cmsgpack.pack({[2^31] = 1}), cmsgpack.pack({[1] = 1, [2^40] = 2}):sub(1, 1)"),
    ("msgpack nesting limit", "local t = {} local c = t for i = 1, 20 do c[1] = {} c = c[1] end return cmsgpack.pack(t)"),
    ("msgpack nesting in maps", "local t = {} local c = t for i = 1, 20 do c.k = {} c = c.k end return cmsgpack.pack(t)"),
    ("msgpack several values", "return cmsgpack.pack(1, 'two', {3})"),
    ("msgpack round trip", "return cmsgpack.unpack(cmsgpack.pack({1, 2, {a = 'b', c = {true, false}}, -5.25}, 'x', 2^40))"),
    ("msgpack unpack ints", "return cmsgpack.unpack('\\204\\200\\205\\1\\0\\206\\0\\1\\0\\0\\208\\128\\209\\128\\0\\210\\128\\0\\0\\0\\224\\127')"),
    ("msgpack unpack 64-bit", "return cmsgpack.unpack('\\207\\255\\255\\255\\255\\255\\255\\255\\255\\207\\0\\0\\0\\1\\0\\0\\0\\0\\211\\128\\0\\0\\0\\0\\0\\0\\0\\211\\255\\255\\255\\255\\255\\255\\255\\254')"),
    ("msgpack unpack floats", "return cmsgpack.unpack('\\202\\63\\192\\0\\0\\203\\63\\185\\153\\153\\153\\153\\153\\154')"),
    ("msgpack unpack strings", "return cmsgpack.unpack('\\163abc\\217\\2hi\\218\\0\\1z\\219\\0\\0\\0\\2ok')"),
    ("msgpack unpack containers", "return cmsgpack.unpack('\\146\\1\\2\\220\\0\\1\\3\\221\\0\\0\\0\\1\\4\\129\\161k\\1\\222\\0\\1\\1\\2\\223\\0\\0\\0\\1\\3\\4')"),
    ("msgpack unpack nil inside", "return cmsgpack.unpack('\\147\\192\\1\\192\\129\\1\\192')"),
    ("msgpack unpack empty", "return select('#', cmsgpack.unpack(''))"),
    ("msgpack unpack_one", "local s = cmsgpack.pack(1, {2}, 'x') return cmsgpack.unpack_one(s), cmsgpack.unpack_one(s, 1), cmsgpack.unpack_one(s, 4)"),
    ("msgpack unpack_one at end", "return cmsgpack.unpack_one(cmsgpack.pack(1, 2), 2)"),
    ("msgpack unpack_limit", "local s = cmsgpack.pack(1, 2, 3, 4) return cmsgpack.unpack_limit(s, 2), cmsgpack.unpack_limit(s, 9, 1), cmsgpack.unpack_limit(s, 0)"),
    ("msgpack unpack_limit zero with offset", "return cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 0, 1)"),
    ("msgpack extra unpack arguments", "return cmsgpack.unpack(cmsgpack.pack(7), 'ignored')"),
    ("msgpack metadata", "return cmsgpack._NAME, cmsgpack._VERSION, cmsgpack._COPYRIGHT, cmsgpack._DESCRIPTION"),
    ("msgpack error: missing bytes", "local r = cmsgpack.unpack('\\146\\1') return r"),
    ("msgpack error: missing string bytes", "local r = cmsgpack.unpack('\\165ab') return r"),
    ("msgpack error: bad format", "local r = cmsgpack.unpack('\\193') return r"),
    ("msgpack error: bin type", "local r = cmsgpack.unpack('\\196\\1a') return r"),
    ("msgpack error: nil key", "local r = cmsgpack.unpack('\\129\\192\\1') return r"),
    ("msgpack error: nan key", "local r = cmsgpack.unpack('\\129\\203\\255\\248\\0\\0\\0\\0\\0\\0\\1') return r"),
    ("msgpack error: no input", "local r = cmsgpack.pack() return r"),
    ("msgpack error: negative offset", "local r = cmsgpack.unpack_one('abc', -1) return r"),
    ("msgpack error: negative limit", "local r = cmsgpack.unpack_limit('abc', -2) return r"),
    ("msgpack error: offset past end", "local r = cmsgpack.unpack_one('\\1', 3) return r"),
    ("msgpack error: not a string", "local r = cmsgpack.unpack({}) return r"),
    ("msgpack error: limit not a number", "local r = cmsgpack.unpack_limit('\\1', 'x') return r"),
    ("msgpack deep arrays overflow", "local r = cmsgpack.unpack(string.rep('\\145', 5000) .. '\\1') return r"),
    ("msgpack deep arrays at the limit", "local ok = pcall(cmsgpack.unpack, string.rep('\\145', 3998) .. '\\1') local ok2, e = pcall(cmsgpack.unpack, string.rep('\\145', 3999) .. '\\1') return ok, ok2, e"),
    ("msgpack deep maps overflow", "local r = cmsgpack.unpack(string.rep('\\129\\1', 4100) .. '\\1') return r"),
    ("msgpack too many values", "local r = {cmsgpack.unpack(string.rep('\\1', 8001))} return #r"),
    ("msgpack many values fit", "local r = {cmsgpack.unpack(string.rep('\\1', 7990))} return #r"),
    ("msgpack wide tables", "local t = {} for i = 1, 20000 do t[i] = 'v' .. i end local m = {} for i = 1, 10000 do m['k' .. i] = {i} end local a = cmsgpack.pack(t) local b = cmsgpack.pack(m) local u = cmsgpack.unpack(a) local v = cmsgpack.unpack(b) return #a, #b, #u, u[20000], v.k777[1]"),
    ("msgpack too many pack arguments", "local t = {} for i = 1, 4001 do t[i] = i end local r = cmsgpack.pack(unpack(t)) return r"),
    // ---- cjson: encode ----
    ("cjson numbers", "return cjson.encode({0.1, 1e300, -0.0, 123456789012345, 2^53, 1/3, 1e-5, 0.0001, 1e15, 1e14, 123456.5, -1.5e-7})"),
    ("cjson integers", "return cjson.encode({1, -1, 100000000000000, 99999999999999, 2^31, -2^31})"),
    ("cjson scalars", "return cjson.encode('x'), cjson.encode(1), cjson.encode(true), cjson.encode(false), cjson.encode(nil), cjson.encode(cjson.null)"),
    ("cjson escapes", "return cjson.encode('a\"b\\\\c/d\\b\\f\\n\\r\\t\\0\\1\\31\\127 \\128\\255')"),
    ("cjson utf8 passes through", "return cjson.encode('caf\\195\\169 \\226\\130\\172')"),
    ("cjson arrays", "return cjson.encode({1, 2, 3}), cjson.encode({{}, {{}}}), cjson.encode({'a', {b = 1}})"),
    ("cjson holes", "return cjson.encode({[1] = 1, [3] = 3}), cjson.encode({nil, 2}), cjson.encode({[10] = 1})"),
    ("cjson sparse error", "local r = cjson.encode({[11] = 1}) return r"),
    ("cjson sparse ratio", "return cjson.encode({[1] = 1, [2] = 2, [12] = 3}), pcall(cjson.encode, {[1] = 1, [13] = 3})"),
    ("cjson empty table is an object", "return cjson.encode({}), cjson.encode({{}})"),
    ("cjson objects", "return cjson.encode({a = 1}), cjson.encode({['a/b'] = 'c'}), cjson.encode({[1.5] = 1})"),
    ("cjson mixed keys", "local s = cjson.encode({1, 2, x = 3}) return #s, s:sub(1, 1)"),
    ("cjson number keys", "return cjson.encode({[0] = 'z'}), cjson.encode({[-1] = 'n'}), cjson.encode({[0.5] = 'h'})"),
    ("cjson big key", "return cjson.encode({[2^31] = 1}), cjson.encode({[1e10] = 1})"),
    ("cjson big key then small", "local t = {} t[1e10] = 1 t[2] = 2 local ok, e = pcall(cjson.encode, t) return ok, type(e)"),
    ("cjson error: function", "local r = cjson.encode(string.len) return r"),
    ("cjson error: function inside", "local r = cjson.encode({1, string.len}) return r"),
    ("cjson error: thread", "local r = cjson.encode(coroutine.create(function() end)) return r"),
    ("cjson error: boolean key", "local r = cjson.encode({[true] = 1}) return r"),
    ("cjson error: table key", "local r = cjson.encode({[{}] = 1}) return r"),
    ("cjson error: inf", "local r = cjson.encode(1/0) return r"),
    ("cjson error: nan", "local r = cjson.encode({0/0}) return r"),
    ("cjson error: inf key", "local r = cjson.encode({[1/0] = 1}) return r"),
    ("cjson error: arguments", "local r = cjson.encode(1, 2) return r"),
    ("cjson error: no argument", "local r = cjson.encode() return r"),
    ("cjson error: nesting", "local t = {} local c = t for i = 1, 1100 do c[1] = {} c = c[1] end local r = cjson.encode(t) return r"),
    ("cjson error: cycle", "local t = {} t.self = t local r = cjson.encode(t) return r"),
    ("cjson nesting at the limit", "local t = {} local c = t for i = 1, 999 do c[1] = {} c = c[1] end return #cjson.encode(t)"),
    ("cjson deep objects hit the Lua stack", "cjson.encode_max_depth(100000) local t = {} local c = t for i = 1, 5000 do c.k = {} c = c.k end local ok, e = pcall(cjson.encode, t) cjson.encode_max_depth(1000) return ok, e"),
    ("cjson deep arrays hit the Lua stack", "cjson.encode_max_depth(100000) local t = {} local c = t for i = 1, 9000 do c[1] = {} c = c[1] end local ok, e = pcall(cjson.encode, t) cjson.encode_max_depth(1000) return ok, e"),
    ("cjson wide tables", "local t = {} for i = 1, 20000 do t[i] = 'v' .. i end local m = {} for i = 1, 10000 do m['k' .. i] = {i} end local a = cjson.encode(t) local b = cjson.encode(m) local u = cjson.decode(a) local v = cjson.decode(b) return #a, #b, #u, u[20000], v.k777[1]"),
    ("cjson precision", "local a = cjson.encode_number_precision(3) local s = cjson.encode({1/3, 123456, 0.0001234}) local b = cjson.encode_number_precision(14) return a, s, b"),
    ("cjson precision 1", "cjson.encode_number_precision(1) local s = cjson.encode({15, 0.25, 99}) cjson.encode_number_precision(14) return s"),
    ("cjson precision errors", "local a, e1 = pcall(cjson.encode_number_precision, 15) local b, e2 = pcall(cjson.encode_number_precision, 0) return e1, e2, cjson.encode_number_precision()"),
    ("cjson invalid numbers on", "cjson.encode_invalid_numbers(true) local s = cjson.encode({1/0, -1/0, 0/0, [1.5] = 1}) cjson.encode_invalid_numbers(false) return s"),
    ("cjson invalid numbers null", "local m = cjson.encode_invalid_numbers('null') local s = cjson.encode({1/0, 0/0}) local k = cjson.encode({[1/0] = 1}) cjson.encode_invalid_numbers('off') return m, s, k"),
    ("cjson invalid numbers answers", "return cjson.encode_invalid_numbers(), cjson.encode_invalid_numbers('on'), cjson.encode_invalid_numbers(false), cjson.encode_invalid_numbers()"),
    ("cjson sparse settings", "local a, b, c = cjson.encode_sparse_array() local s1 = cjson.encode_sparse_array(true) local t = cjson.encode({[20] = 1}) cjson.encode_sparse_array(false, 0) local u = cjson.encode({[30] = 1}) cjson.encode_sparse_array(false, 2, 10) return a, b, c, s1, t, u"),
    ("cjson sparse safe", "cjson.encode_sparse_array(false, 2, 20) local s = cjson.encode({[20] = 1}) cjson.encode_sparse_array(false, 2, 10) return s"),
    ("cjson setting errors", "local r = {} r[1] = select(2, pcall(cjson.encode_sparse_array, 'maybe')) r[2] = select(2, pcall(cjson.encode_sparse_array, nil, -1)) r[3] = select(2, pcall(cjson.encode_max_depth, 0)) r[4] = select(2, pcall(cjson.encode_keep_buffer, 1, 2)) r[5] = select(2, pcall(cjson.decode_invalid_numbers, {})) r[6] = select(2, pcall(cjson.encode_max_depth, 'x')) return r"),
    ("cjson keep buffer", "return cjson.encode_keep_buffer(), cjson.encode_keep_buffer('off'), cjson.encode_keep_buffer(true)"),
    ("cjson depth settings", "return cjson.encode_max_depth(), cjson.decode_max_depth(), cjson.encode_max_depth(1000), cjson.decode_max_depth(1000)"),
    ("cjson max depth 1", "cjson.encode_max_depth(1) local ok, e = pcall(cjson.encode, {{}}) local s = cjson.encode({1}) cjson.encode_max_depth(1000) return ok, e, s"),
    ("cjson fields", "return cjson._NAME, cjson._VERSION, type(cjson.null), cjson.null == cjson.null, type(cjson.new), cjson.encode_empty_table_as_object"),
    ("cjson.new has its own settings", "local j = cjson.new() j.encode_number_precision(2) return j.encode(1/3), cjson.encode(1/3), j.null == cjson.null"),
    // ---- cjson: decode ----
    ("decode scalars", "return cjson.decode('1'), cjson.decode('\"x\"'), cjson.decode('true'), cjson.decode('false'), cjson.decode('null') == cjson.null"),
    ("decode numbers", "return cjson.decode('[0, -0, 1.5, -2e3, 1E+2, 0.1, 123456789012345678, 1e400, -1e400, 5e-324, 1e-400]')"),
    ("decode invalid numbers allowed", "return cjson.decode('[0x10, +1, 012, -0x1p4, Infinity, -inf, 1.]')"),
    ("decode nan", "local t = cjson.decode('[NaN, nan, -nan]') return t[1] ~= t[1], t[2] ~= t[2], t[3] ~= t[3]"),
    ("decode invalid numbers off", "cjson.decode_invalid_numbers(false) local r = {} for i, s in ipairs({'0x10', '+1', '012', 'Infinity', '-inf', 'nan', '1.5'}) do r[i] = select(2, pcall(cjson.decode, s)) end cjson.decode_invalid_numbers(true) return r"),
    ("decode strings", "return cjson.decode('\"a\\\\\"b\\\\\\\\c\\\\/d\\\\b\\\\f\\\\n\\\\r\\\\t\"')"),
    ("decode unicode escapes", "return cjson.decode('\"\\\\u0041\\\\u00e9\\\\u20AC\\\\ud83d\\\\ude00\\\\u0000x\"')"),
    ("decode raw bytes in strings", "return cjson.decode('\"\\1\\9\\255\"')"),
    ("decode containers", "return cjson.decode('{\"a\": [1, 2, {\"b\": null}], \"c\": {}, \"d\": []}')"),
    ("decode duplicate keys", "return cjson.decode('{\"a\": 1, \"a\": 2}')"),
    ("decode whitespace", "return cjson.decode(' \\t\\r\\n[ 1 , 2 ]\\n ')"),
    ("decode embedded zero ends the text", "return cjson.decode('[1]\\0garbage')"),
    ("decode error: empty", "local r = cjson.decode('') return r"),
    ("decode error: trailing comma", "local r = cjson.decode('[1,]') return r"),
    ("decode error: missing colon", "local r = cjson.decode('{\"a\" 1}') return r"),
    ("decode error: number key", "local r = cjson.decode('{1: 2}') return r"),
    ("decode error: missing comma", "local r = cjson.decode('[1 2]') return r"),
    ("decode error: object missing comma", "local r = cjson.decode('{\"a\": 1 \"b\": 2}') return r"),
    ("decode error: trailing text", "local r = cjson.decode('[1] x') return r"),
    ("decode error: two values", "local r = cjson.decode('1 2') return r"),
    ("decode error: bad token", "local r = cjson.decode('@') return r"),
    ("decode error: bad word", "local r = cjson.decode('nul') return r"),
    ("decode error: truex", "local r = cjson.decode('truex') return r"),
    ("decode error: bare minus", "local r = cjson.decode('-') return r"),
    ("decode error: bare dot", "local r = cjson.decode('.5') return r"),
    ("decode error: unterminated string", "local r = cjson.decode('\"abc') return r"),
    ("decode error: bad escape", "local r = cjson.decode('\"a\\\\qb\"') return r"),
    ("decode error: bad unicode", "local r = cjson.decode('\"\\\\u12G4\"') return r"),
    ("decode error: lone low surrogate", "local r = cjson.decode('\"x\\\\udc00\"') return r"),
    ("decode error: high surrogate alone", "local r = cjson.decode('\"\\\\ud800x\"') return r"),
    ("decode error: bad pair", "local r = cjson.decode('\"\\\\ud800\\\\u0041\"') return r"),
    ("decode error: utf16", "local r = cjson.decode('\\0[') return r"),
    ("decode error: unclosed array", "local r = cjson.decode('[1, 2') return r"),
    ("decode error: unclosed object", "local r = cjson.decode('{\"a\": 1') return r"),
    ("decode error: arguments", "local r = cjson.decode('1', 2) return r"),
    ("decode error: not a string", "local r = cjson.decode({}) return r"),
    ("decode number argument", "return cjson.decode(12)"),
    ("decode nesting limit", "local r = cjson.decode(string.rep('[', 1001)) return r"),
    ("decode nesting objects", "local r = cjson.decode(string.rep('{\"a\":', 1001)) return r"),
    ("decode nesting at the limit", "local t = cjson.decode(string.rep('[', 1000) .. string.rep(']', 1000)) return type(t)"),
    ("decode deep arrays hit the Lua stack", "cjson.decode_max_depth(100000) local ok, e = pcall(cjson.decode, string.rep('[', 9000)) cjson.decode_max_depth(1000) return ok, e"),
    ("decode deep objects hit the Lua stack", "cjson.decode_max_depth(100000) local ok, e = pcall(cjson.decode, string.rep('{\"k\":', 5000)) cjson.decode_max_depth(1000) return ok, e"),
    ("decode round trip", "return cjson.encode(cjson.decode('{\"a\":[1,2.5,\"x\",null,true],\"b\":{\"c\":\"\\\\/\"}}'))"),
    ("decode then msgpack", "return cmsgpack.pack(cjson.decode('[1, 2.5, \"s\", null]'))"),
];

/// What the snippet returns on the local Lua.
fn run_local(lua: &Lua, script: &str) -> Vec<u8> {
    let s: mlua::String = lua
        .load(script)
        .set_name("=user_script")
        .eval()
        .unwrap_or_else(|e| panic!("the harness itself failed locally: {e}\n{script}"));
    s.as_bytes().to_vec()
}

#[test]
fn lua_libraries_match_redis() {
    let redis = ServerProcess::redis();
    let mut conn = redis.connect();
    let lua = Lua::new();
    soquete_server::script::lualib::open(&lua).expect("libraries load");
    let mut failures = Vec::new();
    for (what, body) in SNIPPETS {
        let script = format!("{HARNESS}{body}\nend))\n");
        let theirs = match conn.cmd(&["EVAL", script.as_str(), "0"]) {
            Frame::Bulk(b) => b.to_vec(),
            other => panic!("{what}: redis answered {other:?}"),
        };
        let ours = run_local(&lua, &script);
        if ours != theirs {
            failures.push(format!(
                "{what}\n  redis: {}\n  ours:  {}",
                String::from_utf8_lossy(&theirs),
                String::from_utf8_lossy(&ours)
            ));
        }
    }
    assert!(SNIPPETS.len() > 100);
    assert!(
        failures.is_empty(),
        "{} of {} snippets differ:\n{}",
        failures.len(),
        SNIPPETS.len(),
        failures.join("\n")
    );
}
