-- extend_claim: extend a claim once its polls are enqueued, but only where the score is still
-- the claim's own: a poll that already finished has set the feed's real next due time.
-- KEYS[1] = due zset; ARGV[1] = the claim's lease end, ARGV[2] = the longer lease end,
-- ARGV[3 ..] = members.
-- Reply: how many claims were extended.
local n = 0
for i = 3, #ARGV do
  local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if score and tonumber(score) == tonumber(ARGV[1]) then
    redis.call('ZADD', KEYS[1], ARGV[2], ARGV[i])
    n = n + 1
  end
end
return n
