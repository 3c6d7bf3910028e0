-- Numbers, indexes and publishes a run of one account's messages, in order, in one atomic
-- step, so ids follow delivery order across processes. Returns the ids given, in order.
-- KEYS: the counter, the floor, the event index, the channel.
-- ARGV[1]: the index size; then two per message: its JSON after the opening brace with a
-- leading comma ("}" for an empty message), and the event id to index ("" if none).
local counter, floor, index, channel = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local ids = {}
local indexed = false
for i = 2, #ARGV, 2 do
  local id = redis.call('INCR', counter)
  if ARGV[i + 1] ~= '' then
    redis.call('ZADD', index, id, ARGV[i + 1])
    indexed = true
  end
  redis.call('PUBLISH', channel, '{"id":' .. id .. ARGV[i])
  ids[#ids + 1] = id
end
if indexed then
  local n = redis.call('ZCARD', index)
  local cap = tonumber(ARGV[1])
  if n > cap then
    local cut = redis.call('ZRANGE', index, n - cap - 1, n - cap - 1, 'WITHSCORES')
    redis.call('ZREMRANGEBYRANK', index, 0, n - cap - 1)
    redis.call('SET', floor, cut[2])
  end
end
return ids
