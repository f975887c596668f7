-- take_token: a token bucket per host, on Redis' own clock so workers with skewed clocks
-- agree; a Retry-After hold or a robots.txt Crawl-delay slows the bucket.
-- KEYS[1] = bucket hash, KEYS[2] = backoff-until key (ms), KEYS[3] = Crawl-delay key (s);
-- ARGV[1] = rate (tokens/s), ARGV[2] = burst.
-- Reply: milliseconds to wait; 0 when a token was taken.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local until_ms = tonumber(redis.call('GET', KEYS[2]) or '0')
if until_ms > now then return until_ms - now end
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local delay = tonumber(redis.call('GET', KEYS[3]) or '0')
if delay > 0 then rate = math.min(rate, 1 / delay); burst = 1 end
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(b[1]) or burst
local ts = tonumber(b[2]) or now
tokens = math.min(burst, tokens + (now - ts) * rate / 1000)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) * 1000 / rate) end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return wait
