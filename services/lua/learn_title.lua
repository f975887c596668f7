-- learn_title: add one batch of a site's title evidence (services/ingest/titlehabits.py).
-- Once more than ARGV[2] pages are counted, every count is halved, so the site's recent
-- pages outweigh old ones (a redesign is learned again) and the hash stays small.
-- KEYS[1] = the site's title hash;
-- ARGV[1] = TTL in seconds, ARGV[2] = pages counted before halving,
-- ARGV[3], ARGV[4], ... = field, count pairs ('seen' is the pages compared).
-- Reply: the pages counted after this batch.
for i = 3, #ARGV, 2 do
  redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1])
end
local seen = tonumber(redis.call('HGET', KEYS[1], 'seen') or '0')
if seen > tonumber(ARGV[2]) then
  local all = redis.call('HGETALL', KEYS[1])
  for i = 1, #all, 2 do
    local half = math.floor(tonumber(all[i + 1]) / 2)
    if half > 0 then
      redis.call('HSET', KEYS[1], all[i], half)
    else
      redis.call('HDEL', KEYS[1], all[i])
    end
  end
  seen = math.floor(seen / 2)
end
redis.call('EXPIRE', KEYS[1], ARGV[1])
return seen
