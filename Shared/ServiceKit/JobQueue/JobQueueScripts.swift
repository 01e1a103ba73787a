package import RedisClient

/// The Lua side of `RedisJobQueue`: every state change of a queued job is one script, so it is
/// atomic and one round trip (docs/scheduling.md has the keys and the invariants).
///
/// Keys live under `<namespace>:q` (`p` below): `p:job:<id>` (hash: pool, user, class, cap, env,
/// deliveries, base, state, worker, model), `p:<pool>:u:<user>` (the user's waiting ids, FIFO),
/// `p:<pool>:c:<class>` (users with waiting jobs, by virtual time), `p:<pool>:classes` (classes
/// with waiting users, by stride pass), `p:<pool>:pass` (every class's pass, and the pass last
/// served), `p:<pool>:vclock` (per class, the virtual time last served), `p:<pool>:active` (id by lease expiry,
/// ms), `p:<pool>:delayed` (id by due time), `p:<pool>:dead`, `p:<pool>:wake`, `p:<pool>:waiting`
/// (how many wait), `p:running`
/// (user → running jobs, all pools), `p:done:<id>` (a finished job's result is in flight), `p:pools`.
/// Times come from Redis (`TIME`), so worker clocks never matter.
enum JobQueueScripts {
    /// Shared helpers, prepended to every script.
    static let prelude = """
        local function now_ms()
          local t = redis.call('TIME')
          return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        end
        local function decr_running(p, user)
          local left = redis.call('HINCRBY', p .. ':running', user, -1)
          if left <= 0 then redis.call('HDEL', p .. ':running', user) end
        end
        -- Puts a job back among the waiting ones of its user (at the front after a lost lease, so
        -- it does not lose its turn), registers the user with its class and the class with the pool.
        local function push_waiting(p, pool, id, user, class, front)
          redis.call('HSET', p .. ':job:' .. id, 'state', 'waiting')
          local list = p .. ':' .. pool .. ':u:' .. user
          if front then redis.call('LPUSH', list, id) else redis.call('RPUSH', list, id) end
          redis.call('INCR', p .. ':' .. pool .. ':waiting')
          local users = p .. ':' .. pool .. ':c:' .. class
          if not redis.call('ZSCORE', users, user) then
            -- A user who comes back starts at the class's virtual clock: no credit saved while away.
            local clock = redis.call('HGET', p .. ':' .. pool .. ':vclock', class) or '0'
            redis.call('ZADD', users, clock, user)
          end
          local classes = p .. ':' .. pool .. ':classes'
          if not redis.call('ZSCORE', classes, class) then
            -- A class keeps its pass while it has nothing waiting, and rejoins no earlier than the
            -- pass last served: coming and going cannot jump the queue of another class.
            local kept = tonumber(redis.call('HGET', p .. ':' .. pool .. ':pass', class) or '0')
            local served = tonumber(redis.call('HGET', p .. ':' .. pool .. ':pass', 'served') or '0')
            redis.call('ZADD', classes, math.max(kept, served), class)
          end
          local wake = p .. ':' .. pool .. ':wake'
          redis.call('LPUSH', wake, '1')
          redis.call('LTRIM', wake, 0, 99)
        end
        local function forget_user_if_idle(p, pool, user, class)
          if redis.call('LLEN', p .. ':' .. pool .. ':u:' .. user) == 0 then
            redis.call('ZREM', p .. ':' .. pool .. ':c:' .. class, user)
            if redis.call('ZCARD', p .. ':' .. pool .. ':c:' .. class) == 0 then
              redis.call('ZREM', p .. ':' .. pool .. ':classes', class)
            end
          end
        end

        """

    /// ARGV: p, pool, id, user, class, cap, env, base attempt, model, due (ms since 1970; 0 = now).
    /// Returns 1 when added, 0 when the job is already held (idempotent).
    static let enqueue = RedisScript(prelude + """
        local p, pool, id, user, class = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
        local job = p .. ':job:' .. id
        if redis.call('EXISTS', job) == 1 then return 0 end
        local now, due = now_ms(), tonumber(ARGV[10])
        redis.call('HSET', job, 'pool', pool, 'user', user, 'class', class, 'cap', ARGV[6], 'env', ARGV[7],
          'deliveries', 0, 'base', ARGV[8], 'model', ARGV[9], 'enqueued', now)
        redis.call('SADD', p .. ':pools', pool)
        redis.call('DEL', p .. ':done:' .. id)
        if due > now then
          redis.call('HSET', job, 'state', 'delayed')
          redis.call('ZADD', p .. ':' .. pool .. ':delayed', due, id)
        else
          push_waiting(p, pool, id, user, class, false)
        end
        return 1
        """)

