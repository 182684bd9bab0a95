import { createHash } from 'node:crypto';
import { ValidationError } from '#domain/errors';
import type { ApplyOutcome, ProjectedEvent, ReadModelChange } from '#ports/readModels';
import { orderKeyOf } from '#adapters/shared/userPaging';

/**
 * One batch, applied atomically by Redis. ARGV, flat so that Lua reads it without decoding:
 *
 *   prefix, checkpoint ('' = none), event count, then per event:
 *     streamId, revision, previous revision ('' for revision 0), position, change count, then per change:
 *       'c', id, email, displayName, status, emailVerified ('1'|'0'), registeredAt, order key
 *       'p', userId, field count, then field name, value pairs (names as in the user hash)
 *
 * Revisions and positions are decimal strings of non-negative integers without leading zeros,
 * compared as such (longer is larger, else as text), so nothing rounds above 2^53.
 * Answers one character per event: a(pplied), d(uplicate), g(ap).
 *
 * Redis does not undo a script's writes when it fails midway, so the whole ARGV is checked
 * before the first write. Key names are built here from the prefix (see readModelKeys.ts):
 * fine on a standalone or replicated Redis, not on Redis Cluster.
 */
export const APPLY_BATCH_SCRIPT = `
local ARGV, call, tonumber = ARGV, redis.call, tonumber
local prefix, checkpoint, count = ARGV[1], ARGV[2], tonumber(ARGV[3])
local argc = #ARGV

local function ge(a, b)
  if #a ~= #b then return #a > #b end
  return a >= b
end

local patchable = { email = true, displayName = true, status = true, emailVerified = true }
local statuses = { active = true, suspended = true }
local function bad(what) return redis.error_reply('ERR chronicle apply-batch: malformed ' .. what) end

if not count then return bad('event count') end
local streams, seen = {}, {}
local i = 4
for _ = 1, count do
  local n = tonumber(ARGV[i + 4])
  if not n or i + 4 > argc then return bad('event') end
  if not seen[ARGV[i]] then seen[ARGV[i]] = true; streams[#streams + 1] = ARGV[i] end
  i = i + 5
  for _ = 1, n do
    local kind = ARGV[i]
    if kind == 'c' then
      if not statuses[ARGV[i + 4]] then return bad('status') end
      i = i + 8
    elseif kind == 'p' then
      local f = tonumber(ARGV[i + 2])
      if not f then return bad('patch') end
      for j = 0, f - 1 do
        local name = ARGV[i + 3 + 2 * j]
        if not patchable[name] or (name == 'status' and not statuses[ARGV[i + 4 + 2 * j]]) then return bad('patch field') end
      end
      i = i + 3 + 2 * f
    else
      return bad('change')
    end
  end
end
if i ~= argc + 1 then return bad('batch length') end

local appliedKey = prefix .. 'applied'
local emailKey = prefix .. 'users:by-email'
local CHUNK = 1000

-- Variadic writes in slices that unpack() can take.
local function callChunked(command, key, list, step)
  for first = 1, #list, CHUNK * step do
    call(command, key, unpack(list, first, math.min(first + CHUNK * step - 1, #list)))
  end
end

-- Every stream's applied revision, read in a few HMGETs rather than one HGET per event.
local applied = {}
for first = 1, #streams, CHUNK do
  local last = math.min(first + CHUNK - 1, #streams)
  local revisions = call('HMGET', appliedKey, unpack(streams, first, last))
  for k = first, last do applied[streams[k]] = revisions[k - first + 1] or '' end
end

-- 1. Outcomes, in event order: only the next revision of a stream applies.
local outcomes, eventAt, changedStreams, changed = {}, {}, {}, {}
-- Users whose stored state the fold needs (their hash's status, email, order): everyone an
-- applied change touches, except the user of a revision-0 create. A stream with no applied
-- revision has never written its user's hash (only a user's own stream writes it).
local toRead, reading, fresh = {}, {}, {}
i = 4
for e = 1, count do
  local stream, rev, prev, n = ARGV[i], ARGV[i + 1], ARGV[i + 2], tonumber(ARGV[i + 4])
  eventAt[e] = i
  local current = applied[stream]
  local apply = current == prev
  if apply then
    outcomes[e] = 'a'
    if not changed[stream] then changed[stream] = true; changedStreams[#changedStreams + 1] = stream end
    applied[stream] = rev
  elseif current ~= '' and ge(current, rev) then
    outcomes[e] = 'd'
  else
    outcomes[e] = 'g'
  end
  i = i + 5
  for _ = 1, n do
    local id = ARGV[i + 1]
    if apply and not reading[id] and not fresh[id] then
      if ARGV[i] == 'c' and prev == '' then fresh[id] = true else reading[id] = true; toRead[#toRead + 1] = id end
    end
    i = i + (ARGV[i] == 'c' and 8 or 3 + 2 * tonumber(ARGV[i + 2]))
  end
end

-- 2. The stored state of those users in one SORT … GET per chunk (a read of many hashes in one
-- call, where HMGET would take one call per user), through a list that lives only inside this
-- script. User ids are substituted into the pattern as they are; they never contain '*'.
local users, touched = {}, {}
local scratch = prefix .. 'apply-batch:scratch'
local userPattern = prefix .. 'user:*->'
for first = 1, #toRead, CHUNK do
  local last = math.min(first + CHUNK - 1, #toRead)
  call('DEL', scratch)
  call('RPUSH', scratch, unpack(toRead, first, last))
  local stored = call('SORT', scratch, 'BY', 'nosort', 'GET', userPattern .. 'status', 'GET', userPattern .. 'email', 'GET', userPattern .. 'order')
  for k = first, last do
    local at = (k - first) * 3
    local status = stored[at + 1]
    local u = { id = toRead[k], names = {}, values = {}, exists = false }
    if status then
      u.exists, u.s0, u.e0, u.o0 = true, status, stored[at + 2] or nil, stored[at + 3] or nil
      u.status, u.email, u.order = u.s0, u.e0, u.o0
    end
    users[u.id] = u
  end
end
if #toRead > 0 then call('DEL', scratch) end

-- 3. Fold the applied changes, in order, into each touched user's final state, so that the
-- writes below come once per user and once per index: a redis.call costs far more than the
-- Lua around it. A user: s0/e0/o0 as stored before the batch (nil: no hash), status/email/
-- order now, exists, emailAt (the event that last set its address: the last writer of an
-- address wins), and the hash fields to write (names in first-set order, values by name).
local function userOf(id)
  local u = users[id]
  if not u then u = { id = id, names = {}, values = {}, exists = false }; users[id] = u end
  if not u.touched then u.touched = true; touched[#touched + 1] = u end
  return u
end
local function set(u, name, value)
  if u.values[name] == nil then u.names[#u.names + 1] = name end
  u.values[name] = value
end

for e = 1, count do
  if outcomes[e] == 'a' then
    i = eventAt[e]
    local rev, pos, n = ARGV[i + 1], ARGV[i + 3], tonumber(ARGV[i + 4])
    i = i + 5
    for _ = 1, n do
      if ARGV[i] == 'c' then
        local id, email, status, order = ARGV[i + 1], ARGV[i + 2], ARGV[i + 4], ARGV[i + 7]
        local u = userOf(id)
        u.exists, u.status, u.order = true, status, order
        if u.email ~= email then u.email, u.emailAt = email, e end
        set(u, 'id', id); set(u, 'email', email); set(u, 'displayName', ARGV[i + 3]); set(u, 'status', status)
        set(u, 'emailVerified', ARGV[i + 5]); set(u, 'registeredAt', ARGV[i + 6]); set(u, 'order', order)
        set(u, 'revision', rev); set(u, 'position', pos)
        i = i + 8
      else
        local f = tonumber(ARGV[i + 2])
        local u = userOf(ARGV[i + 1])
        -- A patch for a user the read model never saw (its registration was parked) is dropped.
        if u.exists then
          set(u, 'revision', rev); set(u, 'position', pos)
          for j = i + 3, i + 1 + 2 * f, 2 do
            local name, value = ARGV[j], ARGV[j + 1]
            set(u, name, value)
            if name == 'status' then u.status = value
            elseif name == 'email' and value ~= u.email then u.email, u.emailAt = value, e end
          end
        end
        i = i + 3 + 2 * f
      end
    end
  end
end

-- 4. Writes, each index in as few calls as it takes: removals before additions, so that a
-- member leaving one place and another arriving there end up as in event order.
local remove, add, removeOrder, addOrder = {}, {}, {}, {}
local function listOf(lists, status)
  local list = lists[status]
  if not list then list = {}; lists[status] = list end
  return list
end
local oldEmails, oldEmailOwners, newEmails = {}, {}, {}
for t = 1, #touched do
  local u = touched[t]
  local id = u.id
  if u.exists then
    local hash = { prefix .. 'user:' .. id }
    for k = 1, #u.names do
      local name = u.names[k]
      hash[#hash + 1] = name
      hash[#hash + 1] = u.values[name]
    end
    call('HSET', unpack(hash))
    if u.s0 ~= u.status then
      if u.s0 then local l = listOf(remove, u.s0); l[#l + 1] = id end
      local l = listOf(add, u.status); l[#l + 1] = id
    end
    if u.s0 ~= u.status or u.o0 ~= u.order then
      if u.s0 and u.o0 then local l = listOf(removeOrder, u.s0); l[#l + 1] = u.o0 end
      local l = listOf(addOrder, u.status); l[#l + 1] = 0; l[#l + 1] = u.order
    end
    if u.email ~= u.e0 then
      if u.e0 then oldEmails[#oldEmails + 1] = u.e0; oldEmailOwners[#oldEmailOwners + 1] = id end
      newEmails[#newEmails + 1] = u
    end
  end
end
for status, list in pairs(remove) do callChunked('SREM', prefix .. 'users:' .. status, list, 1) end
for status, list in pairs(removeOrder) do callChunked('ZREM', prefix .. 'users:' .. status .. ':by-registration', list, 1) end
for status, list in pairs(add) do callChunked('SADD', prefix .. 'users:' .. status, list, 1) end
for status, list in pairs(addOrder) do callChunked('ZADD', prefix .. 'users:' .. status .. ':by-registration', list, 2) end

-- An old address is removed only while it still points to its user (another may have taken it).
local stale = {}
for first = 1, #oldEmails, CHUNK do
  local last = math.min(first + CHUNK - 1, #oldEmails)
  local owners = call('HMGET', emailKey, unpack(oldEmails, first, last))
  for k = first, last do
    if owners[k - first + 1] == oldEmailOwners[k] then stale[#stale + 1] = oldEmails[k] end
  end
end
callChunked('HDEL', emailKey, stale, 1)
table.sort(newEmails, function(a, b) return a.emailAt < b.emailAt end)
local emailPairs = {}
for k = 1, #newEmails do
  emailPairs[#emailPairs + 1] = newEmails[k].email
  emailPairs[#emailPairs + 1] = newEmails[k].id
end
callChunked('HSET', emailKey, emailPairs, 2)

local revisions = {}
for s = 1, #changedStreams do
  revisions[#revisions + 1] = changedStreams[s]
  revisions[#revisions + 1] = applied[changedStreams[s]]
end
callChunked('HSET', appliedKey, revisions, 2)

if checkpoint ~= '' then
  local stored = call('GET', prefix .. 'checkpoint')
  if not stored or not ge(stored, checkpoint) then call('SET', prefix .. 'checkpoint', checkpoint) end
end

return table.concat(outcomes)
`;

