-- S1 over many sessions (not a target): GET /api/v1/users/me, each request with the next of
-- the 64 customers' session cookies. `cookies` is defined by the file run.sh puts in front of
-- this one. Each wrk thread starts at a different place in the cycle.
local threads = 0
function setup(thread)
   thread:set("start", threads * 31)
   threads = threads + 1
end

local i
function init(args)
   i = start or 0
end

function request()
   i = i + 1
   local cookie = "stampcard_session=" .. cookies[(i % #cookies) + 1]
   return wrk.format("GET", "/api/v1/users/me", {["Cookie"] = cookie}, nil)
end
