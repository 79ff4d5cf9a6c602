-- wrk script: GET / (or PATH, the fourth argument: a site's pixel) as many
-- different visitors.
--   wrk ... -s bench/visitors.lua URL -- MODE RUN [POPULATION [PATH]]
--   wrk ... -s bench/visitors.lua URL -- new RUN
--       every request a first visit: a User-Agent and X-Real-IP never sent
--       before (RUN, any word, keeps runs apart)
--   wrk ... -s bench/visitors.lua URL -- returning RUN POPULATION
--       the same POPULATION visitors per thread, over and over
--   wrk ... -s bench/visitors.lua URL -- shared RUN
--       every request a first visit of the same desktop Chrome: a new
--       X-Real-IP each time, one User-Agent (most real traffic shares a few
--       dozen, so the parse cache hits); direct to a replica only
--   wrk ... -s bench/visitors.lua URL -- pool RUN
--       every request a first visit from a new X-Real-IP, its User-Agent
--       drawn from a fixed pool: the first 50 browsers of the test corpus
--       (tests/fixtures/user_agents.tsv), the k-th weighted 1/k as real
--       traffic concentrates on a few; direct to a replica only
--   wrk ... -s bench/visitors.lua URL -- one RUN
--       one visitor on every connection of every thread (one address, one
--       browser: a load generator, an office behind one NAT)
-- BENCH_PHASE=warmup (the warm-up before a measured run) sends other
-- visitors than the measured run, which would otherwise find the warm-up's
-- as returning ones.
-- The User-Agent carries the identity because nginx overwrites X-Real-IP
-- with the connection's address (127.0.0.1 for every request here); direct
-- to a replica, which trusts X-Real-IP, both vary. Every User-Agent reads as
-- the same desktop Chrome, so the dashboard's breakdowns stay realistic.

local threads = 0

function setup(thread)
    thread:set("thread_id", threads)
    threads = threads + 1
end

-- The pool's User-Agents and their cumulative weights.
local pool, cumulative = {}, {}

local function load_pool(size)
    local total = 0
    for line in io.lines("tests/fixtures/user_agents.tsv") do
        local kind, agent = line:match("^(%w+)\t(.+)$")
        if kind == "browser" and #pool < size then
            pool[#pool + 1] = agent
            total = total + 1 / #pool
            cumulative[#pool] = total
        end
    end
end

-- The pool's entry for request n of a thread: a fixed pseudo-random draw,
-- so that every run sends the same mix.
local function drawn(thread, n)
    local r = ((n * 2654435761 + thread * 40503) % 4294967296) / 4294967296 * cumulative[#pool]
    for k = 1, #pool do
        if r < cumulative[k] then
            return pool[k]
        end
    end
    return pool[#pool]
end

function init(args)
    mode = args[1] or "new"
    run = args[2] or tostring(os.time())
    population = tonumber(args[3] or "1000")
    path = args[4] or "/"
    phase = os.getenv("BENCH_PHASE") == "warmup" and 1 or 0
    counter = 0
    if mode == "pool" then
        load_pool(50)
    end
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
    local agent = string.format("%s visitor/%s-%d-%d-%d", chrome, run, phase, thread, n)
    if mode == "shared" then
        agent = chrome
    elseif mode == "pool" then
        agent = drawn(thread, n)
    end
    local headers = {
        ["User-Agent"] = agent,
        ["X-Real-IP"] = string.format("fd0%d::%x:%x:%x", phase, thread, math.floor(n / 65536), n % 65536),
    }
    return wrk.format("GET", path, headers)
end
