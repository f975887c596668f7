-- take_token: a token bucket per host, on Redis' own clock so workers with skewed clocks
-- agree; a Retry-After hold or a robots.txt Crawl-delay slows the bucket. Fresh stories go
-- first: a request with a reserve r takes a token only while r more stay in the bucket, so
-- older ones use what fresh ones leave. Requests refused while waiting on a reserve join a
-- line that drains at the rate, and each is told to come back after the line ahead of it,
-- not all at once.
-- KEYS[1] = bucket hash, KEYS[2] = backoff-until key (ms), KEYS[3] = Crawl-delay key (s);
-- ARGV[1] = rate (tokens/s), ARGV[2] = burst, ARGV[3] = reserve (0: a fresh story).
-- Reply: milliseconds to wait; 0 when a token was taken.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local until_ms = tonumber(redis.call('GET', KEYS[2]) or '0')
if until_ms > now then return until_ms - now end
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local delay = tonumber(redis.call('GET', KEYS[3]) or '0')
if delay > 0 then rate = math.min(rate, 1 / delay); burst = 1 end
local reserve = math.min(tonumber(ARGV[3] or '0'), burst - 1)
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts', 'line')
local tokens = tonumber(b[1]) or burst
local ts = tonumber(b[2]) or now
local line = math.max(0, (tonumber(b[3]) or 0) - (now - ts) * rate / 1000)
tokens = math.min(burst, tokens + (now - ts) * rate / 1000)
local wait = 0
if tokens >= 1 + reserve then
  tokens = tokens - 1
else
  wait = math.ceil((1 + reserve - tokens) * 1000 / rate)
  if reserve > 0 then
    wait = wait + math.floor(line * 1000 / rate)
    line = math.min(line + 1, rate * 3600)  -- an hour's worth at most: waits are capped anyway
  end
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', now, 'line', tostring(line))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst + line) * 1000 / rate) + 1000)
return wait