    /// ARGV: p, worker, lease ms, then the pools to take from, in the order to try them.
    /// Returns {pool, id, env, attempt} for the job now leased to the worker, or nil.
    ///
    /// Per pool: classes by stride pass (weight = class / 10, at least 1; ties to the higher class),
    /// within a class the user with the smallest virtual time whose running jobs are under the cap
    /// of their next job, and that user's oldest waiting job.
    static let dispatch = RedisScript(prelude + """
        local p, worker, lease = ARGV[1], ARGV[2], tonumber(ARGV[3])
        local now = now_ms()
        for i = 4, #ARGV do
          local pool = ARGV[i]
          local delayed = p .. ':' .. pool .. ':delayed'
          for _, id in ipairs(redis.call('ZRANGEBYSCORE', delayed, '-inf', now, 'LIMIT', 0, 100)) do
            redis.call('ZREM', delayed, id)
            local user, class = unpack(redis.call('HMGET', p .. ':job:' .. id, 'user', 'class'))
            if user then push_waiting(p, pool, id, user, class, false) end
          end
        end
        for i = 4, #ARGV do
          local pool = ARGV[i]
          local classes = p .. ':' .. pool .. ':classes'
          local entries = redis.call('ZRANGE', classes, 0, -1, 'WITHSCORES')
          local order = {}
          for j = 1, #entries, 2 do table.insert(order, {entries[j], tonumber(entries[j + 1])}) end
          table.sort(order, function(a, b)
            if a[2] ~= b[2] then return a[2] < b[2] end
            return tonumber(a[1]) > tonumber(b[1])
          end)
          for _, entry in ipairs(order) do
            local class = entry[1]
            local users = p .. ':' .. pool .. ':c:' .. class
            local candidates = redis.call('ZRANGE', users, 0, 49, 'WITHSCORES')
            for j = 1, #candidates, 2 do
              local user, vt = candidates[j], tonumber(candidates[j + 1])
              local list = p .. ':' .. pool .. ':u:' .. user
              local id = redis.call('LINDEX', list, 0)
              while id and redis.call('EXISTS', p .. ':job:' .. id) == 0 do
                redis.call('LPOP', list)  -- an id whose job is gone (removed by hand): skip it
                redis.call('DECR', p .. ':' .. pool .. ':waiting')
                id = redis.call('LINDEX', list, 0)
              end
              if not id then
                forget_user_if_idle(p, pool, user, class)
              else
                local job = p .. ':job:' .. id
                local cap = tonumber(redis.call('HGET', job, 'cap') or '1')
                local running = tonumber(redis.call('HGET', p .. ':running', user) or '0')
                if running < cap then
                  redis.call('LPOP', list)
                  redis.call('DECR', p .. ':' .. pool .. ':waiting')
                  redis.call('HSET', p .. ':' .. pool .. ':vclock', class, vt)
                  if redis.call('LLEN', list) > 0 then redis.call('ZADD', users, vt + 1, user) end
                  local weight = math.max(1, math.floor(tonumber(class) / 10))
                  redis.call('HSET', p .. ':' .. pool .. ':pass', 'served', entry[2], class, entry[2] + 120 / weight)
                  redis.call('ZADD', classes, entry[2] + 120 / weight, class)
                  forget_user_if_idle(p, pool, user, class)
                  local deliveries = redis.call('HINCRBY', job, 'deliveries', 1)
                  redis.call('HSET', job, 'state', 'active', 'worker', worker)
                  redis.call('ZADD', p .. ':' .. pool .. ':active', now + lease, id)
                  redis.call('HINCRBY', p .. ':running', user, 1)
                  local env, base = unpack(redis.call('HMGET', job, 'env', 'base'))
                  return {pool, id, env, tostring(tonumber(base) + deliveries - 1)}
                end
              end
            end
          end
        end
        return false
        """)

    /// ARGV: p, id, worker, lease ms. Returns 1 when the lease was extended, 0 when the job is no
    /// longer this worker's (taken over, removed).
    static let renew = RedisScript(prelude + """
        local p, id, worker = ARGV[1], ARGV[2], ARGV[3]
        local state, owner, pool = unpack(redis.call('HMGET', p .. ':job:' .. id, 'state', 'worker', 'pool'))
        if state ~= 'active' or owner ~= worker then return 0 end
        redis.call('ZADD', p .. ':' .. pool .. ':active', now_ms() + tonumber(ARGV[4]), id)
        return 1
        """)

