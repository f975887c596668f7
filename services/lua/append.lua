-- append: the shared tail of the publish scripts (prepended to them by services/scripts.py).
-- KEYS[#KEYS] = the current minute's counter (keys.per_minute).
-- ARGV[1] = TTL of identity state (s), ARGV[2] = approximate MAXLEN,
-- ARGV[3] = oldest entry id kept by age ('0': none).
local minute = KEYS[#KEYS]
local function append(stream, first_field)
  local id = redis.call('XADD', stream, 'MAXLEN', '~', ARGV[2], '*', unpack(ARGV, first_field))
  if ARGV[3] ~= '0' then redis.call('XTRIM', stream, 'MINID', ARGV[3]) end
  redis.call('INCR', minute)
  redis.call('EXPIRE', minute, 7200)
  return id
end
