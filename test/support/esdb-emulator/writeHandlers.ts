import type { IStreamsServer } from '@eventstore/db-client/generated/streams_grpc_pb';
import { status } from '@grpc/grpc-js';
import type { EmulatorContext } from './emulatorContext.ts';
import type { ExpectedRevision, ProposedEvent, WriteOutcome } from './eventLog.ts';
import { batchExpectedRevisionOf, expectedRevisionOf } from './expectedRevision.ts';
import { proposedEventOf, streamIdentifier, streamNameOf, uuidMessage, uuidOf, type MissingMetadata } from './messages.ts';
import { anyPb, emptyPb, sharedPb, statusPb, streamsPb } from './protos.ts';
import { maximumAppendSizeExceeded, missingRequiredMetadata, statusError, streamDeleted, wrongExpectedVersion, type StatusError } from './statusErrors.ts';

type WriteHandlers = Pick<IStreamsServer, 'append' | 'batchAppend' | 'delete' | 'tombstone'>;
type AppendResp = InstanceType<typeof streamsPb.AppendResp>;
type BatchAppendReq = InstanceType<typeof streamsPb.BatchAppendReq>;
type BatchAppendResp = InstanceType<typeof streamsPb.BatchAppendResp>;

/** Validates and writes one append; answers the outcome, or the status error that replaces it. */
const appendEvents = (
  context: EmulatorContext,
  streamName: string,
  expected: ExpectedRevision,
  proposed: readonly (ProposedEvent | MissingMetadata)[],
): WriteOutcome | StatusError => {
  const events: ProposedEvent[] = [];
  for (const event of proposed) {
    if ('missing' in event) return missingRequiredMetadata(event.missing);
    events.push(event);
  }
  const size = events.reduce((total, event) => total + event.data.length + event.customMetadata.length, 0);
  if (size > context.maxAppendSize) return maximumAppendSizeExceeded(context.maxAppendSize);
  return context.log.append(streamName, expected, events);
};

const timedOut = (): StatusError => statusError(status.DEADLINE_EXCEEDED, 'Append deadline exceeded.');

const isStatusError = (value: WriteOutcome | StatusError): value is StatusError => 'code' in value;

const appendResponse = (outcome: Exclude<WriteOutcome, { kind: 'stream_deleted' }>): AppendResp => {
  const response = new streamsPb.AppendResp();
  if (outcome.kind === 'success') {
    const success = new streamsPb.AppendResp.Success();
    if (outcome.currentRevision === null) success.setNoStream(new sharedPb.Empty());
    else success.setCurrentRevision(outcome.currentRevision.toString());
    if (outcome.position === null) success.setNoPosition(new sharedPb.Empty());
    else success.setPosition(new streamsPb.AppendResp.Position().setCommitPosition(outcome.position.toString()).setPreparePosition(outcome.position.toString()));
    return response.setSuccess(success);
  }
  const wrong = new streamsPb.AppendResp.WrongExpectedVersion();
  if (outcome.current === null) wrong.setCurrentNoStream(new sharedPb.Empty());
  else wrong.setCurrentRevision(outcome.current.toString());
  switch (outcome.expected.kind) {
    case 'any':
      wrong.setExpectedAny(new sharedPb.Empty());
      break;
    case 'no_stream':
      wrong.setExpectedNoStream(new sharedPb.Empty());
      break;
    case 'stream_exists':
      wrong.setExpectedStreamExists(new sharedPb.Empty());
      break;
    case 'exact':
      wrong.setExpectedRevision(outcome.expected.revision.toString());
      break;
  }
  return response.setWrongExpectedVersion(wrong);
};

/** A google.rpc.Status whose `details` Any names the event_store.client message the client unpacks. */
const rpcStatus = (code: status, message: string, detail: { serializeBinary(): Uint8Array }, typeName: string): InstanceType<typeof statusPb.Status> => {
  const details = new anyPb.Any();
  details.pack(detail.serializeBinary(), `event_store.client.${typeName}`);
  // google.rpc.Code and the gRPC status share their numbers.
  return new statusPb.Status().setCode(code as number).setMessage(message).setDetails(details);
};

