-- wrk script for scripts/bench-http.sh: every request carries a token the server has not seen.
-- Usage: wrk -t THREADS -s scripts/bench-http-unique.lua URL -- TOKENS_FILE THREADS ROUND ROUNDS
-- The lines of TOKENS_FILE are dealt out to THREADS x ROUNDS slots; each wrk thread of run
-- ROUND (0-based) sends the tokens of its slot, each once, so no two runs share a token. When a
-- thread runs out it starts over, and the summary says so: from then on its tokens are cache
-- hits, and the figure is no longer one of unique tokens.

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local path = args[1]
  local thread_count = tonumber(args[2])
  local round = tonumber(args[3] or "0")
  local rounds = tonumber(args[4] or "1")
  local slots = thread_count * rounds
  local slot = round * thread_count + id
  tokens = {}
  local line_number = 0
  for line in io.lines(path) do
    if line ~= "" then
      if line_number % slots == slot then
        table.insert(tokens, "Bearer " .. line)
      end
      line_number = line_number + 1
    end
  end
  next_token = 0
  wrapped = 0
end

function request()
  next_token = next_token + 1
  if next_token > #tokens then
    next_token = 1
    wrapped = wrapped + 1
  end
  return wrk.format("GET", nil, { Authorization = tokens[next_token] })
end

function done(summary, latency, requests)
  local wraps = 0
  for _, thread in ipairs(threads) do
    wraps = wraps + thread:get("wrapped")
  end
  io.write(string.format("token reuse: %d\n", wraps))
end
