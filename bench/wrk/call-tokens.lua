-- Call-token pairs: mint with an API key, then redeem the minted token. `wrk ... BASE_URL -- API_KEY ENDPOINT_ID`.
-- wrk's Lua API does not say which connection or request an answer belongs to, so the chain runs through a
-- stack: a mint answer (the one carrying "token") pushes its token, and the next request a connection sends
-- redeems a waiting token if there is one, else mints. In steady state half the requests are each.
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local report = require("report")

local mint
local waiting, count = {}, 0
minted, redeemed = 0, 0

function init(args)
  local body = '{"endpointId":"' .. args[2] .. '"}'
  mint = wrk.format("POST", "/api/call-tokens", { ["X-API-Key"] = args[1], ["Content-Type"] = "application/json" }, body)
end

function request()
  if count == 0 then
    return mint
  end
  local token = waiting[count]
  waiting[count] = nil
  count = count - 1
  return wrk.format("POST", "/api/call-tokens/redeem", { ["Content-Type"] = "application/json" }, '{"token":"' .. token .. '"}')
end

function response(status, headers, body)
  if status == 201 then
    local token = body:match('"token"%s*:%s*"([^"]+)"')
    if token then
      minted = minted + 1
      count = count + 1
      waiting[count] = token
    end
  elseif status == 200 and body:find('"sessionId"', 1, true) then
    redeemed = redeemed + 1
  end
end

setup = report.setup

function done(summary, latency, requests)
  report.done(summary, latency, { "minted", "redeemed" })
end
