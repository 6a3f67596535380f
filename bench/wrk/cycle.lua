-- Cycles each connection's requests through a list (customers' phones or session cookies):
-- `cycle(list)` returns the next element. Each wrk thread starts at a different place.
local threads = 0
function setup(thread)
   thread:set("start", threads * 31)
   threads = threads + 1
end

local i
function cycle(list)
   i = (i or start or 0) + 1
   return list[(i % #list) + 1]
end
