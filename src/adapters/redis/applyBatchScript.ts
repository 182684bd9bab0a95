import { createHash } from 'node:crypto';
import { ValidationError } from '#domain/errors';
import type { ApplyOutcome, ProjectedEvent, ReadModelChange } from '#ports/readModels';
import { orderKeyOf } from '#adapters/shared/userPaging';

/**
 * One batch, applied atomically by Redis. Its one argument is a MessagePack array of strings
 * (msgpackStrings.ts), unpacked into a flat list the script walks by index:
 *
 *   prefix, checkpoint ('' = none), event count, then per event:
 *     streamId, revision, previous revision (before the first folded one; '' for 0), position, change count, then per change:
 *       'c', id, email, displayName, status, emailVerified ('1'|'0'), registeredAt, order key
 *       'p', userId, field count, then field name, value pairs (names as in the user hash)
 *       'e', userId   (erased: the user leaves every index and its hash is deleted; its id joins `users:erased`)
 *
 * Revisions and positions are decimal strings of non-negative integers without leading zeros,
 * compared as such (longer is larger, else as text), so nothing rounds above 2^53.
 * Answers one character per event: a(pplied), d(uplicate), g(ap).
 *
 * Cost is counted in redis.call()s (each costs far more than the Lua around it): one HSET per
 * applied change on the user hash, one HMGET per user whose stored state is needed (none for
 * a registration), and per batch a handful of variadic calls for the status sets, the
 * registration order, the email index and the applied revisions, folded from the users'
 * states before and after the batch.
 *
 * Redis does not undo a script's writes when it fails midway, so the whole ARGV is checked
 * before the first write. Key names are built here from the prefix (see readModelKeys.ts):
 * fine on a standalone or replicated Redis, not on Redis Cluster.
 */
