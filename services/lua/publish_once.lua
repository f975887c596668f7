-- publish_once: add an entry unless any of its seen keys exists (rejected links).
-- uses: append
-- KEYS[1] = stream, KEYS[2 .. #KEYS-1] = seen keys, KEYS[#KEYS] = minute counter.
-- ARGV[1..3] as in append.lua, ARGV[4 ..] = the entry's field/value pairs.
-- Reply: {'published', entry id} | {'known', 'seen', the entry id recorded under a seen key}.
for i = 2, #KEYS - 1 do
  local seen = redis.call('GET', KEYS[i])
  if seen then return {'known', 'seen', seen} end
end
local id = append(KEYS[1], 4)
for i = 2, #KEYS - 1 do redis.call('SET', KEYS[i], id, 'EX', ARGV[1]) end
return {'published', id}
