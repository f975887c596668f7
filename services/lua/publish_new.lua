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
-- Reply: {'published', entry id, cluster}
--      | {'known', why, story id}: why is 'story', 'seen' or 'alias' (the same body on the
--        same site: the links are now recorded as the story's aliases)
--      | {'recluster', cluster}: the caller's expected cluster is wrong and the entry's data
--        does not name it where the script can set it (rebuild the entry).
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
if cluster ~= ARGV[7] then
  -- The entry names the cluster it joins: set in its data here (no second round trip), or,
  -- where the data does not carry it as expected, by the caller rebuilding the entry.
  local expected = '"cluster_id":"' .. ARGV[7] .. '"'
  local set = false
  for i = 13 + b, #ARGV - 1, 2 do
    if ARGV[i] == 'data' then
      local s, e = string.find(ARGV[i + 1], expected, 1, true)
      if s then
        ARGV[i + 1] = string.sub(ARGV[i + 1], 1, s - 1) .. '"cluster_id":"' .. cluster .. '"'
          .. string.sub(ARGV[i + 1], e + 1)
        set = true
      end
    end
  end
  if not set then return {'recluster', cluster} end
end
local id = append(KEYS[1], 13 + b)
redis.call('HSET', KEYS[2], 'v', 1, 'h', ARGV[5], 'c', cluster, 'e', id, 'u', ARGV[10],
  't', ARGV[11])
redis.call('EXPIRE', KEYS[2], ttl)
for i = first_seen, last_seen do redis.call('SET', KEYS[i], ARGV[4], 'EX', ttl) end
if ARGV[6] == '1' then redis.call('SET', KEYS[3], ARGV[4], 'EX', ttl) end
for i = 13, 12 + b do redis.call('HSETNX', KEYS[4], ARGV[i], cluster) end
if b > 0 then redis.call('EXPIRE', KEYS[4], ARGV[12]) end
return {'published', id, cluster}
