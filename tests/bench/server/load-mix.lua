-- SPDX-License-Identifier: GPL-3.0-or-later
-- A realistic mix for kempelen-server, driven by bench-load.py:
--   wrk -t N -c N -s load-mix.lua URL -- CONFIG.lua
-- Every wrk thread has exactly one connection, so that a thread's Lua state
-- is that connection's state (wrk calls response() before the next
-- request() of a connection). CONFIG.lua returns
--   { group = HITTypeId, run = "tag", out = "/path/prefix-",
--     roles = { {kind = "worker", token = "…"}, {kind = "requester"},
--               {kind = "poster"}, … },
--     signed = { {headers = {…}, body = "…"}, … },
--     create = {headers = {…}, body = "…"} }
-- A worker accepts the next HIT of the group, then submits it with a
-- submission id of its own, and again. A requester replays SigV4-signed
-- GetHIT and ListAssignmentsForHIT requests; a poster replays a signed
-- CreateHITWithHITType, adding HITs to the group as workers take them. Busy answers (503, 500 that
-- the worker API documents as retryable, MTurk's ThrottlingException) are
-- retried unchanged, as a client must; every acknowledged submission is written to OUT<index> as
-- "assignment_id submission_id", to be counted against the store.

local threads = {}
local count = 0

function setup(thread)
  thread:set("index", count)
  count = count + 1
  threads[#threads + 1] = thread
end

-- Per thread (per connection) state.
ok_accept, ok_submit, ok_read, ok_create = 0, 0, 0, 0
races, busy, errors, exhausted = 0, 0, 0, 0
local config, role, out
local state = "accept"
local assignment, submission = nil, nil
local n = 0
local reads = {}
local next_read = 0
local create
last_error = ""

function init(args)
  config = dofile(args[1])
  role = config.roles[index + 1]
  if role.kind == "worker" then
    out = io.open(config.out .. index, "w")
    out:setvbuf("line")
  elseif role.kind == "poster" then
    create = wrk.format("POST", "/", config.create.headers, config.create.body)
  else
    for i, r in ipairs(config.signed) do
      reads[i] = wrk.format("POST", "/", r.headers, r.body)
    end
    next_read = index
  end
end

function request()
  if role.kind == "poster" then
    return create
  end
  if role.kind == "requester" then
    next_read = next_read % #reads + 1
    return reads[next_read]
  end
  local headers = {["Authorization"] = "Bearer " .. role.token}
  if state == "accept" then
    return wrk.format("POST", "/worker/v1/groups/" .. config.group .. "/accept", headers)
  end
  headers["Content-Type"] = "application/json"
  local body = string.format(
    '{"submission_id": "%s", "answers": [{"QuestionIdentifier": "q1", "FreeText": "load %s"}]}',
    submission, submission)
  return wrk.format("POST", "/worker/v1/assignments/" .. assignment .. "/submit", headers, body)
end

local function fail(status, body)
  errors = errors + 1
  last_error = status .. " " .. string.sub(body or "", 1, 200)
end

function response(status, headers, body)
  if status == 503 or status == 500 or
     (status == 400 and string.find(body, '"ThrottlingException"', 1, true)) then
    busy = busy + 1          -- retried unchanged by the next request()
    return
  end
  if role.kind == "requester" then
    if status == 200 then ok_read = ok_read + 1 else fail(status, body) end
    return
  end
  if role.kind == "poster" then
    if status == 200 then ok_create = ok_create + 1 else fail(status, body) end
    return
  end
  if state == "accept" then
    if status == 200 then
      assignment = string.match(body, '"assignment_id"%s*:%s*"(%w+)"')
      if assignment == nil then
        fail(status, body)
        return
      end
      ok_accept = ok_accept + 1
      n = n + 1
      submission = string.format("load-%s-%d-%d", config.run, index, n)
      state = "submit"
    elseif status == 410 then
      exhausted = exhausted + 1   -- this worker has worked every HIT
    elseif status == 409 then
      races = races + 1
    else
      fail(status, body)
    end
  else
    if status == 200 then
      ok_submit = ok_submit + 1
      out:write(assignment, " ", submission, "\n")
    else
      fail(status, body)
    end
    state = "accept"
  end
end

function done(summary, latency, requests)
  local totals = {ok_accept = 0, ok_submit = 0, ok_read = 0, ok_create = 0, races = 0,
                  busy = 0, errors = 0, exhausted = 0}
  for _, thread in ipairs(threads) do
    for key, _ in pairs(totals) do
      totals[key] = totals[key] + (thread:get(key) or 0)
    end
    local e = thread:get("last_error")
    if e ~= nil and e ~= "" then
      io.write("LOAD last_error ", e, "\n")
    end
  end
  for key, value in pairs(totals) do
    io.write(string.format("LOAD %s %d\n", key, value))
  end
  io.write(string.format("LOAD requests %d\n", summary.requests))
  io.write(string.format("LOAD duration_us %d\n", summary.duration))
  io.write(string.format("LOAD socket_errors %d\n",
                         summary.errors.connect + summary.errors.read +
                         summary.errors.write + summary.errors.timeout))
  for _, p in ipairs({50, 90, 99}) do
    io.write(string.format("LOAD p%d_us %d\n", p, latency:percentile(p)))
  end
end
