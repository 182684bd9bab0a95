import type { IPersistentSubscriptionsServer } from '@eventstore/db-client/generated/persistent_grpc_pb';
import type { ServerDuplexStream } from '@grpc/grpc-js';
import type { EmulatorContext } from './emulatorContext.ts';
import { persistentReadResponse, streamNameOf, uuidOf } from './messages.ts';
import { ALL_STREAM, PersistentGroup, type NackAction } from './persistentGroup.ts';
import { LatencyWindow, Rate } from './groupStatistics.ts';
import { saveConfiguration } from './persistentConfig.ts';
import { groupDefinitionOf } from './persistentSettings.ts';
import { persistentPb, sharedPb } from './protos.ts';
import {
  maximumSubscribersReached,
  persistentSubscriptionDoesNotExist,
  persistentSubscriptionDropped,
  persistentSubscriptionExists,
  type StatusError,
} from './statusErrors.ts';
import { subscriptionInfoOf } from './subscriptionInfo.ts';

type ReadReq = InstanceType<typeof persistentPb.ReadReq>;
type ReadResp = InstanceType<typeof persistentPb.ReadResp>;

const NACK_ACTIONS: Readonly<Record<number, NackAction>> = { 0: 'unknown', 1: 'park', 2: 'retry', 3: 'skip', 4: 'stop' };

/** Request options that name a group's source as a stream identifier or `all`. */
interface SourceOptions {
  getGroupName(): string;
  hasAll(): boolean;
  getStreamIdentifier(): InstanceType<typeof sharedPb.StreamIdentifier> | undefined;
}

const sourceOf = (options: SourceOptions | undefined): { eventSource: string; groupName: string } => ({
  eventSource: options?.hasAll() ? ALL_STREAM : streamNameOf(options?.getStreamIdentifier()),
  groupName: options?.getGroupName() ?? '',
});

/** Persistent subscription groups, keyed `<source>::<group>` like the server's subscription ids. */
export class PersistentRegistry {
  private readonly groups = new Map<string, PersistentGroup>();
  private readonly connections = new Map<string, Set<ServerDuplexStream<ReadReq, ReadResp>>>();

  get(eventSource: string, groupName: string): PersistentGroup | undefined {
    return this.groups.get(`${eventSource}::${groupName}`);
  }

  all(): PersistentGroup[] {
    return [...this.groups.values()];
  }

  add(group: PersistentGroup): void {
    this.groups.set(`${group.eventSource}::${group.groupName}`, group);
  }

  connected(group: PersistentGroup): Set<ServerDuplexStream<ReadReq, ReadResp>> {
    const key = `${group.eventSource}::${group.groupName}`;
    let calls = this.connections.get(key);
    if (calls === undefined) {
      calls = new Set();
      this.connections.set(key, calls);
    }
    return calls;
  }

  /** Ends every subscriber's call with `error`; they are forgotten by their own close handlers. */
  disconnectAll(group: PersistentGroup, error: StatusError): void {
    for (const call of [...this.connected(group)]) call.emit('error', error);
    this.connected(group).clear();
  }

  remove(group: PersistentGroup): void {
    const key = `${group.eventSource}::${group.groupName}`;
    this.groups.delete(key);
    this.connections.delete(key);
    group.close();
  }

  closeAll(): void {
    for (const group of this.groups.values()) group.close();
    this.groups.clear();
    this.connections.clear();
  }
}

