/**
 * What both publish scripts start with, in Lua: refuse a publish that reaches Redis after a later
 * one of the same instance (its sequence number, in `sequence`, against the last one ran, kept in
 * the key `publisher` for a day), then `now` (Redis time in ms) and two helpers on stream ids,
 * `split(id)` into ms and seq, and `later(aMs, aSeq, bMs, bSeq)`, the later of two (either may be nil).
 */
export function publishPrelude(publisher: string, sequence: string): string {
  return `
local sequence = tonumber(${sequence})
if sequence <= (tonumber(redis.call('GET', ${publisher})) or 0) then
  return redis.error_reply('REORDERED a later publish of this instance ran first')
end
redis.call('SET', ${publisher}, sequence, 'PX', 86400000)
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)

local function split(id)
  local dash = string.find(id, '-', 1, true)
  return tonumber(string.sub(id, 1, dash - 1)), tonumber(string.sub(id, dash + 1))
end

local function later(aMs, aSeq, bMs, bSeq)
  if aMs == nil then return bMs, bSeq end
  if bMs == nil then return aMs, aSeq end
  if aMs > bMs or (aMs == bMs and aSeq >= bSeq) then return aMs, aSeq end
  return bMs, bSeq
end
`
}