const batchResponse = (streamName: string, correlationId: string, expected: ExpectedRevision, outcome: WriteOutcome | StatusError): BatchAppendResp => {
  const response = new streamsPb.BatchAppendResp().setCorrelationId(uuidMessage(correlationId)).setStreamIdentifier(streamIdentifier(streamName));
  switch (expected.kind) {
    case 'any':
      response.setAny(new emptyPb.Empty());
      break;
    case 'no_stream':
      response.setNoStream(new emptyPb.Empty());
      break;
    case 'stream_exists':
      response.setStreamExists(new emptyPb.Empty());
      break;
    case 'exact':
      response.setStreamPosition(expected.revision.toString());
      break;
  }
  if (isStatusError(outcome)) {
    if (outcome.code === status.DEADLINE_EXCEEDED) return response.setError(rpcStatus(outcome.code, outcome.details, new sharedPb.Timeout(), 'Timeout'));
    const detail = outcome.code === status.INVALID_ARGUMENT && outcome.metadata.get('maximum-append-size').length > 0
      ? rpcStatus(outcome.code, outcome.details, new sharedPb.MaximumAppendSizeExceeded().setMaxappendsize(Number(outcome.metadata.get('maximum-append-size')[0])), 'MaximumAppendSizeExceeded')
      : rpcStatus(outcome.code, outcome.details, new sharedPb.BadRequest().setMessage(outcome.details), 'BadRequest');
    return response.setError(detail);
  }
  switch (outcome.kind) {
    case 'success': {
      const success = new streamsPb.BatchAppendResp.Success();
      if (outcome.currentRevision === null) success.setNoStream(new emptyPb.Empty());
      else success.setCurrentRevision(outcome.currentRevision.toString());
      if (outcome.position === null) success.setNoPosition(new emptyPb.Empty());
      else success.setPosition(new sharedPb.AllStreamPosition().setCommitPosition(outcome.position.toString()).setPreparePosition(outcome.position.toString()));
      return response.setSuccess(success);
    }
    case 'stream_deleted':
      return response.setError(
        rpcStatus(status.NOT_FOUND, `Event stream '${streamName}' is deleted.`, new sharedPb.StreamDeleted().setStreamIdentifier(streamIdentifier(streamName)), 'StreamDeleted'),
      );
    case 'wrong_expected_version': {
      const detail = new sharedPb.WrongExpectedVersion();
      if (outcome.current === null) detail.setCurrentNoStream(new emptyPb.Empty());
      else detail.setCurrentStreamRevision(outcome.current.toString());
      switch (outcome.expected.kind) {
        case 'any':
          detail.setExpectedAny(new emptyPb.Empty());
          break;
        case 'no_stream':
          detail.setExpectedNoStream(new emptyPb.Empty());
          break;
        case 'stream_exists':
          detail.setExpectedStreamExists(new emptyPb.Empty());
          break;
        case 'exact':
          detail.setExpectedStreamPosition(outcome.expected.revision.toString());
          break;
      }
      return response.setError(rpcStatus(status.ALREADY_EXISTS, 'Wrong expected version.', detail, 'WrongExpectedVersion'));
    }
  }
};

interface PendingBatch {
  streamName: string;
  expected: ExpectedRevision;
  /** Epoch ms after which the append must not happen. */
  deadline: number | null;
  readonly events: (ProposedEvent | MissingMetadata)[];
}

