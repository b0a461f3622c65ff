-- wrk script for the "post-form" scenario of tests/bench/run.sh:
-- POST /form with the 2 KiB benign application/x-www-form-urlencoded body
-- stored next to this script in form-body.txt (the same file run.sh sends
-- with curl in its pre-flight check).
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local path = os.getenv("BENCH_FORM_BODY") or (dir .. "form-body.txt")
local f = assert(io.open(path, "rb"), "cannot open " .. path)
local body = f:read("*a")
f:close()

wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
