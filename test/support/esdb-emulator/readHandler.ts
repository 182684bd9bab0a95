import type { IStreamsServer } from '@eventstore/db-client/generated/streams_grpc_pb';
import type { ServerWritableStream } from '@grpc/grpc-js';
import type { EmulatorContext } from './emulatorContext.ts';
import { STREAM_DELETED_EVENT_TYPE, type AllStart, type RecordedEntry, type StreamStart } from './eventLog.ts';
import { eventFilterOf, type EventFilter } from './eventFilter.ts';
import { resolve, streamIdentifier, streamNameOf, streamsReadResponse } from './messages.ts';
import { streamsPb } from './protos.ts';
import { streamDeleted } from './statusErrors.ts';

type ReadReq = InstanceType<typeof streamsPb.ReadReq>;
type ReadResp = InstanceType<typeof streamsPb.ReadResp>;
type ReadOptions = InstanceType<typeof streamsPb.ReadReq.Options>;
type ReadCall = ServerWritableStream<ReadReq, ReadResp>;

const { StreamOptionCase, CountOptionCase, ReadDirection } = streamsPb.ReadReq.Options;
const RevisionOptionCase = streamsPb.ReadReq.Options.StreamOptions.RevisionOptionCase;
const AllOptionCase = streamsPb.ReadReq.Options.AllOptions.AllOptionCase;
const WindowCase = streamsPb.ReadReq.Options.FilterOptions.WindowCase;

/** The server's default search window when the client sends `count` instead of `max`. */
const DEFAULT_CHECKPOINT_WINDOW = 32;

const streamStartOf = (options: InstanceType<typeof streamsPb.ReadReq.Options.StreamOptions>): StreamStart => {
  switch (options.getRevisionOptionCase()) {
    case RevisionOptionCase.END:
      return 'end';
    case RevisionOptionCase.REVISION:
      return BigInt(options.getRevision());
    default:
      return 'start';
  }
};

const allStartOf = (options: InstanceType<typeof streamsPb.ReadReq.Options.AllOptions>): AllStart => {
  switch (options.getAllOptionCase()) {
    case AllOptionCase.END:
      return 'end';
    case AllOptionCase.POSITION:
      return BigInt(options.getPosition()?.getCommitPosition() ?? '0');
    default:
      return 'start';
  }
};

const readOnce = (context: EmulatorContext, call: ReadCall, options: ReadOptions): void => {
  const direction = options.getReadDirection() === ReadDirection.BACKWARDS ? 'backwards' : 'forwards';
  const count = BigInt(options.getCount() || '0');
  const resolveLinks = options.getResolveLinks();
  if (options.getStreamOptionCase() === StreamOptionCase.STREAM) {
    const streamOptions = options.getStream();
    const streamName = streamNameOf(streamOptions?.getStreamIdentifier());
    const read = context.log.readStream(streamName, direction, streamOptions === undefined ? 'start' : streamStartOf(streamOptions), count);
    if (read.kind === 'deleted') {
      call.emit('error', streamDeleted(streamName));
      return;
    }
    if (read.kind === 'not_found') {
      const notFound = new streamsPb.ReadResp.StreamNotFound().setStreamIdentifier(streamIdentifier(streamName));
      call.write(new streamsPb.ReadResp().setStreamNotFound(notFound));
      call.end();
      return;
    }
    for (const entry of read.events) call.write(streamsReadResponse(resolve(context.log, entry, resolveLinks)));
    call.end();
    return;
  }
  const allOptions = options.getAll();
  const filter = options.hasFilter() ? eventFilterOf(options.getFilter()) : null;
  const start = allOptions === undefined ? 'start' : allStartOf(allOptions);
  let sent = 0n;
  // Filtered reads keep scanning until `count` matching events were found.
  for (const entry of context.log.readAll(direction, start, filter === null ? count : BigInt(context.log.size))) {
    if (sent >= count) break;
    if (filter !== null && !filter.matches(entry)) continue;
    call.write(streamsReadResponse(resolve(context.log, entry, resolveLinks)));
    sent += 1n;
  }
  call.end();
};

const checkpointResponse = (position: bigint): ReadResp =>
  new streamsPb.ReadResp().setCheckpoint(new streamsPb.ReadResp.Checkpoint().setCommitPosition(position.toString()).setPreparePosition(position.toString()));

