-- Queue throughput over HTTP with wrk: each connection submits a generation, leases a job over
-- the external worker protocol and completes it with a 0.1 s WAV, again and again (a no-op
-- engine), so the figure is the queue's own cost through HTTP: three authenticated requests
-- per job. Run with as many threads as connections (-tN -cN): wrk gives each thread one Lua
-- state, so each connection keeps its own place in the cycle.
-- Connection i submits as user i of USER_TOKENS (comma-separated, taken round): a queue serves
-- many users at once, while one user's submissions take turns on that user's row lock (the
-- exact per-user limits), which is that user's cost, not the queue's.
--   USER_TOKENS, WORKER_TOKEN (and WORKER_PREFIX, default "wrk"): environment variables. Prints "jobs_per_second: N" at the end.

local user_tokens = {}
for t in string.gmatch(os.getenv("USER_TOKENS") or "", "[^,]+") do table.insert(user_tokens, t) end
local worker_token = os.getenv("WORKER_TOKEN")
-- Distinguishes the workers of wrk runs going on at once (one per instance).
local prefix = os.getenv("WORKER_PREFIX") or "wrk"
local threads = {}

local function le32(n)
    return string.char(n % 256, math.floor(n / 256) % 256, math.floor(n / 65536) % 256, math.floor(n / 16777216) % 256)
end
local function le16(n) return string.char(n % 256, math.floor(n / 256) % 256) end
local frames = 800
local wav = "RIFF" .. le32(36 + frames * 2) .. "WAVEfmt " .. le32(16) .. le16(1) .. le16(1) .. le32(8000) .. le32(16000)
    .. le16(2) .. le16(16) .. "data" .. le32(frames * 2) .. string.rep("\0", frames * 2)

function setup(thread)
    thread:set("id", #threads)
    table.insert(threads, thread)
end

function init(args)
    user_token = user_tokens[(id % #user_tokens) + 1]
    step = "submit"
    completed = 0
    seed = id * 1000000
    job_id, lease_id = nil, nil
end

function request()
    if step == "submit" then
        seed = seed + 1
        return wrk.format("POST", "/api/generations", { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. user_token },
            string.format('{"prompt":"bench","duration_s":5,"seed":%d}', seed))
    elseif step == "lease" then
        return wrk.format("POST", "/api/worker/jobs/next", { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. worker_token },
            string.format('{"worker_id":"%s-%d","wait_s":0}', prefix, id))
    else
        return wrk.format("POST", string.format("/api/worker/jobs/%s/complete?worker_id=%s-%d&lease_id=%s", job_id, prefix, id, lease_id),
            { ["Content-Type"] = "audio/wav", ["Authorization"] = "Bearer " .. worker_token }, wav)
    end
end

function response(status, headers, body)

    if step == "submit" then
        if status == 202 then step = "lease" end
    elseif step == "lease" then
        if status == 200 then
            job_id = string.match(body, '"id"%s*:%s*"([^"]+)"')
            lease_id = string.match(body, '"lease_id"%s*:%s*"([^"]+)"')
            step = (job_id and lease_id) and "complete" or "submit"
        else
            step = "submit"
        end
    else
        if status == 200 then completed = completed + 1 end
        step = "submit"
    end
end

function done(summary, latency, requests)
    local total = 0
    for _, thread in ipairs(threads) do total = total + thread:get("completed") end
    io.write(string.format("jobs_per_second: %.0f\n", total / (summary.duration / 1e6)))
    io.write(string.format("jobs_completed: %d\n", total))
end
