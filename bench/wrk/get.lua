-- A GET with a bearer token: `wrk ... URL -- TOKEN`. No request() or response() function, so wrk builds
-- the request once and sends it without calling Lua per request.
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local report = require("report")

function init(args)
  wrk.headers["Authorization"] = "Bearer " .. args[1]
end

setup = report.setup

function done(summary, latency, requests)
  report.done(summary, latency)
end
