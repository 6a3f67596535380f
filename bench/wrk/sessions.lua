-- S1 over many sessions (not a target): GET /api/v1/users/me, each request with the next of
-- the 64 customers' session cookies. `cookies` and `cycle` are defined by the files run.sh puts
-- in front of this one (wrk_script in lib/measure.sh).
function request()
   return wrk.format("GET", "/api/v1/users/me", {["Cookie"] = "stampcard_session=" .. cycle(cookies)}, nil)
end