/** Append, BatchAppend, Delete and Tombstone of the Streams service. */
export const writeHandlers = (context: EmulatorContext): WriteHandlers => ({
  append: (call, callback) => {
    let streamName = '';
    let expected: ExpectedRevision = { kind: 'any' };
    const proposed: (ProposedEvent | MissingMetadata)[] = [];
    call.on('data', (request: InstanceType<typeof streamsPb.AppendReq>) => {
      const options = request.getOptions();
      if (options !== undefined) {
        streamName = streamNameOf(options.getStreamIdentifier());
        expected = expectedRevisionOf(options);
      }
      const message = request.getProposedMessage();
      if (message !== undefined) proposed.push(proposedEventOf(message));
    });
    call.on('error', () => undefined);
    call.on('end', () => {
      void (async () => {
        const fault = await context.faults.intercept('append');
        if (fault !== null) return callback(fault);
        const outcome = appendEvents(context, streamName, expected, proposed);
        if (isStatusError(outcome)) return callback(outcome);
        if (outcome.kind === 'stream_deleted') return callback(streamDeleted(streamName));
        callback(null, appendResponse(outcome));
      })();
    });
  },

  batchAppend: (call) => {
    const pending = new Map<string, PendingBatch>();
    let ended = false;
    // Appends are answered in arrival order even while a delay is injected.
    let queue: Promise<void> = Promise.resolve();
    const settle = async (correlationId: string, batch: PendingBatch): Promise<void> => {
      const fault = await context.faults.intercept('append');
      if (ended) return;
      if (fault !== null) {
        ended = true;
        call.emit('error', fault);
        return;
      }
      // The client leaves BatchAppend deadlines to the server: an append answered too late times out.
      if (batch.deadline !== null && batch.deadline < Date.now()) {
        call.write(batchResponse(batch.streamName, correlationId, batch.expected, timedOut()));
        return;
      }
      const outcome = appendEvents(context, batch.streamName, batch.expected, batch.events);
      call.write(batchResponse(batch.streamName, correlationId, batch.expected, outcome));
    };
    call.on('data', (request: BatchAppendReq) => {
      const correlationId = uuidOf(request.getCorrelationId());
      let batch = pending.get(correlationId);
      if (batch === undefined) {
        batch = { streamName: '', expected: { kind: 'any' }, deadline: null, events: [] };
        pending.set(correlationId, batch);
      }
      const options = request.getOptions();
      if (options !== undefined) {
        batch.streamName = streamNameOf(options.getStreamIdentifier());
        batch.expected = batchExpectedRevisionOf(options);
        const deadline = options.getDeadline();
        batch.deadline = deadline === undefined ? null : deadline.toDate().getTime();
      }
      for (const message of request.getProposedMessagesList()) batch.events.push(proposedEventOf(message));
      if (!request.getIsFinal()) return;
      pending.delete(correlationId);
      const complete = batch;
      queue = queue.then(() => settle(correlationId, complete));
    });
    call.on('error', () => {
      ended = true;
    });
    call.on('cancelled', () => {
      ended = true;
    });
    call.on('end', () => {
      void queue.then(() => {
        if (ended) return;
        ended = true;
        call.end();
      });
    });
  },

  delete: (call, callback) => {
    void (async () => {
      const fault = await context.faults.intercept('delete');
      if (fault !== null) return callback(fault);
      const options = call.request.getOptions();
      const streamName = streamNameOf(options?.getStreamIdentifier());
      const expected = options === undefined ? ({ kind: 'any' } as const) : expectedRevisionOf(options);
      const outcome = context.log.softDelete(streamName, expected);
      if (outcome.kind === 'stream_deleted') return callback(streamDeleted(streamName));
      if (outcome.kind === 'wrong_expected_version') return callback(wrongExpectedVersion('Delete', streamName, expected, outcome.current));
      const response = new streamsPb.DeleteResp();
      if (outcome.position === null) response.setNoPosition(new sharedPb.Empty());
      else response.setPosition(new streamsPb.DeleteResp.Position().setCommitPosition(outcome.position.toString()).setPreparePosition(outcome.position.toString()));
      callback(null, response);
    })();
  },

  tombstone: (call, callback) => {
    void (async () => {
      const fault = await context.faults.intercept('tombstone');
      if (fault !== null) return callback(fault);
      const options = call.request.getOptions();
      const streamName = streamNameOf(options?.getStreamIdentifier());
      const expected = options === undefined ? ({ kind: 'any' } as const) : expectedRevisionOf(options);
      const outcome = context.log.tombstone(streamName, expected);
      if (outcome.kind === 'stream_deleted') return callback(streamDeleted(streamName));
      if (outcome.kind === 'wrong_expected_version') return callback(wrongExpectedVersion('Tombstone', streamName, expected, outcome.current));
      const response = new streamsPb.TombstoneResp();
      if (outcome.position === null) response.setNoPosition(new sharedPb.Empty());
      else response.setPosition(new streamsPb.TombstoneResp.Position().setCommitPosition(outcome.position.toString()).setPreparePosition(outcome.position.toString()));
      callback(null, response);
    })();
  },
});
