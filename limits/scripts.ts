// The Lua scripts of the Redis counters (redis.ts), run atomically by Redis
// (defineCommand: EVALSHA, EVAL once after a Redis restart). Time is Redis's
// own clock (TIME), so replicas with skewed clocks share one bucket.

// KEYS[1] bucket hash {t: tokens, u: updated ms}; ARGV rate/s, capacity,
// need, want, give (tokens added first: a returned lease > 0, a settlement
// < 0), ttl ms. Returns {granted, whole tokens left, wait ms}.
export const TAKE = `
local now = redis.call('TIME')
now = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local rate, cap = tonumber(ARGV[1]), tonumber(ARGV[2])
local need, want, give = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local v = redis.call('HMGET', KEYS[1], 't', 'u')
local tokens = tonumber(v[1]) or cap
local updated = tonumber(v[2]) or now
if now > updated then tokens = math.min(cap, tokens + (now - updated) * rate / 1000) end
tokens = math.min(cap, tokens + give)
local granted, wait = 0, 0
local whole = math.floor(tokens + 1e-9)
if need > 0 then
  if whole >= need then
    granted = math.min(want, whole)
    tokens = tokens - granted
  else
    wait = math.max(1, math.ceil((need - tokens) * 1000 / rate))
  end
end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'u', tostring(math.max(now, updated)))
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[6]))
return {granted, math.max(0, math.floor(tokens + 1e-9)), wait}
`;

// KEYS[1] units used this period; ARGV limit, need, want, give (units
// returned first: > 0 gives back, < 0 settles more), ttl s. Returns
// {granted, units left}.
export const QUOTA = `
local limit, need, want, give = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local used = math.max(0, tonumber(redis.call('GET', KEYS[1]) or '0') - give)
local granted = 0
if need > 0 and used + need <= limit then
  granted = math.min(want, limit - used)
  used = used + granted
end
redis.call('SET', KEYS[1], used, 'EX', tonumber(ARGV[5]))
return {granted, math.max(0, limit - used)}
`;

// KEYS[1] hash replica id → calls in flight; KEYS[2] the replica heartbeat
// set. ARGV replica id, limit, dead ms. Fields of replicas that stopped
// beating are dropped (a crashed replica's calls do not hold slots forever).
// Returns 1 (entered) or 0.
export const ENTER = `
local now = redis.call('TIME')
now = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local live = now - tonumber(ARGV[3])
local total = 0
local fields = redis.call('HGETALL', KEYS[1])
for i = 1, #fields, 2 do
  local seen = redis.call('ZSCORE', KEYS[2], fields[i])
  if fields[i] ~= ARGV[1] and (not seen or tonumber(seen) < live) then
    redis.call('HDEL', KEYS[1], fields[i])
  else
    total = total + tonumber(fields[i + 1])
  end
end
if total >= tonumber(ARGV[2]) then return 0 end
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('PEXPIRE', KEYS[1], 3600000)
return 1
`;

// KEYS[1] as ENTER; ARGV replica id. One call of this replica ended.
export const LEAVE = `
if redis.call('HINCRBY', KEYS[1], ARGV[1], -1) <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end
return 1
`;

// KEYS[1] the heartbeat set; ARGV replica id, dead ms. Returns the live replicas.
export const BEAT = `
local now = redis.call('TIME')
now = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
return redis.call('ZCARD', KEYS[1])
`;
