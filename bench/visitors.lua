-- wrk script: GET / as many different visitors.
--   wrk ... -s bench/visitors.lua URL -- new RUN
--       every request a first visit: a User-Agent and X-Real-IP never sent
--       before (RUN, any word, keeps runs apart)
--   wrk ... -s bench/visitors.lua URL -- returning RUN POPULATION
--       the same POPULATION visitors per thread, over and over
--   wrk ... -s bench/visitors.lua URL -- shared RUN
--       every request a first visit of the same desktop Chrome: a new
--       X-Real-IP each time, one User-Agent (most real traffic shares a few
--       dozen, so the parse cache hits); direct to a replica only
--   wrk ... -s bench/visitors.lua URL -- one RUN
--       one visitor on every connection of every thread (one address, one
--       browser: a load generator, an office behind one NAT)
-- The User-Agent carries the identity because nginx overwrites X-Real-IP
-- with the connection's address (127.0.0.1 for every request here); direct
-- to a replica, which trusts X-Real-IP, both vary. Every User-Agent reads as
-- the same desktop Chrome, so the dashboard's breakdowns stay realistic.

local threads = 0

function setup(thread)
    thread:set("thread_id", threads)
    threads = threads + 1
end

function init(args)
    mode = args[1] or "new"
    run = args[2] or tostring(os.time())
    population = tonumber(args[3] or "1000")
    counter = 0
end

function request()
    counter = counter + 1
    local n = counter
    local thread = thread_id
    if mode == "returning" then
        n = counter % population
    elseif mode == "one" then
        n, thread = 0, 0
    end
    local chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        .. "Chrome/124.0.0.0 Safari/537.36"
    local headers = {
        ["User-Agent"] = mode == "shared" and chrome
            or string.format("%s visitor/%s-%d-%d", chrome, run, thread, n),
        ["X-Real-IP"] = string.format("fd00::%x:%x:%x", thread, math.floor(n / 65536), n % 65536),
    }
    return wrk.format("GET", "/", headers)
end
