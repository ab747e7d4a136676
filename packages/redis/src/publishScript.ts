import { createHash } from 'node:crypto'
import { publishPrelude } from './scriptPrelude.js'

/**
 * Appends one event to the stream, atomically:
 * 1. picks the next stream id: the server clock (`TIME`), or just after the last id it handed out,
 *    or just after the floor the publisher passes, whichever is latest. The floor is the later of
 *    the publishing instance's reader position and the last id that instance was handed. So ids
 *    increase even if the clock steps back, and after Redis lost its data (restart without
 *    persistence, or from an older snapshot) new ids still come after what the readers have seen
 *    and after the instance's own earlier events. When its bookkeeping is missing, or an entry
 *    someone else added got in the way, it starts from the stream's own last entry;
 * 2. builds each complete frame, `id: <id>\n` followed by the body the broker serialized (the id on
 *    the wire is the publisher's own when it gave one);
 * 3. `XADD`s them with that explicit id, trimming the stream to about `MAXLEN ~ maxLength`;
 * 4. returns the stream id.
 *
 * Before anything, it checks the publisher's sequence number against the last one this publisher
 * ran: a publish that a client's retries (a reconnect, a Cluster failover) brought after a later
 * one fails with `REORDERED` instead of landing out of order.
 *
 * KEYS: the stream, the bookkeeping hash (`ms`, `seq`: last id; `n`: publish counter), the
 * publisher's sequence key.
 * ARGV: maxLength (`historySize + maxReaderLag`), topics joined by LF, the publisher's own id or
 * '', the floor (a stream id), the conflation key or '', the publisher's sequence number, then one
 * body per frame.
 *
 * Run by its SHA1 through {@link OrderedPublisher}, which keeps one instance's publishes in call
 * order whatever happens to Redis' script cache.
 */
export const PUBLISH_SCRIPT = `
local stream, head = KEYS[1], KEYS[2]
${publishPrelude('KEYS[3]', 'ARGV[6]')}
local state = redis.call('HMGET', head, 'ms', 'seq', 'n')
local n = (tonumber(state[3]) or 0) + 1
local custom = ARGV[3]
local key = ARGV[5]

local function after(ms, seq)
  if now > ms then return now, 0 end
  return ms, seq + 1
end

local function top()
  local last = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)[1]
  if not last then return nil, nil end
  return split(last[1])
end

local function add(ms, seq)
  local id = string.format('%d-%d', ms, seq)
  local wire = id
  local args = { 'XADD', stream, 'MAXLEN', '~', ARGV[1], id, 't', ARGV[2], 'n', n }
  if custom ~= '' then
    wire = custom
    args[#args + 1] = 'i'
    args[#args + 1] = custom
  end
  if key ~= '' then
    args[#args + 1] = 'k'
    args[#args + 1] = key
  end
  for i = 7, #ARGV do
    args[#args + 1] = 'f'
    args[#args + 1] = 'id: ' .. wire .. '\\n' .. ARGV[i]
  end
  return redis.pcall(unpack(args))
end

local floorMs, floorSeq = split(ARGV[4])
local lastMs, lastSeq = tonumber(state[1]), tonumber(state[2])
if lastMs == nil then lastMs, lastSeq = top() end
local ms, seq = after(later(lastMs, lastSeq, floorMs, floorSeq))
local result = add(ms, seq)
if type(result) == 'table' and result.err then
  local topMs, topSeq = top()
  ms, seq = after(later(topMs, topSeq, floorMs, floorSeq))
  result = add(ms, seq)
  if type(result) == 'table' and result.err then return result end
end
redis.call('HSET', head, 'ms', ms, 'seq', seq, 'n', n)
return string.format('%d-%d', ms, seq)
`

/** The SHA1 Redis knows {@link PUBLISH_SCRIPT} by. */
export const PUBLISH_SCRIPT_SHA: string = createHash('sha1').update(PUBLISH_SCRIPT).digest('hex')
