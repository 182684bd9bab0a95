import { Metadata, status } from '@grpc/grpc-js';
import type { ExpectedRevision } from './eventLog.ts';

/** What grpc-js turns into a call's final status: code, message and trailing metadata. */
export interface StatusError {
  readonly code: status;
  readonly details: string;
  readonly metadata: Metadata;
}

/*
 * The client reads the trailing `exception` key before the status code, and some exceptions
 * need companion keys or its error constructors throw a TypeError (reference page, section 0).
 */
export const statusError = (code: status, details: string, pairs: Readonly<Record<string, string>> = {}): StatusError => {
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(pairs)) metadata.set(key, value);
  return { code, details, metadata };
};

/** -1 no stream, -2 any, -4 stream exists: the server's numeric expected versions. */
export const expectedVersionNumber = (expected: ExpectedRevision): string => {
  switch (expected.kind) {
    case 'any':
      return '-2';
    case 'no_stream':
      return '-1';
    case 'stream_exists':
      return '-4';
    case 'exact':
      return expected.revision.toString();
  }
};

/*
 * Messages are worded as the server words them (RpcExceptions.cs in the server's sources):
 * names unquoted in the persistent-subscription errors, quoted in the stream ones.
 */

/** `operation` is the server's word for the call: Append, Delete or Tombstone. */
export const wrongExpectedVersion = (operation: 'Append' | 'Delete' | 'Tombstone', streamName: string, expected: ExpectedRevision, current: bigint | null): StatusError =>
  statusError(
    status.FAILED_PRECONDITION,
    `${operation} failed due to WrongExpectedVersion. Stream: ${streamName}, Expected version: ${expectedVersionNumber(expected)}, Actual version: ${current === null ? '' : current.toString()}`,
    {
      exception: 'wrong-expected-version',
      'stream-name': streamName,
      'expected-version': expectedVersionNumber(expected),
      // Empty for a stream that does not exist: the client reads that as no_stream.
      'actual-version': current === null ? '' : current.toString(),
    },
  );

export const streamDeleted = (streamName: string): StatusError =>
  statusError(status.FAILED_PRECONDITION, `Event stream '${streamName}' is deleted.`, {
    exception: 'stream-deleted',
    'stream-name': streamName,
  });

export const missingRequiredMetadata = (property: string): StatusError =>
  statusError(status.INVALID_ARGUMENT, `Required Metadata Property '${property}' is missing`, {
    exception: 'missing-required-metadata-property',
    'required-metadata-properties': 'type,content-type',
  });

export const maximumAppendSizeExceeded = (maximum: number): StatusError =>
  statusError(status.INVALID_ARGUMENT, `Maximum Append Size of ${maximum} Exceeded.`, {
    exception: 'maximum-append-size-exceeded',
    'maximum-append-size': String(maximum),
  });

export const persistentSubscriptionDoesNotExist = (streamName: string, groupName: string): StatusError =>
  statusError(status.NOT_FOUND, `Subscription group ${groupName} on stream ${streamName} does not exist.`, {
    exception: 'persistent-subscription-does-not-exist',
    'stream-name': streamName,
    'group-name': groupName,
  });

export const persistentSubscriptionExists = (streamName: string, groupName: string): StatusError =>
  statusError(status.ALREADY_EXISTS, `Subscription group ${groupName} on stream ${streamName} exists.`, {
    exception: 'persistent-subscription-exists',
    'stream-name': streamName,
    'group-name': groupName,
  });

export const maximumSubscribersReached = (streamName: string, groupName: string): StatusError =>
  statusError(status.FAILED_PRECONDITION, `Maximum subscriptions reached for subscription group ${groupName} on stream ${streamName}.`, {
    exception: 'maximum-subscribers-reached',
    'stream-name': streamName,
    'group-name': groupName,
  });

export const persistentSubscriptionDropped = (streamName: string, groupName: string): StatusError =>
  statusError(status.CANCELLED, `Subscription group ${groupName} on stream ${streamName} was dropped.`, {
    exception: 'persistent-subscription-dropped',
    'stream-name': streamName,
    'group-name': groupName,
  });

export const invalidArgument = (details: string): StatusError => statusError(status.INVALID_ARGUMENT, details);
