-- S2: staff POST /api/v1/stamps {"phone": ..., "count": 1}, cycling over the customers'
-- phones. `phones` and `cycle` are defined by the files run.sh puts in front of this one
-- (wrk_script in lib/measure.sh).
function init(args)
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "application/json"
end

function request()
   return wrk.format(nil, "/api/v1/stamps", nil, '{"phone": "' .. cycle(phones) .. '", "count": 1}')
end