export const APPLY_BATCH_SCRIPT = `
local call, tonumber = redis.call, tonumber
local function bad(what) return redis.error_reply('ERR chronicle apply-batch: malformed ' .. what) end
local ARGV = cmsgpack.unpack(ARGV[1])
if type(ARGV) ~= 'table' then return bad('argument (a MessagePack array of strings)') end
local prefix, checkpoint, count = ARGV[1], ARGV[2], tonumber(ARGV[3])
local argc = #ARGV

local function ge(a, b)
  if #a ~= #b then return #a > #b end
  return a >= b
end

local patchable = { email = true, displayName = true, status = true, emailVerified = true }
local statuses = { active = true, suspended = true }

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
    elseif kind == 'e' then
      i = i + 2
    else
      return bad('change')
    end
  end
end
if i ~= argc + 1 then return bad('batch length') end

local appliedKey = prefix .. 'applied'
local emailKey = prefix .. 'users:by-email'
local emailAtKey = prefix .. 'users:by-email:at'
local userPrefix = prefix .. 'user:'
-- Slices small enough for unpack() and for one command's argument count.
local CHUNK = 1000

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

-- 1. Outcomes, in event order: only the next revision of a stream applies. Also the users whose
-- stored state (status, email, order) step 3 needs: everyone an applied change touches, except
-- the user of a revision-0 create, since a stream with no applied revision has never written
-- its user's hash (only a user's own stream writes it).
local outcomes, eventAt, changedStreams, changed = {}, {}, {}, {}
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
    if ARGV[i] == 'c' then
      if apply and not reading[id] and not fresh[id] then
        if prev == '' then fresh[id] = true else reading[id] = true; toRead[#toRead + 1] = id end
      end
      i = i + 8
    elseif ARGV[i] == 'e' then
      if apply and not reading[id] and not fresh[id] then reading[id] = true; toRead[#toRead + 1] = id end
      i = i + 2
    else
      if apply and not reading[id] and not fresh[id] then reading[id] = true; toRead[#toRead + 1] = id end
      i = i + 3 + 2 * tonumber(ARGV[i + 2])
    end
  end
end

-- 2. Their stored state. Per user: status0/email0/order0 as stored before the batch (nil: no
-- hash), and status/email/order as the batch leaves them. Plain tables keyed by user id rather
-- than a table per user: allocating those costs more than the work they would hold.
local status0, email0, order0, status, email, order = {}, {}, {}, {}, {}, {}
for k = 1, #toRead do
  local id = toRead[k]
  local stored = call('HMGET', userPrefix .. id, 'status', 'email', 'order')
  if stored[1] then
    status0[id], email0[id], order0[id] = stored[1], stored[2] or nil, stored[3] or nil
    status[id], email[id], order[id] = stored[1], stored[2] or nil, stored[3] or nil
  end
end

-- 3. The user hashes, one HSET per applied change (several changes to one user in a batch are
-- rare), while the indexes are only folded: each user's final status, order and email, and
-- the event that last set its address (the last writer of an address wins).
local touched, isTouched, emailSetBy = {}, {}, {}
for e = 1, count do
  if outcomes[e] == 'a' then
    i = eventAt[e]
    local rev, pos, n = ARGV[i + 1], ARGV[i + 3], tonumber(ARGV[i + 4])
    i = i + 5
    for _ = 1, n do
      local id = ARGV[i + 1]
      if ARGV[i] == 'c' then
        local address = ARGV[i + 2]
        call('HSET', userPrefix .. id, 'id', id, 'email', address, 'displayName', ARGV[i + 3], 'status', ARGV[i + 4],
          'emailVerified', ARGV[i + 5], 'registeredAt', ARGV[i + 6], 'order', ARGV[i + 7], 'revision', rev, 'position', pos)
        status[id], order[id] = ARGV[i + 4], ARGV[i + 7]
        if email[id] ~= address then email[id] = address; emailSetBy[id] = e end
        if not isTouched[id] then isTouched[id] = true; touched[#touched + 1] = id end
        i = i + 8
      elseif ARGV[i] == 'e' then
        -- Gone from every index below (its final status, order and email are nil), the hash now.
        call('DEL', userPrefix .. id)
        call('SADD', prefix .. 'users:erased', id)
        status[id], order[id], email[id] = nil, nil, nil
        if not isTouched[id] then isTouched[id] = true; touched[#touched + 1] = id end
        i = i + 2
      else
        local f = tonumber(ARGV[i + 2])
        -- A patch for a user the read model never saw (its registration was parked) is dropped.
        if status[id] then
          call('HSET', userPrefix .. id, 'revision', rev, 'position', pos, unpack(ARGV, i + 3, i + 2 + 2 * f))
          for j = i + 3, i + 1 + 2 * f, 2 do
            local name, value = ARGV[j], ARGV[j + 1]
            if name == 'status' then status[id] = value
            elseif name == 'email' and value ~= email[id] then email[id] = value; emailSetBy[id] = e end
          end
          if not isTouched[id] then isTouched[id] = true; touched[#touched + 1] = id end
        end
        i = i + 3 + 2 * f
      end
    end
  end
end

-- 4. The indexes, each in as few calls as it takes: removals before additions, so that a member
-- leaving one place and another arriving there end as they would in event order.
local remove, add, removeOrder, addOrder = {}, {}, {}, {}
local function listOf(lists, name)
  local list = lists[name]
  if not list then list = {}; lists[name] = list end
  return list
end
local oldEmails, oldEmailOwners, newEmailOwner = {}, {}, {}
for t = 1, #touched do
  local id = touched[t]
  local was, now = status0[id], status[id]
  -- An erased user ends with no status, order or email: it only leaves places.
  if was ~= now then
    if was then local l = listOf(remove, was); l[#l + 1] = id end
    if now then local l = listOf(add, now); l[#l + 1] = id end
  end
  if was ~= now or order0[id] ~= order[id] then
    if was and order0[id] then local l = listOf(removeOrder, was); l[#l + 1] = order0[id] end
    if now then local l = listOf(addOrder, now); l[#l + 1] = 0; l[#l + 1] = order[id] end
  end
  if email[id] ~= email0[id] then
    if email0[id] then oldEmails[#oldEmails + 1] = email0[id]; oldEmailOwners[#oldEmailOwners + 1] = id end
    if email[id] then newEmailOwner[emailSetBy[id]] = id end
  end
end
for name, list in pairs(remove) do callChunked('SREM', prefix .. 'users:' .. name, list, 1) end
for name, list in pairs(removeOrder) do callChunked('ZREM', prefix .. 'users:' .. name .. ':by-registration', list, 1) end
for name, list in pairs(add) do callChunked('SADD', prefix .. 'users:' .. name, list, 1) end
for name, list in pairs(addOrder) do callChunked('ZADD', prefix .. 'users:' .. name .. ':by-registration', list, 2) end

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
callChunked('HDEL', emailAtKey, stale, 1)
-- A claim takes an address only from an older one: events of different streams are not
-- delivered in log order, so a late registration must not displace a newer claim. Each
-- address keeps the log position of its claim in users:by-email:at.
local claims, claimAt, claimedOrder, claimedBy = {}, {}, {}, {}
for e = 1, count do
  local id = newEmailOwner[e]
  if id then claims[#claims + 1] = e end
end
for first = 1, #claims, CHUNK do
  local last = math.min(first + CHUNK - 1, #claims)
  local addresses = {}
  for k = first, last do addresses[#addresses + 1] = email[newEmailOwner[claims[k]]] end
  local stored = call('HMGET', emailAtKey, unpack(addresses))
  for k = first, last do
    local address = addresses[k - first + 1]
    if claimAt[address] == nil then claimAt[address] = stored[k - first + 1] or '' end
  end
end
for k = 1, #claims do
  local e = claims[k]
  local id, pos = newEmailOwner[e], ARGV[eventAt[e] + 3]
  local address = email[id]
  if claimAt[address] == '' or not ge(claimAt[address], pos) then
    if not claimedBy[address] then claimedOrder[#claimedOrder + 1] = address end
    claimedBy[address] = id
    claimAt[address] = pos
  end
end
local emailPairs, atPairs = {}, {}
for k = 1, #claimedOrder do
  local address = claimedOrder[k]
  emailPairs[#emailPairs + 1] = address; emailPairs[#emailPairs + 1] = claimedBy[address]
  atPairs[#atPairs + 1] = address; atPairs[#atPairs + 1] = claimAt[address]
end
callChunked('HSET', emailKey, emailPairs, 2)
callChunked('HSET', emailAtKey, atPairs, 2)

local revisions = {}
for k = 1, #changedStreams do
  revisions[#revisions + 1] = changedStreams[k]
  revisions[#revisions + 1] = applied[changedStreams[k]]
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
    case 'userErased':
      argv.push('e', change.userId);
      return;
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
    const first = event.firstRevision ?? event.revision;
    if (first > event.revision) throw new ValidationError(`firstRevision ${first} is past revision ${event.revision}`);
    argv.push(event.streamId, revision, first === 0n ? '' : decimal(first - 1n, 'firstRevision'), decimal(event.position, 'position'), String(event.changes.length));
    for (const change of event.changes) encodeChange(argv, change);
  }
  return argv;
};

const OUTCOMES: Readonly<Record<string, ApplyOutcome>> = { a: 'applied', d: 'duplicate', g: 'gap' };

export const decodeOutcomes = (reply: unknown, expected: number): ApplyOutcome[] => {
  if (typeof reply !== 'string' || reply.length !== expected) throw new Error(`apply-batch script answered ${JSON.stringify(reply)} for ${expected} events`);
  return Array.from(reply, (c) => OUTCOMES[c] ?? 'gap');
};
