-- publish_update: publish the next version of a known story when its body changed.
-- uses: append
-- KEYS[1] = stream, KEYS[2] = story, KEYS[3] = content key of the new body,
-- KEYS[4] = minute counter.
-- ARGV[1..3] as in append.lua; ARGV[4] = expected version, ARGV[5] = new content hash,
-- ARGV[6] = use the content key ('1'/'0'), ARGV[7] = feed entry's updated time,
-- ARGV[8] = story id, ARGV[9 ..] = the entry's field/value pairs.
-- Reply: {'published', entry id}
--      | {'known', 'unchanged', story id}: the stored body is this one already (also when an earlier
--        run of this very update published it before dying)
--      | {'known', 'gone', story id}: the story's state expired
--      | {'moved', version, hash}: the story moved on since the caller read it (rebuild).
local state = redis.call('HMGET', KEYS[2], 'v', 'h', 'u')
if not state[1] then return {'known', 'gone', ARGV[8]} end
if state[2] == ARGV[5] then
  if tonumber(ARGV[7]) > tonumber(state[3] or '0') then
    redis.call('HSET', KEYS[2], 'u', ARGV[7])
  end
  return {'known', 'unchanged', ARGV[8]}
end
if state[1] ~= ARGV[4] then return {'moved', state[1], state[2]} end
local id = append(KEYS[1], 9)
redis.call('HSET', KEYS[2], 'v', tonumber(state[1]) + 1, 'h', ARGV[5], 'e', id, 'u', ARGV[7])
redis.call('EXPIRE', KEYS[2], ARGV[1])
if ARGV[6] == '1' then redis.call('SET', KEYS[3], ARGV[8], 'EX', ARGV[1]) end
return {'published', id}
