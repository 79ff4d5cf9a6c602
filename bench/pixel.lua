-- wrk script: the pixel (or the script's hit) as many new visitors.
--   wrk ... -s bench/pixel.lua URL -- RUN PATH [REFERER] [METHOD]
-- Every request is a first visit of PATH (the pixel's URL, e.g.
-- /pixel/site-1.example.gif?p=/x): a User-Agent never sent before (RUN, any
-- word, keeps runs apart). nginx overwrites X-Real-IP with the connection's
-- address, so the User-Agent carries the identity, as in bench/visitors.lua;
-- every User-Agent reads as the same desktop Chrome. REFERER, when given, is
-- the page holding the pixel (a page of the site's own host). METHOD POST
-- sends the script's body-less POST instead of the image's GET.

local threads = 0

function setup(thread)
    thread:set("thread_id", threads)
    threads = threads + 1
end

function init(args)
    run = args[1] or tostring(os.time())
    path = args[2] or "/"
    referer = args[3]
    method = args[4] or "GET"
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
    if method == "POST" then
        headers["Content-Length"] = "0"
    end
    return wrk.format(method, path, headers)
end
