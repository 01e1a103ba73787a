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
            -- The fraction is the arrival order, so users with the same virtual time go first come,
            -- first served.
            local clock = tonumber(redis.call('HGET', p .. ':' .. pool .. ':vclock', class) or '0')
            local arrival = redis.call('INCR', p .. ':' .. pool .. ':arrivals') % 1000000
            redis.call('ZADD', users, math.floor(clock) + arrival / 1000000, user)
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

    /// ARGV: p, pool, id, user, class, cap, env, base attempt, model, due (ms since 1970; 0 = now),
    /// weight (the class's share), affinity bound (ms), work (steps × images), size (`WxH`),
    /// estimate (seconds the router expects the job to run).
    /// Returns 1 when added, 0 when the job is already held (idempotent).
    static let enqueue = RedisScript(prelude + """
        local p, pool, id, user, class = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
        local job = p .. ':job:' .. id
        if redis.call('EXISTS', job) == 1 then return 0 end
        local now, due = now_ms(), tonumber(ARGV[10])
        redis.call('HSET', job, 'pool', pool, 'user', user, 'class', class, 'cap', ARGV[6], 'env', ARGV[7],
          'deliveries', 0, 'base', ARGV[8], 'model', ARGV[9], 'enqueued', now, 'weight', ARGV[11], 'bound', ARGV[12],
          'work', ARGV[13], 'size', ARGV[14], 'est', ARGV[15], 'seq', redis.call('INCR', p .. ':' .. pool .. ':seq'))
        redis.call('HSET', p .. ':' .. pool .. ':weights', class, ARGV[11])
        redis.call('SADD', p .. ':pools', pool)
        redis.call('DEL', p .. ':done:' .. id)
        if due > now then
          redis.call('HSET', job, 'state', 'delayed')
          redis.call('ZADD', p .. ':' .. pool .. ':delayed', due, id)
        else
          push_waiting(p, pool, id, user, class, false)
        end
        return 1
        """, name: "enqueue")

    /// ARGV: p, worker, lease ms, mode (`fair` or `fifo`), the models the worker has loaded
    /// (comma-separated), then the pools to take from, in the order to try them.
    /// Returns {pool, id, env, attempt} for the job now leased to the worker, or nil.
    ///
    /// `fair`, per pool: classes by stride pass (ties to the higher class), within a class the user
    /// with the smallest virtual time whose running jobs are under the cap of their next job, and that
    /// user's oldest waiting job: the *natural* job. With models loaded (here or on another worker of
    /// the pool), the worker takes instead, in that same order (looking at up to 8 jobs of each user),
    /// the first job for a model it has loaded, else the first one passed over for its affinity bound,
    /// else the first one for a model no worker has loaded, else the natural job; the jobs passed over
    /// are stamped, so no job waits more than its bound for a warm model. It never idles while a job
    /// it may take waits.
    /// `fifo`: the first enqueued waiting job of the pool (by `seq`), no classes, shares, caps or
    /// affinity (the baseline `make bench-scheduler` compares against).
    static let dispatch = RedisScript(prelude + """
        local p, worker, lease, mode = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
        local warm, has_warm = {}, false
        for model in string.gmatch(ARGV[5], '[^,]+') do warm[model] = true; has_warm = true end
        local now = now_ms()
        for i = 6, #ARGV do
          local pool = ARGV[i]
          local delayed = p .. ':' .. pool .. ':delayed'
          for _, id in ipairs(redis.call('ZRANGEBYSCORE', delayed, '-inf', now, 'LIMIT', 0, 100)) do
            redis.call('ZREM', delayed, id)
            local user, class = unpack(redis.call('HMGET', p .. ':job:' .. id, 'user', 'class'))
            if user then push_waiting(p, pool, id, user, class, false) end
          end
        end
        -- The user's first waiting id whose job still exists (ids of jobs removed by hand are dropped).
        local function head(pool, list)
          local id = redis.call('LINDEX', list, 0)
          while id and redis.call('EXISTS', p .. ':job:' .. id) == 0 do
            redis.call('LPOP', list)
            redis.call('DECR', p .. ':' .. pool .. ':waiting')
            id = redis.call('LINDEX', list, 0)
          end
          return id
        end
        local function take(pool, pick)
          local users = p .. ':' .. pool .. ':c:' .. pick.class
          local list = p .. ':' .. pool .. ':u:' .. pick.user
          if pick.index == 0 then redis.call('LPOP', list) else redis.call('LREM', list, 1, pick.id) end
          redis.call('DECR', p .. ':' .. pool .. ':waiting')
          if pick.vt then
            redis.call('HSET', p .. ':' .. pool .. ':vclock', pick.class, pick.vt)
            if redis.call('LLEN', list) > 0 then redis.call('ZADD', users, pick.vt + 1, pick.user) end
            local weight = tonumber(redis.call('HGET', p .. ':' .. pool .. ':weights', pick.class) or '1') or 1
            local pass = pick.pass + 120 / math.max(1, weight)
            redis.call('HSET', p .. ':' .. pool .. ':pass', 'served', pick.pass, pick.class, pass)
            redis.call('ZADD', p .. ':' .. pool .. ':classes', pass, pick.class)
          end
          forget_user_if_idle(p, pool, pick.user, pick.class)
          local job = p .. ':job:' .. pick.id
          local deliveries = redis.call('HINCRBY', job, 'deliveries', 1)
          redis.call('HSET', job, 'state', 'active', 'worker', worker, 'started', now)
          redis.call('ZADD', p .. ':' .. pool .. ':active', now + lease, pick.id)
          redis.call('HINCRBY', p .. ':running', pick.user, 1)
          local env, base = unpack(redis.call('HMGET', job, 'env', 'base'))
          return {pool, pick.id, env, tostring(tonumber(base) + deliveries - 1)}
        end
        for i = 6, #ARGV do
          local pool = ARGV[i]
          local classes = p .. ':' .. pool .. ':classes'
          local entries = redis.call('ZRANGE', classes, 0, -1, 'WITHSCORES')
          local order = {}
          for j = 1, #entries, 2 do table.insert(order, {entries[j], tonumber(entries[j + 1])}) end
          if mode == 'fifo' then
            local best = nil
            for _, entry in ipairs(order) do
              local users = redis.call('ZRANGE', p .. ':' .. pool .. ':c:' .. entry[1], 0, -1)
              for _, user in ipairs(users) do
                local id = head(pool, p .. ':' .. pool .. ':u:' .. user)
                if not id then
                  forget_user_if_idle(p, pool, user, entry[1])
                else
                  local seq = tonumber(redis.call('HGET', p .. ':job:' .. id, 'seq') or '0') or 0
                  if not best or seq < best.seq then
                    best = {class = entry[1], user = user, id = id, index = 0, seq = seq}
                  end
                end
              end
            end
            if best then return take(pool, best) end
          else
            table.sort(order, function(a, b)
              if a[2] ~= b[2] then return a[2] < b[2] end
              return tonumber(a[1]) > tonumber(b[1])
            end)
            -- The models the pool's other workers have loaded (each worker says so at every dispatch;
            -- entries older than 30 s are dropped).
            local registry = p .. ':' .. pool .. ':warm'
            if has_warm then redis.call('HSET', registry, worker, now .. '|' .. ARGV[5]) else redis.call('HDEL', registry, worker) end
            local elsewhere, scan = {}, has_warm
            local known = redis.call('HGETALL', registry)
            for j = 1, #known, 2 do
              if known[j] ~= worker then
                local stamp, models = string.match(known[j + 1], '^(%d+)|(.*)$')
                if stamp and now - tonumber(stamp) < 30000 then
                  for model in string.gmatch(models, '[^,]+') do elsewhere[model] = true; scan = true end
                else
                  redis.call('HDEL', registry, known[j])
                end
              end
            end
            -- In dispatch order: the first job for a model this worker has loaded (chosen); failing that
            -- the first for a model no worker has loaded (cold: a load anyway); jobs for models another
            -- worker has loaded are left to it. Every job passed over is stamped, and one passed over for
            -- its bound stops the scan and is taken (blocked): nobody waits more than its bound.
            local natural, chosen, blocked, cold, skipped, looked = nil, nil, nil, nil, {}, 0
            for _, entry in ipairs(order) do
              local class = entry[1]
              local users = p .. ':' .. pool .. ':c:' .. class
              local candidates = redis.call('ZRANGE', users, 0, 49, 'WITHSCORES')
              for j = 1, #candidates, 2 do
                local user, vt = candidates[j], tonumber(candidates[j + 1])
                local list = p .. ':' .. pool .. ':u:' .. user
                local id = head(pool, list)
                if not id then
                  forget_user_if_idle(p, pool, user, class)
                else
                  local cap = tonumber(redis.call('HGET', p .. ':job:' .. id, 'cap') or '1')
                  local running = tonumber(redis.call('HGET', p .. ':running', user) or '0')
                  if running < cap then
                    local pick = {class = class, pass = entry[2], user = user, vt = vt, id = id, index = 0}
                    if not natural then natural = pick end
                    if not scan then break end
                    for k, candidate in ipairs(redis.call('LRANGE', list, 0, 7)) do
                      local model, passed, bound = unpack(redis.call('HMGET', p .. ':job:' .. candidate, 'model', 'passed', 'bound'))
                      local here = {class = class, pass = entry[2], user = user, vt = vt, id = candidate, index = k - 1, ahead = #skipped}
                      if model and warm[model] then
                        chosen = here
                        break
                      end
                      if model then
                        bound = tonumber(bound or '0') or 0
                        if bound <= 0 or (passed and now - tonumber(passed) >= bound) then blocked = here; break end
                        if not cold and not elsewhere[model] then cold = here end
                        table.insert(skipped, candidate)
                      end
                    end
                    looked = looked + 1
                    if chosen or blocked or looked >= 64 then break end
                  end
                end
              end
              if (natural and not scan) or chosen or blocked or looked >= 64 then break end
            end
            local pick = chosen or blocked or cold
            if pick then
              for i = 1, pick.ahead do redis.call('HSETNX', p .. ':job:' .. skipped[i], 'passed', now) end
              return take(pool, pick)
            end
            -- Everything looked at is for a model another worker has loaded: rather than idle (a worker
            -- just scaled up would wait for the bound), take the natural job and load it here too.
            if natural then return take(pool, natural) end
          end
        end
        return false
        """, name: "dispatch")

    /// ARGV: p, pool, limit, mode, and optionally a job to imagine waiting at the end of its user's
    /// queue: user, class, weight. Read-only: plays the dispatch of `mode` forward over the waiting
    /// jobs as they are (no arrivals, caps not binding, no affinity) and returns
    /// {now ms, {id, model, work, size, est, enqueued} in the order they would start (at most
    /// `limit`), position of the imagined job (-1: none or beyond the limit),
    /// {id, model, work, size, est, started} of every running job}.
    static let order = RedisScript(prelude + """
        local p, pool, limit, mode = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
        local extra_user, extra_class, extra_weight = ARGV[5], ARGV[6], ARGV[7]
        local now = now_ms()
        local base = p .. ':' .. pool
        local pass_of, users_of, weights = {}, {}, {}
        local entries = redis.call('ZRANGE', base .. ':classes', 0, -1, 'WITHSCORES')
        for j = 1, #entries, 2 do pass_of[entries[j]] = tonumber(entries[j + 1]) end
        local stored_weights = redis.call('HGETALL', base .. ':weights')
        for j = 1, #stored_weights, 2 do weights[stored_weights[j]] = tonumber(stored_weights[j + 1]) end
        local lists = {}
        for class, _ in pairs(pass_of) do
          local members = redis.call('ZRANGE', base .. ':c:' .. class, 0, -1, 'WITHSCORES')
          local users = {}
          for j = 1, #members, 2 do
            table.insert(users, {name = members[j], vt = tonumber(members[j + 1])})
            lists[members[j] .. '|' .. class] = redis.call('LRANGE', base .. ':u:' .. members[j], 0, -1)
          end
          users_of[class] = users
        end
        local extra = nil
        if extra_user and extra_user ~= '' then
          extra = '?'
          if extra_weight and extra_weight ~= '' then weights[extra_class] = tonumber(extra_weight) end
          if not pass_of[extra_class] then
            local kept = tonumber(redis.call('HGET', base .. ':pass', extra_class) or '0')
            local served = tonumber(redis.call('HGET', base .. ':pass', 'served') or '0')
            pass_of[extra_class] = math.max(kept, served)
            users_of[extra_class] = {}
          end
          local key = extra_user .. '|' .. extra_class
          if lists[key] then
            table.insert(lists[key], extra)
          else
            local clock = tonumber(redis.call('HGET', base .. ':vclock', extra_class) or '0')
            local arrival = (tonumber(redis.call('GET', base .. ':arrivals') or '0') + 1) % 1000000
            lists[key] = {extra}
            table.insert(users_of[extra_class], {name = extra_user, vt = math.floor(clock) + arrival / 1000000})
          end
        end
        local cursor = {}
        local out, position = {}, -1
        if mode == 'fifo' then
          local all = {}
          for key, ids in pairs(lists) do
            for _, id in ipairs(ids) do
              if id == extra then
                table.insert(all, {seq = math.huge, id = id})
              else
                local seq = tonumber(redis.call('HGET', p .. ':job:' .. id, 'seq') or '')
                if seq then table.insert(all, {seq = seq, id = id}) end
              end
            end
          end
          table.sort(all, function(a, b) return a.seq < b.seq end)
          for _, item in ipairs(all) do
            if #out >= limit then break end
            if item.id == extra then
              position = #out
              table.insert(out, {'', '', '0', '', '0', tostring(now)})
            else
              local job = redis.call('HMGET', p .. ':job:' .. item.id, 'model', 'work', 'size', 'est', 'enqueued')
              table.insert(out, {item.id, job[1], job[2] or '1', job[3] or '', job[4] or '0', job[5] or '0'})
            end
          end
          limit = 0
        end
        while #out < limit do
          local class, best = nil, nil
          for c, pass in pairs(pass_of) do
            if #users_of[c] > 0 and (best == nil or pass < best or (pass == best and tonumber(c) > tonumber(class))) then
              class, best = c, pass
            end
          end
          if not class then break end
          local users = users_of[class]
          table.sort(users, function(a, b)
            if a.vt ~= b.vt then return a.vt < b.vt end
            return a.name < b.name
          end)
          local user = users[1]
          local key = user.name .. '|' .. class
          local index = cursor[key] or 0
          local row = nil
          while not row and lists[key][index + 1] do
            index = index + 1
            local id = lists[key][index]
            if id == extra then
              position = #out
              row = {'', '', '0', '', '0', tostring(now)}
              limit = #out + 1  -- the imagined job's place is what was asked: stop there
            else
              local job = redis.call('HMGET', p .. ':job:' .. id, 'model', 'work', 'size', 'est', 'enqueued')
              -- an id whose job is gone is skipped without a turn, as dispatch does
              if job[1] then row = {id, job[1], job[2] or '1', job[3] or '', job[4] or '0', job[5] or '0'} end
            end
          end
          cursor[key] = index
          if row then table.insert(out, row) end
          if row and lists[key][index + 1] then
            user.vt = user.vt + 1
          else
            table.remove(users, 1)
          end
          if row then pass_of[class] = best + 120 / math.max(1, weights[class] or 1) end
          if #users == 0 then pass_of[class] = nil; users_of[class] = nil end
        end
        local running = {}
        for _, id in ipairs(redis.call('ZRANGE', base .. ':active', 0, -1)) do
          local job = redis.call('HMGET', p .. ':job:' .. id, 'model', 'work', 'size', 'est', 'started')
          if job[1] then table.insert(running, {id, job[1], job[2] or '1', job[3] or '', job[4] or '0', job[5] or tostring(now)}) end
        end
        return {tostring(now), out, position, running}
        """, name: "order")

    /// ARGV: p, pool, mode, user, class, weight. Read-only: how many waiting jobs of the pool would
    /// start before a job of that user and class enqueued now — the position `order` finds for its
    /// imagined job — counted instead of played forward, so it costs O(users + classes), not
    /// O(waiting jobs), and can run on every submission.
    ///
    /// `fair`: within a class the k-th waiting job of a user starts at virtual time vt + k (ties by
    /// user id), so the users of the new job's class ahead of it are counted from their virtual time
    /// and list length; across classes, a class's m-th job starts at pass + m × stride (ties to the
    /// higher class), so other classes are counted from their pass and their waiting jobs.
    /// `fifo`: every waiting job of the pool.
    static let position = RedisScript("""
        local p, pool, mode, user, class, weight = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6])
        local base = p .. ':' .. pool
        if mode == 'fifo' then return math.max(0, tonumber(redis.call('GET', base .. ':waiting') or '0') or 0) end
        local weights = {}
        local stored = redis.call('HGETALL', base .. ':weights')
        for j = 1, #stored, 2 do weights[stored[j]] = tonumber(stored[j + 1]) end
        if weight then weights[class] = weight end
        local function stride(c) return 120 / math.max(1, weights[c] or 1) end
        -- How many of 0, 1, 2, ... (at most `total`) fall before `at` on a scale where the k-th is
        -- first + k × step; `first_on_ties`: an exact tie counts as before.
        local function before(at, first, step, total, first_on_ties)
          local d = (at - first) / step
          local n = math.ceil(d)
          if n == d and first_on_ties then n = n + 1 end
          return math.max(0, math.min(total, n))
        end
        local passes = {}
        local entries = redis.call('ZRANGE', base .. ':classes', 0, -1, 'WITHSCORES')
        for j = 1, #entries, 2 do passes[entries[j]] = tonumber(entries[j + 1]) end
        local members = {}
        if passes[class] then members = redis.call('ZRANGE', base .. ':c:' .. class, 0, -1, 'WITHSCORES') end
        local lengths, key = {}, nil
        for j = 1, #members, 2 do
          lengths[j] = redis.call('LLEN', base .. ':u:' .. members[j])
          if members[j] == user then key = tonumber(members[j + 1]) + lengths[j] end
        end
        if not key then
          -- A user without waiting jobs joins at the class's virtual clock, in arrival order.
          local clock = tonumber(redis.call('HGET', base .. ':vclock', class) or '0')
          local arrival = (tonumber(redis.call('GET', base .. ':arrivals') or '0') + 1) % 1000000
          key = math.floor(clock) + arrival / 1000000
        end
        local within = 0
        for j = 1, #members, 2 do
          if members[j] == user then
            within = within + lengths[j]
          else
            within = within + before(key, tonumber(members[j + 1]), 1, lengths[j], members[j] < user)
          end
        end
        local mine = passes[class]
        if not mine then
          local kept = tonumber(redis.call('HGET', base .. ':pass', class) or '0')
          local served = tonumber(redis.call('HGET', base .. ':pass', 'served') or '0')
          mine = math.max(kept, served)
        end
        local at = mine + within * stride(class)
        local ahead = within
        for c, pass in pairs(passes) do
          if c ~= class then
            local total = 0
            for _, other in ipairs(redis.call('ZRANGE', base .. ':c:' .. c, 0, -1)) do
              total = total + redis.call('LLEN', base .. ':u:' .. other)
            end
            ahead = ahead + before(at, pass, stride(c), total, tonumber(c) > tonumber(class))
          end
        end
        return ahead
        """, name: "position")

    /// ARGV: p, id, worker, lease ms. Returns 1 when the lease was extended, 0 when the job is no
    /// longer this worker's (taken over, removed).
    static let renew = RedisScript(prelude + """
        local p, id, worker = ARGV[1], ARGV[2], ARGV[3]
        local state, owner, pool = unpack(redis.call('HMGET', p .. ':job:' .. id, 'state', 'worker', 'pool'))
        if state ~= 'active' or owner ~= worker then return 0 end
        redis.call('ZADD', p .. ':' .. pool .. ':active', now_ms() + tonumber(ARGV[4]), id)
        return 1
        """, name: "renew")

    /// ARGV: p, id, worker, results stream, result envelope ('' for none), stream max length, done TTL s,
    /// seconds the job ran ('' when it did not succeed).
    /// Forgets the job when the worker still holds it and, in the same step, puts the result on the
    /// results stream: either both happen or neither. A success also updates the moving average of
    /// seconds per unit of work for the job's model and size (`p:timing`), which ETAs are made of.
    /// Returns 1 when the job was this worker's.
    static let complete = RedisScript(prelude + """
        local p, id, worker = ARGV[1], ARGV[2], ARGV[3]
        local job = p .. ':job:' .. id
        local state, owner, pool, user, model, size, work = unpack(redis.call('HMGET', job, 'state', 'worker', 'pool', 'user', 'model', 'size', 'work'))
        local mine = state == 'active' and owner == worker
        local seconds = tonumber(ARGV[8] or '')
        if mine and seconds and model and size and size ~= '' then
          local sample = seconds / math.max(1, tonumber(work) or 1)
          local field = model .. '|' .. size
          local old = tonumber(redis.call('HGET', p .. ':timing', field) or '')
          local value = sample
          if old then value = old * 0.7 + sample * 0.3 end
          redis.call('HSET', p .. ':timing', field, string.format('%.6f', value))
        end
        if mine then
          redis.call('ZREM', p .. ':' .. pool .. ':active', id)
          decr_running(p, user)
          redis.call('DEL', job)
          redis.call('SET', p .. ':done:' .. id, '1', 'EX', tonumber(ARGV[7]))
        end
        if ARGV[5] ~= '' then redis.call('XADD', ARGV[4], 'MAXLEN', '~', ARGV[6], '*', 'm', ARGV[5]) end
        if mine then return 1 end
        return 0
        """, name: "complete")

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
        """, name: "release")

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
        """, name: "reclaim")

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
        """, name: "remove")
}
