-- Where an account channel stands: {head, floor}, then (when ARGV[1] is an id) the indexed
-- events published after it, as event id and message id pairs.
-- KEYS: the counter, the floor, the event index. ARGV[1]: since ("" for none).
local out = {redis.call('GET', KEYS[1]), redis.call('GET', KEYS[2])}
if ARGV[1] ~= '' then
  local found = redis.call('ZRANGEBYSCORE', KEYS[3], '(' .. ARGV[1], '+inf', 'WITHSCORES')
  for i = 1, #found do out[#out + 1] = found[i] end
end
return out
