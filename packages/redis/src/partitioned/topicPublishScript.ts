import { createHash } from 'node:crypto'
import { publishPrelude } from '../scriptPrelude.js'

/**
 * Appends one event to the streams of its topics in one partition, atomically, under one id:
 * 1. picks the partition's next stream id: the server clock (`TIME`), or just after the last id the
 *    partition handed out, or just after the floor the publisher passes (its reader's position, or
 *    its own last id there), whichever is latest; with no bookkeeping (a new partition, or Redis lost
 *    it) it starts after the newest entry of the event's topic streams. So ids increase per topic
 *    even if the clock steps back or Redis lost data;
 * 2. `XADD`s the event with that id to each topic's stream (trimmed to about `MAXLEN ~ maxLength`),
 *    with the topic's publish counter (`n`, to tell trimmed entries), all the event's topics (`t`),
 *    the publisher's own id (`i`) and conflation key (`k`) when given, and the body (`f`, without
 *    its `id:` line: the reader writes the client's cursor there);
 * 3. records each topic's last publish time, and past `maxTopics` topics with history in this
 *    partition, deletes the history of those published to least recently (`evicted` notes when);
 * 4. returns the stream id.
 *
 * Before anything, it checks the publisher's sequence number against the last one this publisher
 * ran in this partition: a publish that a client's retries (a Cluster failover, say) brought after a
 * later one fails with `REORDERED` instead of landing out of order.
 *
 * KEYS: the partition's head hash, its topics sorted set, the publisher's sequence key, then one
 * stream per topic.
 * ARGV: maxLength, floor (a stream id), maxTopics, all the event's topics joined by LF, own id or '',
 * conflation key or '', the publisher's sequence number, the names of KEYS' topics, then one body per
 * topic or one shared body.
 */
export const TOPIC_PUBLISH_SCRIPT = `
local head, index = KEYS[1], KEYS[2]
local base = string.sub(head, 1, #head - 5)
local m = #KEYS - 3
${publishPrelude('KEYS[3]', 'ARGV[7]')}
local state = redis.call('HMGET', head, 'ms', 'seq')

local lastMs, lastSeq = tonumber(state[1]), tonumber(state[2])
if lastMs == nil then
  for i = 4, #KEYS do
    local top = redis.call('XREVRANGE', KEYS[i], '+', '-', 'COUNT', 1)[1]
    if top then
      local topMs, topSeq = split(top[1])
      lastMs, lastSeq = later(lastMs, lastSeq, topMs, topSeq)
    end
  end
end
local floorMs, floorSeq = split(ARGV[2])
local ms, seq = later(lastMs, lastSeq, floorMs, floorSeq)
if now > ms then ms, seq = now, 0 else seq = seq + 1 end
local id = string.format('%d-%d', ms, seq)

local shared = #ARGV == 8 + m
for i = 1, m do
  local topic = ARGV[7 + i]
  local n = redis.call('HINCRBY', head, 'n:' .. topic, 1)
  local args = { 'XADD', KEYS[3 + i], 'MAXLEN', '~', ARGV[1], id, 't', ARGV[4], 'n', n }
  if ARGV[5] ~= '' then
    args[#args + 1] = 'i'
    args[#args + 1] = ARGV[5]
  end
  if ARGV[6] ~= '' then
    args[#args + 1] = 'k'
    args[#args + 1] = ARGV[6]
  end
  args[#args + 1] = 'f'
  if shared then args[#args + 1] = ARGV[8 + m] else args[#args + 1] = ARGV[7 + m + i] end
  redis.call(unpack(args))
  redis.call('ZADD', index, now, topic)
end

local excess = redis.call('ZCARD', index) - tonumber(ARGV[3])
if excess > 0 then
  local old = redis.call('ZPOPMIN', index, excess)
  for j = 1, #old, 2 do
    redis.call('DEL', base .. ':t:' .. old[j])
    redis.call('HDEL', head, 'n:' .. old[j])
  end
  redis.call('HSET', head, 'evicted', id)
end
redis.call('HSET', head, 'ms', ms, 'seq', seq)
return id
`

/** The SHA1 Redis knows {@link TOPIC_PUBLISH_SCRIPT} by. */
export const TOPIC_PUBLISH_SCRIPT_SHA: string = createHash('sha1')
  .update(TOPIC_PUBLISH_SCRIPT)
  .digest('hex')