export const APPLY_BATCH_SHA = createHash('sha1').update(APPLY_BATCH_SCRIPT).digest('hex');

const decimal = (value: bigint, what: string): string => {
  if (typeof value !== 'bigint' || value < 0n) throw new ValidationError(`${what} must be a non-negative bigint, got ${String(value)}`);
  return value.toString();
};

const encodeChange = (argv: string[], change: ReadModelChange): void => {
  switch (change.type) {
    case 'userCreated': {
      const { user } = change;
      argv.push('c', user.id, user.email, user.displayName, user.status, user.emailVerified ? '1' : '0', user.registeredAt, orderKeyOf(user.registeredAt, user.id));
      return;
    }
    case 'userPatched': {
      const fields: string[] = [];
      const { email, displayName, status, emailVerified } = change.fields;
      if (email !== undefined) fields.push('email', email);
      if (displayName !== undefined) fields.push('displayName', displayName);
      if (status !== undefined) fields.push('status', status);
      if (emailVerified !== undefined) fields.push('emailVerified', emailVerified ? '1' : '0');
      argv.push('p', change.userId, String(fields.length / 2), ...fields);
      return;
    }
    default: {
      const unknown: never = change;
      throw new ValidationError(`unknown read-model change ${JSON.stringify(unknown)}`);
    }
  }
};

/** The script's ARGV for one batch. Throws ValidationError (before anything is sent) on a malformed event. */
export const encodeBatch = (prefix: string, events: readonly ProjectedEvent[], checkpoint: bigint | null): string[] => {
  const argv = [prefix, checkpoint === null ? '' : decimal(checkpoint, 'checkpoint'), String(events.length)];
  for (const event of events) {
    const revision = decimal(event.revision, 'revision');
    argv.push(event.streamId, revision, event.revision === 0n ? '' : (event.revision - 1n).toString(), decimal(event.position, 'position'), String(event.changes.length));
    for (const change of event.changes) encodeChange(argv, change);
  }
  return argv;
};

const OUTCOMES: Readonly<Record<string, ApplyOutcome>> = { a: 'applied', d: 'duplicate', g: 'gap' };

export const decodeOutcomes = (reply: unknown, expected: number): ApplyOutcome[] => {
  if (typeof reply !== 'string' || reply.length !== expected) throw new Error(`apply-batch script answered ${JSON.stringify(reply)} for ${expected} events`);
  return Array.from(reply, (c) => OUTCOMES[c] ?? 'gap');
};
