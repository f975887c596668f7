-- claim_due: take the members of a due zset whose time has come, and move each one's score
-- to the lease end in the same atomic step, so no other claimer (or a restarted one) takes
-- it again until its owner reschedules it or the lease runs out. Feeds (schedule) and
-- pending entries (the ledger's sweep) are claimed this way.
-- KEYS[1] = due zset; ARGV[1] = now, ARGV[2] = batch size, ARGV[3] = lease end (unix time).
-- Reply: the claimed members.
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, id in ipairs(ids) do redis.call('ZADD', KEYS[1], ARGV[3], id) end
return ids
