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

-- Every stream's applied revision, read in a few HMGETs rather than one HGET per event.
local applied = {}
for first = 1, #streams, 1000 do
  local last = math.min(first + 999, #streams)
  local revisions = call('HMGET', appliedKey, unpack(streams, first, last))
  for k = first, last do applied[streams[k]] = revisions[k - first + 1] or '' end
end
local changed, changedStreams = {}, {}
local outcomes = {}

local function moveEmail(userId, old, new)
  if old and old ~= new and call('HGET', emailKey, old) == userId then call('HDEL', emailKey, old) end
  call('HSET', emailKey, new, userId)
end

local function moveStatus(userId, order, old, new)
  if old then
    call('SREM', prefix .. 'users:' .. old, userId)
    call('ZREM', prefix .. 'users:' .. old .. ':by-registration', order)
  end
  call('SADD', prefix .. 'users:' .. new, userId)
  call('ZADD', prefix .. 'users:' .. new .. ':by-registration', 0, order)
end

i = 4
for e = 1, count do
  local stream, rev, prev, pos, n = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], tonumber(ARGV[i + 4])
  i = i + 5
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
  for _ = 1, n do
    if ARGV[i] == 'c' then
      if apply then
        local id, email, status, order = ARGV[i + 1], ARGV[i + 2], ARGV[i + 4], ARGV[i + 7]
        local key = prefix .. 'user:' .. id
        local old = call('HMGET', key, 'status', 'email', 'order')
        if old[1] and old[3] then
          call('SREM', prefix .. 'users:' .. old[1], id)
          call('ZREM', prefix .. 'users:' .. old[1] .. ':by-registration', old[3])
        end
        call('HSET', key, 'id', id, 'email', email, 'displayName', ARGV[i + 3], 'status', status,
          'emailVerified', ARGV[i + 5], 'registeredAt', ARGV[i + 6], 'order', order, 'revision', rev, 'position', pos)
        moveStatus(id, order, false, status)
        if old[2] ~= email then moveEmail(id, old[2], email) end
      end
      i = i + 8
    else
      local userId, f = ARGV[i + 1], tonumber(ARGV[i + 2])
      if apply then
        local key = prefix .. 'user:' .. userId
        local old = call('HMGET', key, 'status', 'email', 'order')
        -- A patch for a user the read model never saw (its registration was parked) is dropped.
        if old[1] then
          local args = { key, 'revision', rev, 'position', pos }
          local status, email
          for j = 0, f - 1 do
            local name, value = ARGV[i + 3 + 2 * j], ARGV[i + 4 + 2 * j]
            args[#args + 1] = name
            args[#args + 1] = value
            if name == 'status' then status = value elseif name == 'email' then email = value end
          end
          call('HSET', unpack(args))
          if status and status ~= old[1] and old[3] then moveStatus(userId, old[3], old[1], status) end
          if email and email ~= old[2] then moveEmail(userId, old[2], email) end
        end
      end
      i = i + 3 + 2 * f
    end
  end
end

-- Each stream's applied revision is written once per batch, in chunks that unpack() can take.
local entries = {}
for s = 1, #changedStreams do
  local stream = changedStreams[s]
  entries[#entries + 1] = stream
  entries[#entries + 1] = applied[stream]
  if #entries >= 1000 then
    call('HSET', appliedKey, unpack(entries))
    entries = {}
  end
end
if #entries > 0 then call('HSET', appliedKey, unpack(entries)) end

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
