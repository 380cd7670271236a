/**
 * The Lua scripts of the Redis room store. Each touches the keys of one room
 * (one hash tag, so one Redis Cluster slot) or the process registry, never
 * both: a script's keys must share a slot. Redis's own clock (`TIME`) dates
 * every entry and deadline, so processes' clocks never have to agree.
 */
import type { Cluster, Redis } from "ioredis";

/** Redis's clock in ms, as a Lua expression's prelude: defines `now`. */
const NOW = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)`;

/**
 * Stores a message and/or a presence change, and publishes it on the room's channel, atomically.
 * KEYS: epoch, stream, members, presence, session (the sender's, or any key of the room without one).
 * ARGV: epoch, retained, kind, data, join id, member value, join (wire), leave id, leave (wire),
 * channel, origin number ("" without an origin), session window, session ttl (ms).
 * Refuses when the epoch is not ours (Redis lost the room). With an origin: a number already
 * handled returns the seq it got, one that skips some is refused (POLYSOCKET_OUT_OF_ORDER and the
 * number due). A leave of a member not online stores nothing (returns 0). Returns the message's
 * seq, or 0 when no message was stored.
 */
export const APPEND: string = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return redis.error_reply('POLYSOCKET_EPOCH the room restarted in Redis (its data was lost); message not stored')
end
local n = tonumber(ARGV[11])
if n then
  local last = tonumber(redis.call('HGET', KEYS[5], 'last') or '0')
  if n <= last then return tonumber(redis.call('HGET', KEYS[5], ARGV[11]) or '0') end
  if n > last + 1 then return redis.error_reply('POLYSOCKET_OUT_OF_ORDER ' .. (last + 1)) end
end
local function store()
  local kind, join, leave = ARGV[3], ARGV[5], ARGV[8]
  if leave ~= '' and redis.call('HDEL', KEYS[3], leave) == 0 then return '0' end
  if join ~= '' then redis.call('HSET', KEYS[3], join, ARGV[6]) end
  local version = ''
  if join ~= '' or leave ~= '' then version = tostring(redis.call('INCR', KEYS[4])) end
  if kind == '' and version == '' then return '0' end
  ${NOW}
  now = string.format('%d', now)
  local seq = '0'
  if kind ~= '' then
    local fields = {'e', ARGV[1], 't', now, 'k', kind, 'd', ARGV[4]}
    if version ~= '' then fields[#fields + 1] = 'v'; fields[#fields + 1] = version end
    if join ~= '' then fields[#fields + 1] = 'j'; fields[#fields + 1] = ARGV[7] end
    if leave ~= '' then fields[#fields + 1] = 'l'; fields[#fields + 1] = ARGV[9] end
    local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '0-*', unpack(fields))
    seq = string.sub(id, 3)
  end
  redis.call('PUBLISH', ARGV[10], ARGV[1] .. '\\n' .. seq .. '\\n' .. now .. '\\n' .. kind .. '\\n' .. version .. '\\n' .. ARGV[7] .. '\\n' .. ARGV[9] .. '\\n' .. ARGV[4])
  return seq
end
local seq = store()
if n then
  redis.call('HSET', KEYS[5], 'last', ARGV[11], ARGV[11], seq)
  redis.call('HDEL', KEYS[5], tostring(n - tonumber(ARGV[12])))
  redis.call('PEXPIRE', KEYS[5], ARGV[13])
end
return tonumber(seq)`;

/**
 * A room's state as of one moment: to open it, or to catch up after a gap or a reconnect.
 * KEYS: epoch, stream, members, presence. ARGV: a new epoch (set if the room has none), the
 * reader's epoch ("" when opening), after (the last seq it has; -1: the latest `count` entries), count.
 * Returns epoch, now, entries (oldest first; every entry when the epoch is not the reader's),
 * the last stream id, the members hash and the presence version.
 */
export const SYNC: string = `
redis.call('SET', KEYS[1], ARGV[1], 'NX')
local epoch = redis.call('GET', KEYS[1])
${NOW}
local entries
if ARGV[2] ~= '' and epoch ~= ARGV[2] then
  entries = redis.call('XRANGE', KEYS[2], '-', '+')
elseif tonumber(ARGV[3]) < 0 then
  entries = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', ARGV[4])
  local n = #entries
  for i = 1, math.floor(n / 2) do entries[i], entries[n + 1 - i] = entries[n + 1 - i], entries[i] end
else
  entries = redis.call('XRANGE', KEYS[2], '0-' .. (tonumber(ARGV[3]) + 1), '+')
end
local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
local lastId = '0-0'
if last[1] then lastId = last[1][1] end
return {epoch, string.format('%d', now), entries, lastId, redis.call('HGETALL', KEYS[3]), redis.call('GET', KEYS[4]) or '0'}`;

/**
 * This process's heartbeat, one for every room. KEYS: processes. ARGV: process, deadAfter.
 * Sets its deadline, forgets processes past theirs; returns 1 if this process was not registered
 * (taken for dead, or Redis lost the registry) and the processes alive.
 */
export const HEARTBEAT: string = `
${NOW}
local added = redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. string.format('%d', now))
return {added, redis.call('ZRANGE', KEYS[1], 0, -1)}`;

/** The scripts as commands of a client (ioredis sends EVALSHA, and the script again after NOSCRIPT). */
export interface ScriptCommands {
  polysocketAppend(...args: (string | number | Uint8Array)[]): Promise<number>;
  polysocketSyncBuffer(...args: (string | number)[]): Promise<unknown[]>;
  polysocketHeartbeat(...args: (string | number)[]): Promise<[number, string[]]>;
}

/** Defines the scripts on `client` (idempotent: a handed-in client may carry them already). */
export function defineScripts(client: Redis | Cluster): Redis & ScriptCommands {
  const commands = client as unknown as Record<string, unknown>;
  if (typeof commands.polysocketAppend !== "function") {
    client.defineCommand("polysocketAppend", { numberOfKeys: 5, lua: APPEND });
    client.defineCommand("polysocketSync", { numberOfKeys: 4, lua: SYNC });
    client.defineCommand("polysocketHeartbeat", { numberOfKeys: 1, lua: HEARTBEAT });
  }
  return client as unknown as Redis & ScriptCommands;
}
