-- S2: staff POST /api/v1/stamps {"phone": ..., "count": 1}, cycling over the customers'
-- phones. `phones` is defined by the file run.sh puts in front of this one. Each wrk thread
-- starts at a different place in the cycle.
local threads = 0
function setup(thread)
   thread:set("start", threads * 31)
   threads = threads + 1
end

local i
function init(args)
   i = start or 0
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "application/json"
end

function request()
   i = i + 1
   local phone = phones[(i % #phones) + 1]
   return wrk.format(nil, "/api/v1/stamps", nil, '{"phone": "' .. phone .. '", "count": 1}')
end
