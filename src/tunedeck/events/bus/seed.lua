-- Starts an account channel's counter and floor at the current time in milliseconds, so
-- its ids keep increasing when Redis restarts empty. Runs at the top of the scripts below.
-- KEYS[1]: the counter, KEYS[2]: the floor.
if redis.call('EXISTS', KEYS[1]) == 0 then
  local t = redis.call('TIME')
  local now = string.format('%d', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
  redis.call('SET', KEYS[1], now)
  redis.call('SET', KEYS[2], now)
end
