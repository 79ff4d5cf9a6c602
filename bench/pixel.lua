-- wrk script: the pixel as many new visitors.
--   wrk ... -s bench/pixel.lua URL -- RUN PATH [REFERER]
-- Every request is a first visit of PATH (the pixel's URL, e.g.
-- /pixel/site-1.example.gif?p=/x): a User-Agent never sent before (RUN, any
-- word, keeps runs apart). nginx overwrites X-Real-IP with the connection's
-- address, so the User-Agent carries the identity, as in bench/visitors.lua;
-- every User-Agent reads as the same desktop Chrome. REFERER, when given, is
-- the page holding the pixel (a page of the site's own host).

local threads = 0

function setup(thread)
    thread:set("thread_id", threads)
    threads = threads + 1
end

function init(args)
    run = args[1] or tostring(os.time())
    path = args[2] or "/"
    referer = args[3]
    counter = 0
end

function request()
    counter = counter + 1
    local headers = {
        ["User-Agent"] = string.format(
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                .. "Chrome/124.0.0.0 Safari/537.36 visitor/%s-%d-%d", run, thread_id, counter),
    }
    if referer and referer ~= "" then
        headers["Referer"] = referer
    end
    return wrk.format("GET", path, headers)
end
