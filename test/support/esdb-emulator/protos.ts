import { createRequire } from 'node:module';
import type * as AnyPb from 'google-protobuf/google/protobuf/any_pb';
import type * as EmptyPb from 'google-protobuf/google/protobuf/empty_pb';
import type * as PersistentGrpc from '@eventstore/db-client/generated/persistent_grpc_pb';
import type * as PersistentPb from '@eventstore/db-client/generated/persistent_pb';
import type * as ServerFeaturesGrpc from '@eventstore/db-client/generated/serverfeatures_grpc_pb';
import type * as ServerFeaturesPb from '@eventstore/db-client/generated/serverfeatures_pb';
import type * as SharedPb from '@eventstore/db-client/generated/shared_pb';
import type * as StatusPb from '@eventstore/db-client/generated/status_pb';
import type * as StreamsGrpc from '@eventstore/db-client/generated/streams_grpc_pb';
import type * as StreamsPb from '@eventstore/db-client/generated/streams_pb';

/*
 * The service definitions and message classes that ship inside @eventstore/db-client. They are
 * loaded with require() so that the emulator shares the very module instances the client uses:
 * the generated serializers check `instanceof`, and a second copy would fail that check.
 */
const require = createRequire(import.meta.url);
const generated = (name: string): string => `@eventstore/db-client/generated/${name}`;

export const streamsPb = require(generated('streams_pb.js')) as typeof StreamsPb;
export const persistentPb = require(generated('persistent_pb.js')) as typeof PersistentPb;
export const sharedPb = require(generated('shared_pb.js')) as typeof SharedPb;
export const statusPb = require(generated('status_pb.js')) as typeof StatusPb;
export const serverFeaturesPb = require(generated('serverfeatures_pb.js')) as typeof ServerFeaturesPb;
export const streamsGrpc = require(generated('streams_grpc_pb.js')) as typeof StreamsGrpc;
export const persistentGrpc = require(generated('persistent_grpc_pb.js')) as typeof PersistentGrpc;
export const serverFeaturesGrpc = require(generated('serverfeatures_grpc_pb.js')) as typeof ServerFeaturesGrpc;

// google-protobuf resolved from the generated folder, so Any/Empty are the classes status_pb uses.
const requireFromGenerated = createRequire(require.resolve(generated('status_pb.js')));
export const anyPb = requireFromGenerated('google-protobuf/google/protobuf/any_pb.js') as typeof AnyPb;
export const emptyPb = requireFromGenerated('google-protobuf/google/protobuf/empty_pb.js') as typeof EmptyPb;
