-- lead: take or keep the leader lease.
-- KEYS[1] = leader key; ARGV[1] = instance id, ARGV[2] = lease (ms).
-- Reply: 1 when this instance leads, else 0.
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