/**
 * Catch-up subscription: confirmation, history after the (exclusive) start, caught-up, then live
 * events until the client cancels. History and the live listener are set up in one synchronous
 * turn, so no event falls between them.
 */
const subscribe = (context: EmulatorContext, call: ReadCall, options: ReadOptions): void => {
  const { log } = context;
  const resolveLinks = options.getResolveLinks();
  call.write(new streamsPb.ReadResp().setConfirmation(new streamsPb.ReadResp.SubscriptionConfirmation().setSubscriptionId(crypto.randomUUID())));

  let stop = (): void => undefined;
  let closed = false;
  const close = (): void => {
    closed = true;
    stop();
  };
  call.on('cancelled', close);
  call.on('close', close);
  call.on('error', close);

  if (options.getStreamOptionCase() === StreamOptionCase.STREAM) {
    const streamOptions = options.getStream();
    const streamName = streamNameOf(streamOptions?.getStreamIdentifier());
    if (log.isTombstoned(streamName)) {
      call.emit('error', streamDeleted(streamName));
      return;
    }
    const start = streamOptions === undefined ? 'start' : streamStartOf(streamOptions);
    let last: bigint | null = start === 'start' ? null : start === 'end' ? log.currentRevision(streamName) : start;
    const history = start === 'end' ? null : log.readStream(streamName, 'forwards', last === null ? 'start' : last + 1n, BigInt(Number.MAX_SAFE_INTEGER));
    if (history?.kind === 'events') {
      for (const entry of history.events) {
        call.write(streamsReadResponse(resolve(log, entry, resolveLinks)));
        last = entry.revision;
      }
    }
    call.write(new streamsPb.ReadResp().setCaughtUp(new streamsPb.ReadResp.CaughtUp()));
    stop = log.onAppend((entries) => {
      for (const entry of entries) {
        if (closed || entry.streamId !== streamName) continue;
        if (entry.type === STREAM_DELETED_EVENT_TYPE) {
          call.emit('error', streamDeleted(streamName));
          close();
          return;
        }
        if (last !== null && entry.revision <= last) continue;
        call.write(streamsReadResponse(resolve(log, entry, resolveLinks)));
        last = entry.revision;
      }
    });
    if (closed) stop();
    return;
  }

  const allOptions = options.getAll();
  const filterOptions = options.hasFilter() ? options.getFilter() : undefined;
  const filter: EventFilter | null = filterOptions === undefined ? null : eventFilterOf(filterOptions);
  const window = filterOptions?.getWindowCase() === WindowCase.MAX ? filterOptions.getMax() : DEFAULT_CHECKPOINT_WINDOW;
  const checkpointEvery = Math.max(1, (filterOptions?.getCheckpointintervalmultiplier() ?? 1) * window);
  let scanned = 0;
  const deliver = (entry: RecordedEntry): void => {
    if (filter === null || filter.matches(entry)) call.write(streamsReadResponse(resolve(log, entry, resolveLinks)));
    if (filter === null) return;
    scanned += 1;
    if (scanned % checkpointEvery === 0) call.write(checkpointResponse(entry.position));
  };
  const start = allOptions === undefined ? 'start' : allStartOf(allOptions);
  const firstIndex = start === 'start' ? 0 : start === 'end' ? log.size : log.indexAtOrAfter(start + 1n);
  for (let index = firstIndex; index < log.size; index += 1) deliver(log.entryAt(index) as RecordedEntry);
  const head = log.headPosition;
  if (filter !== null && head !== null) call.write(checkpointResponse(head));
  call.write(new streamsPb.ReadResp().setCaughtUp(new streamsPb.ReadResp.CaughtUp()));
  stop = log.onAppend((entries) => {
    if (closed) return;
    for (const entry of entries) deliver(entry);
  });
  if (closed) stop();
};

/** Read of the Streams service: stream and `$all`, counted reads and catch-up subscriptions. */
export const readHandler =
  (context: EmulatorContext): IStreamsServer['read'] =>
  (call) => {
    void (async () => {
      const fault = await context.faults.intercept('read');
      if (fault !== null) {
        call.emit('error', fault);
        return;
      }
      const options = call.request.getOptions();
      if (options === undefined) {
        call.end();
        return;
      }
      if (options.getCountOptionCase() === CountOptionCase.SUBSCRIPTION) subscribe(context, call, options);
      else readOnce(context, call, options);
    })();
  };
