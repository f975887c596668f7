-- publish_new: publish a story unless it is known; give it its cluster.
-- uses: append
-- KEYS[1] = stream, KEYS[2] = story, KEYS[3] = content key, KEYS[4] = today's LSH hash,
-- KEYS[5 .. 4+n] = the LSH hashes of the cluster window (today first), then the seen keys,
-- KEYS[#KEYS] = minute counter.
-- ARGV[1..3] as in append.lua; ARGV[4] = story id, ARGV[5] = content hash,
-- ARGV[6] = use the content key ('1'/'0'), ARGV[7] = the cluster the caller expects,
-- ARGV[8] = n, ARGV[9] = number of bands b, ARGV[10] = feed entry's updated time,
-- ARGV[11] = now, ARGV[12] = LSH TTL, ARGV[13 .. 12+b] = band keys, then the entry's
-- field/value pairs.
-- Reply: {'published', entry id}
--      | {'known', why, story id}: why is 'story', 'seen' or 'alias' (the same body on the
--        same site: the links are now recorded as the story's aliases)
--      | {'recluster', cluster}: the caller's expected cluster is wrong (rebuild the entry).
local ttl = ARGV[1]
local n, b = tonumber(ARGV[8]), tonumber(ARGV[9])
local first_seen, last_seen = 5 + n, #KEYS - 1
if redis.call('EXISTS', KEYS[2]) == 1 then return {'known', 'story', ARGV[4]} end
for i = first_seen, last_seen do
  local seen = redis.call('GET', KEYS[i])
  if seen then return {'known', 'seen', seen} end
end
if ARGV[6] == '1' then
  local other = redis.call('GET', KEYS[3])
  if other then
    for i = first_seen, last_seen do redis.call('SET', KEYS[i], other, 'EX', ttl) end
    return {'known', 'alias', other}
  end
end
local cluster, best_n = ARGV[4], 0
if b > 0 then
  local votes = {}
  for k = 5, 4 + n do
    for _, c in ipairs(redis.call('HMGET', KEYS[k], unpack(ARGV, 13, 12 + b))) do
      if c then
        votes[c] = (votes[c] or 0) + 1
        local v = votes[c]
        if v > best_n or (v == best_n and c < cluster) then cluster, best_n = c, v end
      end
    end
  end
end
if cluster ~= ARGV[7] then return {'recluster', cluster} end
local id = append(KEYS[1], 13 + b)
redis.call('HSET', KEYS[2], 'v', 1, 'h', ARGV[5], 'c', cluster, 'e', id, 'u', ARGV[10],
  't', ARGV[11])
redis.call('EXPIRE', KEYS[2], ttl)
for i = first_seen, last_seen do redis.call('SET', KEYS[i], ARGV[4], 'EX', ttl) end
if ARGV[6] == '1' then redis.call('SET', KEYS[3], ARGV[4], 'EX', ttl) end
for i = 13, 12 + b do redis.call('HSETNX', KEYS[4], ARGV[i], cluster) end
if b > 0 then redis.call('EXPIRE', KEYS[4], ARGV[12]) end
return {'published', id}