/** The login of `Authorization: Basic …`, as the server shows who holds a connection. */
const usernameOf = (authorization: string | undefined): string => {
  if (authorization === undefined || !authorization.startsWith('Basic ')) return '';
  const decoded = Buffer.from(authorization.slice('Basic '.length), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? decoded : decoded.slice(0, colon);
};

const subscribe = (registry: PersistentRegistry, call: ServerDuplexStream<ReadReq, ReadResp>, options: InstanceType<typeof persistentPb.ReadReq.Options>): void => {
  const { eventSource, groupName } = sourceOf(options);
  const group = registry.get(eventSource, groupName);
  if (group === undefined) {
    call.emit('error', persistentSubscriptionDoesNotExist(eventSource, groupName));
    return;
  }
  if (group.isFull) {
    call.emit('error', maximumSubscribersReached(eventSource, groupName));
    return;
  }
  call.write(new persistentPb.ReadResp().setSubscriptionConfirmation(new persistentPb.ReadResp.SubscriptionConfirmation().setSubscriptionId(`${eventSource}::${groupName}`)));
  const consumerId = crypto.randomUUID();
  let open = true;
  const leave = (): void => {
    if (!open) return;
    open = false;
    registry.connected(group).delete(call);
    group.removeConsumer(consumerId);
  };
  call.on('data', (request: ReadReq) => {
    const ack = request.getAck();
    if (ack !== undefined) group.ack(consumerId, ack.getIdsList().map(uuidOf));
    const nack = request.getNack();
    if (nack !== undefined) group.nack(consumerId, nack.getIdsList().map(uuidOf), NACK_ACTIONS[nack.getAction()] ?? 'unknown', nack.getReason());
  });
  call.on('end', () => {
    leave();
    call.end();
  });
  call.on('cancelled', leave);
  call.on('close', leave);
  call.on('error', leave);
  registry.connected(group).add(call);
  group.addConsumer({
    id: consumerId,
    bufferSize: Math.max(1, options.getBufferSize() || 10),
    connectionName: call.metadata.get('connection-name')[0]?.toString() ?? '',
    from: call.getPeer(),
    username: usernameOf(call.metadata.get('authorization')[0]?.toString()),
    inFlight: new Map(),
    totalItems: 0,
    latencies: new LatencyWindow(),
    rate: new Rate(),
    send: (message) => {
      if (open) call.write(persistentReadResponse(message.resolved, message.retryCount));
    },
  });
};

/** The PersistentSubscriptions service. */
export const persistentService = (context: EmulatorContext, registry: PersistentRegistry): IPersistentSubscriptionsServer => ({
  create: (call, callback) => {
    void (async () => {
      const fault = await context.faults.intercept('persistent.create');
      if (fault !== null) return callback(fault);
      const options = call.request.getOptions();
      if (options === undefined) return callback(persistentSubscriptionDoesNotExist('', ''));
      const definition = groupDefinitionOf(options);
      if (registry.get(definition.eventSource, definition.groupName) !== undefined) {
        return callback(persistentSubscriptionExists(definition.eventSource, definition.groupName));
      }
      registry.add(new PersistentGroup(context.log, definition.eventSource, definition.groupName, definition.settings, definition.start, definition.filter));
      saveConfiguration(context.log, registry.all());
      callback(null, new persistentPb.CreateResp());
    })();
  },

  update: (call, callback) => {
    void (async () => {
      const fault = await context.faults.intercept('persistent.update');
      if (fault !== null) return callback(fault);
      const options = call.request.getOptions();
      if (options === undefined) return callback(persistentSubscriptionDoesNotExist('', ''));
      const definition = groupDefinitionOf(options);
      const group = registry.get(definition.eventSource, definition.groupName);
      if (group === undefined) return callback(persistentSubscriptionDoesNotExist(definition.eventSource, definition.groupName));
      registry.disconnectAll(group, persistentSubscriptionDropped(definition.eventSource, definition.groupName));
      group.restart(definition.settings, definition.start);
      saveConfiguration(context.log, registry.all());
      callback(null, new persistentPb.UpdateResp());
    })();
  },

  delete: (call, callback) => {
    void (async () => {
      const fault = await context.faults.intercept('persistent.delete');
      if (fault !== null) return callback(fault);
      const { eventSource, groupName } = sourceOf(call.request.getOptions());
      const group = registry.get(eventSource, groupName);
      if (group === undefined) return callback(persistentSubscriptionDoesNotExist(eventSource, groupName));
      registry.disconnectAll(group, persistentSubscriptionDoesNotExist(eventSource, groupName));
      registry.remove(group);
      saveConfiguration(context.log, registry.all());
      callback(null, new persistentPb.DeleteResp());
    })();
  },

  read: (call) => {
    let started = false;
    call.on('data', (request: ReadReq) => {
      if (started) return;
      started = true;
      const options = request.getOptions();
      void (async () => {
        const fault = await context.faults.intercept('persistent.read');
        if (fault !== null) {
          call.emit('error', fault);
          return;
        }
        if (options === undefined) {
          call.emit('error', persistentSubscriptionDoesNotExist('', ''));
          return;
        }
        subscribe(registry, call, options);
      })();
    });
    call.on('error', () => undefined);
  },

  getInfo: (call, callback) => {
    void (async () => {
      const fault = await context.faults.intercept('persistent.getInfo');
      if (fault !== null) return callback(fault);
      const { eventSource, groupName } = sourceOf(call.request.getOptions());
      const group = registry.get(eventSource, groupName);
      if (group === undefined) return callback(persistentSubscriptionDoesNotExist(eventSource, groupName));
      callback(null, new persistentPb.GetInfoResp().setSubscriptionInfo(subscriptionInfoOf(group.snapshot(), group.rate)));
    })();
  },

  list: (call, callback) => {
    void (async () => {
      const fault = await context.faults.intercept('persistent.list');
      if (fault !== null) return callback(fault);
      const forStream = call.request.getOptions()?.getListForStream();
      let groups = registry.all();
      if (forStream !== undefined) {
        const eventSource = forStream.hasAll() ? ALL_STREAM : streamNameOf(forStream.getStream());
        groups = groups.filter((group) => group.eventSource === eventSource);
        if (groups.length === 0) return callback(persistentSubscriptionDoesNotExist(eventSource, ''));
      }
      const response = new persistentPb.ListResp();
      for (const group of groups) response.addSubscriptions(subscriptionInfoOf(group.snapshot(), group.rate));
      callback(null, response);
    })();
  },

  replayParked: (call, callback) => {
    void (async () => {
      const fault = await context.faults.intercept('persistent.replayParked');
      if (fault !== null) return callback(fault);
      const options = call.request.getOptions();
      const { eventSource, groupName } = sourceOf(options);
      const group = registry.get(eventSource, groupName);
      if (group === undefined) return callback(persistentSubscriptionDoesNotExist(eventSource, groupName));
      group.replayParked(options?.hasStopAt() ? BigInt(options.getStopAt()) : null);
      callback(null, new persistentPb.ReplayParkedResp());
    })();
  },

  restartSubsystem: (_call, callback) => {
    void (async () => {
      const fault = await context.faults.intercept('persistent.restartSubsystem');
      if (fault !== null) return callback(fault);
      for (const group of registry.all()) {
        registry.disconnectAll(group, persistentSubscriptionDropped(group.eventSource, group.groupName));
        group.restart(group.settings, group.snapshot().start);
      }
      callback(null, new sharedPb.Empty());
    })();
  },
});