    /// ARGV: p, id, worker, results stream, result envelope ('' for none), stream max length, done TTL s.
    /// Forgets the job when the worker still holds it and, in the same step, puts the result on the
    /// results stream: either both happen or neither. Returns 1 when the job was this worker's.
    static let complete = RedisScript(prelude + """
        local p, id, worker = ARGV[1], ARGV[2], ARGV[3]
        local job = p .. ':job:' .. id
        local state, owner, pool, user = unpack(redis.call('HMGET', job, 'state', 'worker', 'pool', 'user'))
        local mine = state == 'active' and owner == worker
        if mine then
          redis.call('ZREM', p .. ':' .. pool .. ':active', id)
          decr_running(p, user)
          redis.call('DEL', job)
          redis.call('SET', p .. ':done:' .. id, '1', 'EX', tonumber(ARGV[7]))
        end
        if ARGV[5] ~= '' then redis.call('XADD', ARGV[4], 'MAXLEN', '~', ARGV[6], '*', 'm', ARGV[5]) end
        if mine then return 1 end
        return 0
        """)

    /// ARGV: p, id, worker. A worker that stops hands its job back: waiting again at the front of
    /// its user's queue, and the delivery does not count. Returns 1 when handed back.
    static let release = RedisScript(prelude + """
        local p, id, worker = ARGV[1], ARGV[2], ARGV[3]
        local job = p .. ':job:' .. id
        local state, owner, pool, user, class = unpack(redis.call('HMGET', job, 'state', 'worker', 'pool', 'user', 'class'))
        if state ~= 'active' or owner ~= worker then return 0 end
        redis.call('ZREM', p .. ':' .. pool .. ':active', id)
        decr_running(p, user)
        redis.call('HINCRBY', job, 'deliveries', -1)
        redis.call('HDEL', job, 'worker')
        push_waiting(p, pool, id, user, class, true)
        return 1
        """)

    /// ARGV: p, pool, max deliveries. Jobs whose lease ran out (their worker died or stalled) wait
    /// again at the front of their user's queue, or, after `max deliveries`, are dead. Returns
    /// {requeued ids, dead ids}.
    static let reclaim = RedisScript(prelude + """
        local p, pool, max = ARGV[1], ARGV[2], tonumber(ARGV[3])
        local active = p .. ':' .. pool .. ':active'
        local now = now_ms()
        local requeued, dead = {}, {}
        for _, id in ipairs(redis.call('ZRANGEBYSCORE', active, '-inf', now, 'LIMIT', 0, 100)) do
          redis.call('ZREM', active, id)
          local job = p .. ':job:' .. id
          local user, class, deliveries = unpack(redis.call('HMGET', job, 'user', 'class', 'deliveries'))
          if user then
            decr_running(p, user)
            redis.call('HDEL', job, 'worker')
            if tonumber(deliveries) >= max then
              redis.call('HSET', job, 'state', 'dead', 'died', now)
              redis.call('ZADD', p .. ':' .. pool .. ':dead', now, id)
              table.insert(dead, id)
            else
              push_waiting(p, pool, id, user, class, true)
              table.insert(requeued, id)
            end
          end
        end
        return {requeued, dead}
        """)

    /// ARGV: p, id. Takes a job that has not started out of the queue (cancel, expiry, an admin).
    /// Returns 1 removed (it was waiting or delayed), 2 running (left alone), 3 dead (removed), 0 unknown.
    static let remove = RedisScript(prelude + """
        local p, id = ARGV[1], ARGV[2]
        local job = p .. ':job:' .. id
        local state, pool, user, class = unpack(redis.call('HMGET', job, 'state', 'pool', 'user', 'class'))
        if not state then return 0 end
        if state == 'active' then return 2 end
        if state == 'waiting' then
          if redis.call('LREM', p .. ':' .. pool .. ':u:' .. user, 0, id) > 0 then
            redis.call('DECR', p .. ':' .. pool .. ':waiting')
          end
          forget_user_if_idle(p, pool, user, class)
        elseif state == 'delayed' then
          redis.call('ZREM', p .. ':' .. pool .. ':delayed', id)
        elseif state == 'dead' then
          redis.call('ZREM', p .. ':' .. pool .. ':dead', id)
        end
        redis.call('DEL', job)
        if state == 'dead' then return 3 end
        return 1
        """)
}
